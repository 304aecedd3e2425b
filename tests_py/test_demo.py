"""The command line demonstration runs to completion."""

from __future__ import annotations

import subprocess
import sys


def test_python_m_noexpp_demo_exits_zero() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "noexpp", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-2000:])
    assert proc.stdout.strip(), "the demo printed nothing"
    for section in ("a one_for_one supervisor", "a cluster of three nodes",
                    "a distributed supervisor over three nodes", "demo done"):
        assert section in proc.stdout, (section, proc.stdout[-2000:])
