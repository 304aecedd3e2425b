"""examples/native_module, built and run exactly as a user would: ``pip
install`` of a scikit-build-core project whose CMakeLists finds the
installed noexpp (``python -m noexpp --cmake-dir``), then its script, which
supervises the module's C++ behaviors beside a Python one, crashes one and
spawns one on a node process (docs/native-behaviors.md).

Built from a clean copy into a temporary ``--target`` directory, so the
test environment is left as it was.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "native_module"
#: pip's build of the module, generously bounded for a loaded machine.
BUILD_TIMEOUT = 900


@pytest.mark.slow
def test_the_native_module_example_builds_with_pip_and_runs(tmp_path: Path) -> None:
    source = tmp_path / "native_module"
    shutil.copytree(EXAMPLE, source)
    site = tmp_path / "site"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
         "--root-user-action=ignore", "--no-build-isolation", "--no-deps",
         "--target", str(site), str(source)],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    env = dict(os.environ, PYTHONPATH=str(site))
    run = subprocess.run([sys.executable, str(source / "supervise.py")], capture_output=True,
                         text=True, timeout=120, env=env, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    for line in (
        "registered: native.bonjour (cpp), native.counter (cpp), native.hello (cpp)",
        "counter after three casts: 3",
        "hello says: hello, world from alpha | recorder kept: ['hello, world from alpha']",
        "counter crashed: error std::runtime_error: counter asked to crash",
        "counter restarted (restart_count=1), count 0",
        "on a node process: bonjour, le monde from node1",
    ):
        assert line in run.stdout, (line, run.stdout)
