#!/usr/bin/env python3
"""Set noexpp's benchmarks beside the Erlang/OTP anchor and write docs/benchmarks.md.

    python bench/compare.py [--quick] [--passes N] [--no-erlang] [--output PATH]

In one run, on this machine, it

1. installs Debian's ``erlang-base`` when ``erl`` is missing (apt-get),
2. runs the anchor's ``run.sh`` (``<repo>/../shared/anchors/erlang``),
3. runs ``bench/run.py`` (the ``_cpp`` and ``_py`` metrics),

N times each, alternating, and writes the medians as tables: messaging, then
supervision (restart latency, quiet and logged, and simple_one_for_one
start/terminate/shutdown) with a verdict against the targets (C++ at least as
fast as Erlang/OTP's supervisor, Python within 5x), then the cluster
(distributed call and cast between two OS processes, node-down detection)
with a verdict against its targets (C++ remote calls and casts at least as
good as Erlang distribution, node-down on a silent peer faster than Erlang's
tick, Python within 5x), then the distributed supervisor (no Erlang twin;
failover against the targets of its issue: a killed node's children back in
under 2 s, a silent node's in under 3.5 s, no duplicate). When Erlang
cannot be installed or run, the committed anchor figures
(``results/run*.txt``) are used instead and the page says so. Progress goes
to stderr; the page goes to ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchlib import Notes, make_parser, parse_metric_line

REPO = Path(__file__).resolve().parent.parent
ANCHOR = (REPO.parent / "shared" / "anchors" / "erlang").resolve()
RUN_PY = REPO / "bench" / "run.py"
DEFAULT_OUTPUT = REPO / "docs" / "benchmarks.md"
BUILD_DIR = REPO / "build" / "bench"

Values = dict[str, list[float]]  # metric -> one value per pass
BUSY_WARNING = (
    0.2  # CPU share taken by other work, before or during a pass, that makes the page warn
)


@dataclass(frozen=True)
class Row:
    """One line of the main table: an Erlang metric and our twins."""

    label: str
    erlang: str
    cpp: str
    py: str
    unit: str
    higher_is_better: bool
    nearest: bool = False  # no exact Erlang twin: the Erlang figure is the nearest one


@dataclass
class RunInfo:
    """What the page says about the run itself."""

    erlang_source: str = ""
    erlang_version: str = ""
    ours_ok: bool = True
    busy: list[float] = field(default_factory=list)  # CPU share busy before each pass
    other: list[float] = field(default_factory=list)  # CPU share of other work during each pass
    erlang_ran: bool = False  # Erlang ran in this session (not the committed figures)
    revision: str = "unknown"
    engine_changed: bool = False  # the sources or the installed package changed mid-run


ROWS = (
    Row(
        "local_call_rate",
        "local_call_rate",
        "local_call_rate_cpp",
        "local_call_rate_py",
        "calls/s",
        True,
    ),
    Row("local_call_p50", "local_call_p50", "local_call_p50_cpp", "local_call_p50_py", "us", False),
    Row("local_call_p99", "local_call_p99", "local_call_p99_cpp", "local_call_p99_py", "us", False),
    Row(
        "local_cast_rate",
        "local_cast_rate",
        "local_cast_rate_cpp",
        "local_cast_rate_py",
        "msgs/s",
        True,
    ),
)

# Supervision (c_restart.erl, g_one_for_all.erl, d_sofo.erl): our rows are
# judged against the targets, quiet against quiet and logged against logged.
SUP_ROWS = (
    Row(
        "sup_restart_p50",
        "sup_restart_p50",
        "sup_restart_p50_cpp",
        "sup_restart_p50_py",
        "us",
        False,
    ),
    Row(
        "sup_restart_p99",
        "sup_restart_p99",
        "sup_restart_p99_cpp",
        "sup_restart_p99_py",
        "us",
        False,
    ),
    Row(
        "sup_restart_p50_logged",
        "sup_restart_p50_logged",
        "sup_restart_p50_cpp_logged",
        "sup_restart_p50_py_logged",
        "us",
        False,
    ),
    Row(
        "sup_restart_p99_logged",
        "sup_restart_p99_logged",
        "sup_restart_p99_cpp_logged",
        "sup_restart_p99_py_logged",
        "us",
        False,
    ),
    Row(
        "one_for_all_10_p50",
        "one_for_all_10_p50",
        "one_for_all_10_p50_cpp",
        "one_for_all_10_p50_py",
        "us",
        False,
    ),
    Row(
        "one_for_all_10_p99",
        "one_for_all_10_p99",
        "one_for_all_10_p99_cpp",
        "one_for_all_10_p99_py",
        "us",
        False,
    ),
    Row(
        "one_for_all_10_p50_logged",
        "one_for_all_10_p50_logged",
        "one_for_all_10_p50_cpp_logged",
        "one_for_all_10_p50_py_logged",
        "us",
        False,
    ),
    Row(
        "one_for_all_10_p99_logged",
        "one_for_all_10_p99_logged",
        "one_for_all_10_p99_cpp_logged",
        "one_for_all_10_p99_py_logged",
        "us",
        False,
    ),
    Row("sofo_start_10k", "sofo_start_10k", "sofo_start_10k_cpp", "sofo_start_10k_py", "ms", False),
    Row(
        "sofo_terminate_10k",
        "sofo_terminate_10k",
        "sofo_terminate_10k_cpp",
        "sofo_terminate_10k_py",
        "ms",
        False,
    ),
    Row(
        "sofo_shutdown_10k",
        "sofo_shutdown_10k",
        "sofo_shutdown_10k_cpp",
        "sofo_shutdown_10k_py",
        "ms",
        False,
    ),
    Row(
        "sofo_mem_per_child",
        "sofo_mem_per_child",
        "sofo_mem_per_child_cpp",
        "sofo_mem_per_child_py",
        "bytes",
        False,
    ),
)
# The targets of the supervision rows: our time / Erlang's time at most this.
CPP_TARGET = 1.0
PY_TARGET = 5.0
NO_TARGET = {"sofo_mem_per_child"}  # memory is reported, not judged


@dataclass(frozen=True)
class ClusterRow:
    """One line of the cluster table: one of our metrics against the anchor's."""

    ours: str
    erlang: str
    unit: str
    higher_is_better: bool
    # Target: ours at most `limit` times worse than Erlang (1 = at least as
    # good); None = reported, not judged.
    limit: float | None = None
    strict: bool = False  # the target is "better than Erlang", not "at least as good"


# Cluster (e_dist.erl, f_nodedown.erl, tcp_floor.py): between two OS processes
# over 127.0.0.1.
CLUSTER_ROWS = (
    ClusterRow("dist_call_rate_cpp", "dist_call_rate", "calls/s", True, CPP_TARGET),
    ClusterRow("dist_call_p50_cpp", "dist_call_p50", "us", False, CPP_TARGET),
    ClusterRow("dist_call_p99_cpp", "dist_call_p99", "us", False, CPP_TARGET),
    ClusterRow("dist_cast_rate_cpp", "dist_cast_rate", "msgs/s", True, CPP_TARGET),
    ClusterRow("dist_call_rate_py", "dist_call_rate", "calls/s", True, PY_TARGET),
    ClusterRow("dist_call_p50_py", "dist_call_p50", "us", False, PY_TARGET),
    ClusterRow("dist_call_p99_py", "dist_call_p99", "us", False, PY_TARGET),
    ClusterRow("dist_cast_rate_py", "dist_cast_rate", "msgs/s", True, PY_TARGET),
    ClusterRow("nodedown_tick", "nodedown_tick", "ms", False, 1.0, strict=True),
    ClusterRow("nodedown_tick_min", "nodedown_tick_min", "ms", False),
    ClusterRow("nodedown_tick_max", "nodedown_tick_max", "ms", False),
    ClusterRow("down_noconnection_tick", "down_noconnection_tick", "ms", False),
    ClusterRow("nodedown_kill9", "nodedown_kill9", "ms", False),
    ClusterRow("down_noconnection_kill9", "down_noconnection_kill9", "ms", False),
    ClusterRow("tcp_loopback_rtt_p50", "tcp_loopback_rtt_p50", "us", False),
    ClusterRow("tcp_loopback_rtt_p50_1cpu", "tcp_loopback_rtt_p50_1cpu", "us", False),
)
# Erlang figures the cluster section quotes in its text rather than in a row.
CLUSTER_ERLANG_TEXT = ("tick_window_min", "tick_window_max")


@dataclass(frozen=True)
class DsupRow:
    """One line of the distributed-supervision table: one of our metrics (no
    Erlang twin) and the target its issue set, if any."""

    metric: str
    unit: str
    higher_is_better: bool
    limit: float | None = None  # None = reported, not judged
    strict: bool = False  # the target is "under limit", not "at most limit"
    worst: bool = False  # the largest value of the passes, not the median (a count kept at 0)


# Distributed supervision (bench/py_dsup.py): three node OS processes, the
# supervisor on a hidden node in the benchmark; OTP has no distributed supervisor.
DSUP_ROWS = (
    DsupRow("dsup_start_1k_rate", "children/s", True),
    DsupRow("dsup_start_1k", "ms", False),
    DsupRow("dsup_failover_100_kill9", "ms", False, 2000.0, strict=True),
    DsupRow("dsup_failover_100_kill9_duplicates", "count", False, 0.0, worst=True),
    DsupRow("dsup_failover_100_stop", "ms", False, 3500.0, strict=True),
    DsupRow("dsup_failover_100_stop_duplicates", "count", False, 0.0, worst=True),
    DsupRow("dsup_restart_remote_p50", "us", False),
    DsupRow("dsup_restart_remote_p99", "us", False),
)

# Our metrics without an Erlang twin, with what they say.
EXTRAS = {
    "remote_spawn_rate_py": "sequential `spawn_remote` of a Python behavior on another node process (spawns/s)",
    "remote_spawn_rate_cpp": "the same for the built-in C++ behavior `noexpp.probe`",
    "global_register_propagation_p50": "µs from `global_registry.register` on the deciding node until both other nodes resolve the name (3 nodes in one interpreter)",
    "global_register_propagation_p99": "the same, 99th percentile",
    "local_call_rate_cpp_notimeout": "the C++ call loop with infinite call timeouts (no per-call timer armed)",
    "local_call_rate_cpp_blocking": "calls with the blocking `Node::call` from a plain thread (not a process)",
    "local_call_p50_cpp_blocking": "the same, median latency",
    "local_call_p99_cpp_blocking": "the same, 99th percentile",
    "spawn_10k_cpp": "10,000 plain `Node::spawn` of an idle `bench_srv` twin in a row (no supervisor)",
    "spawn_10k_py": "10,000 plain `node.spawn` of an idle Python GenServer in a row (no supervisor)",
    "spawn_100k_cpp": "100,000 plain spawns in a row",
    "spawn_mem_per_process_cpp": "malloc'd bytes (mallinfo2) per process over 100,000 plain spawns",
    "spawn_rss_per_process_cpp": "RSS growth per process over 100,000 spawns (page-granular, includes allocator slack)",
    "spawn_mem_per_process_py": "RSS growth per process over 10,000 plain spawns of a Python GenServer (fresh interpreter)",
    "dist_call_rate_cpp_blocking": "remote calls with the blocking `Node::call` from a plain thread (not a process), C++ server on another OS process",
    "dist_call_p50_cpp_blocking": "the same, median latency",
    "dist_call_p99_cpp_blocking": "the same, 99th percentile",
    "nodedown_kill9_min": "the fastest of the `nodedown_kill9` trials",
    "nodedown_kill9_max": "the slowest of the `nodedown_kill9` trials",
}


log = Notes("compare.py")


def parse_metrics(text: str, values: Values, units: dict[str, str]) -> None:
    """Adds every numeric ``metric value unit`` line of ``text`` to ``values``;
    ``units`` keeps the first unit seen for each metric (of any three-field
    line)."""
    for line in text.splitlines():
        parsed = parse_metric_line(line)
        if parsed is None:
            continue
        metric, value_text, unit = parsed
        units.setdefault(metric, unit)
        try:
            value = float(value_text)
        except ValueError:
            continue
        values.setdefault(metric, []).append(value)


# --------------------------------------------------------------------------
# Erlang


def ensure_erlang() -> str | None:
    """Makes `erl` and `erlc` available; returns why not, or None when they are."""
    if shutil.which("erl") and shutil.which("erlc"):
        return None
    prefix: list[str] = []
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            return "erl is missing and apt-get needs root"
        prefix = ["sudo", "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = prefix + ["apt-get", "install", "-y", "-q", "erlang-base"]
    for attempt in ([install], [prefix + ["apt-get", "update", "-q"], install]):
        ok = True
        for cmd in attempt:
            log(" ".join(cmd))
            if (
                subprocess.run(
                    cmd, stdout=sys.stderr, stderr=sys.stderr, env=env, check=False
                ).returncode
                != 0
            ):
                ok = False
                break
        if ok and shutil.which("erl") and shutil.which("erlc"):
            return None
    return "apt-get install erlang-base failed"


def erlang_version() -> str:
    expr = 'io:format("OTP ~s, ERTS ~s", [erlang:system_info(otp_release), erlang:system_info(version)]), halt().'
    try:
        return (
            subprocess.run(
                ["erl", "-noshell", "-eval", expr],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            ).stdout.strip()
            or "unknown"
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def run_erlang_pass(into: Values, units: dict[str, str]) -> bool:
    """One pass of the anchor's run.sh; compiled modules go to a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="noexpp-erl-") as ebin:
        log(f"running {ANCHOR / 'run.sh'}")
        proc = subprocess.run(
            ["bash", str(ANCHOR / "run.sh")],
            cwd=ANCHOR,
            capture_output=True,
            text=True,
            env=dict(os.environ, EBIN=ebin),
            timeout=1800,
            check=False,
        )
    sys.stderr.write(proc.stderr)
    parse_metrics(proc.stdout, into, units)
    if proc.returncode != 0:
        log(f"run.sh exited with status {proc.returncode}")
    return proc.returncode == 0 and bool(proc.stdout.strip())


def committed_erlang(into: Values, units: dict[str, str]) -> list[Path]:
    files = sorted((ANCHOR / "results").glob("run*.txt"))
    for f in files:
        parse_metrics(f.read_text(), into, units)
    return files


# --------------------------------------------------------------------------
# noexpp


def run_ours_pass(quick: bool, into: Values, units: dict[str, str]) -> bool:
    cmd = [sys.executable, str(RUN_PY)] + (["--quick"] if quick else [])
    log(" ".join(cmd))
    proc = subprocess.run(
        cmd, cwd=REPO, stdout=subprocess.PIPE, text=True, timeout=1800, check=False
    )
    parse_metrics(proc.stdout, into, units)
    if proc.returncode != 0:
        log(f"run.py exited with status {proc.returncode}")
    return proc.returncode == 0


def cpu_busy(seconds: float = 1.0) -> float | None:
    """Share of CPU time (0..1) spent busy over `seconds`, from /proc/stat.

    Sampled before each pass: another build or test running meanwhile moves
    every figure, and the page says so rather than hiding it.
    """

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    total = total1 - total0
    return None if total <= 0 else 1 - (idle1 - idle0) / total


def busy_cpu_seconds() -> float | None:
    """CPU seconds spent busy (all CPUs, everything on the machine) since boot."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def own_cpu_seconds() -> float:
    """CPU seconds used by this script's finished children (run.sh, erl, run.py, ...)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class OtherLoad:
    """The share of the machine's CPU that went to other work since creation:
    all busy CPU time minus what this script's own children used."""

    def __init__(self) -> None:
        self.busy0, self.own0, self.t0 = busy_cpu_seconds(), own_cpu_seconds(), time.monotonic()

    def share(self) -> float | None:
        busy1, own1, wall = busy_cpu_seconds(), own_cpu_seconds(), time.monotonic() - self.t0
        if self.busy0 is None or busy1 is None or wall <= 0:
            return None
        other = (busy1 - self.busy0) - (own1 - self.own0)
        return max(0.0, other) / (wall * (os.cpu_count() or 1))


def revision() -> str:
    """The commit measured, marked when the engine or package sources differ from it."""
    head = first_line(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = first_line(["git", "-C", str(REPO), "status", "--porcelain", "--", "cpp", "python"])
    return head + (" with uncommitted changes in cpp/ or python/" if dirty != "unknown" else "")


def engine_fingerprint() -> str:
    """Changes whenever the engine sources or the installed package change."""
    h = hashlib.sha256()
    for cmd in (
        ["git", "-C", str(REPO), "rev-parse", "HEAD"],
        ["git", "-C", str(REPO), "diff", "HEAD", "--", "cpp", "python"],
    ):
        try:
            h.update(subprocess.run(cmd, capture_output=True, timeout=60, check=False).stdout)
        except (OSError, subprocess.TimeoutExpired):
            pass
    code = "import noexpp._core as c, os; print(c.__file__, os.stat(c.__file__).st_mtime_ns)"
    h.update(first_line([sys.executable, "-c", code]).encode())
    return h.hexdigest()


# --------------------------------------------------------------------------
# Facts about the machine, for the page's header


@dataclass(frozen=True)
class Machine:
    """What the page says about the machine and the software measured,
    gathered once when the page is written (see :func:`machine_facts`)."""

    now: str  # "YYYY-MM-DD HH:MM UTC"
    cpu: str
    nproc: int | None
    os: str
    kernel: str
    compiler: str
    python: str
    noexpp: str


def machine_facts() -> Machine:
    """This machine's facts, now."""
    return Machine(
        now=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        cpu=cpu_model(),
        nproc=os.cpu_count(),
        os=os_name(),
        kernel=platform.release(),
        compiler=compiler(),
        python=platform.python_version(),
        noexpp=noexpp_version(),
    )


def first_line(cmd: Sequence[str]) -> str:
    """The first line ``cmd`` prints, or "unknown"."""
    try:
        out = subprocess.run(
            list(cmd), capture_output=True, text=True, timeout=30, check=False
        ).stdout
        return out.splitlines()[0].strip() if out else "unknown"
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "unknown"


def compiler() -> str:
    """``--version`` of the C++ compiler noexpp_bench was configured with."""
    cache = BUILD_DIR / "CMakeCache.txt"
    cxx = "c++"
    if cache.exists():
        m = re.search(r"^CMAKE_CXX_COMPILER:\w+=(.+)$", cache.read_text(), re.MULTILINE)
        if m:
            cxx = m.group(1).strip()
    return first_line([cxx, "--version"])


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def os_name() -> str:
    """The distribution's pretty name (/etc/os-release)."""
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def noexpp_version() -> str:
    """The version of the installed noexpp package, asked in a fresh interpreter."""
    code = "import noexpp; print(getattr(noexpp, '__version__', 'unknown'))"
    return first_line([sys.executable, "-c", code])


# --------------------------------------------------------------------------
# Cells: figures, ratios and verdicts


def median(values: Values, metric: str) -> float | None:
    """The median over the passes of ``metric``; None when it has no value."""
    v = values.get(metric)
    return statistics.median(v) if v else None


def fmt(value: float | None) -> str:
    """A figure for a table: thousands without decimals, else 3-4 significant digits."""
    if value is None:
        return "n/a"
    if value >= 1000 or float(value).is_integer():
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.1f}"
    return f"{value:.2f}"


def spread(values: Values, metric: str) -> str:
    """``min .. max`` over the passes; empty with fewer than two."""
    v = values.get(metric) or []
    return "" if len(v) < 2 else f"{min(v):.4g} .. {max(v):.4g}"


def better(higher_is_better: bool) -> str:
    """Which way is better, as the "better" column says it."""
    return "higher" if higher_is_better else "lower"


def ratio_cell(ours: float | None, erlang: float | None, higher_is_better: bool) -> str:
    """``ours / erlang`` with the words saying which side is ahead and by how much."""
    if ours is None or erlang is None or erlang == 0 or ours == 0:
        return "n/a"
    r = ours / erlang
    ahead = r > 1 if higher_is_better else r < 1
    factor = r if r >= 1 else 1 / r
    if 0.95 <= r <= 1.05:
        verdict = "on par"
    elif ahead:
        verdict = f"{factor:.1f}x better"
    else:
        verdict = f"{factor:.1f}x worse"
    return f"{r:.2f} ({verdict})"


def verdict_cell(row: Row, ours: float | None, erlang: float | None, limit: float) -> str:
    """Met or missed against a target of `limit` x Erlang's time."""
    if row.erlang in NO_TARGET:
        return "no target"
    if ours is None or erlang is None or erlang == 0:
        return "n/a"
    return "met" if ours / erlang <= limit else "**missed**"


def cluster_target(row: ClusterRow) -> str:
    """The target of a cluster row, in words."""
    if row.limit is None:
        return "reported"
    if row.limit == 1.0:
        if row.strict:
            return "faster than Erlang" if not row.higher_is_better else "above Erlang"
        return ">= Erlang" if row.higher_is_better else "<= Erlang"
    return f"within {row.limit:g}x"


def cluster_verdict(row: ClusterRow, ours: float | None, erlang: float | None) -> str:
    """Met or missed: how many times worse than Erlang ours is, against the row's limit."""
    if row.limit is None:
        return "no target"
    if ours is None or erlang is None or erlang == 0 or ours == 0:
        return "n/a"
    worse = erlang / ours if row.higher_is_better else ours / erlang
    met = worse < row.limit if row.strict else worse <= row.limit
    return "met" if met else "**missed**"


# --------------------------------------------------------------------------
# Page building blocks: every section is a list of lines


def heading(title: str) -> list[str]:
    """A heading with a blank line before and after it."""
    return ["", title, ""]


def table_row(cells: Sequence[str]) -> str:
    """``| a | b | c |``."""
    return "| " + " | ".join(cells) + " |"


def table(columns: Sequence[str], align: str, rows: Iterable[Sequence[str]]) -> list[str]:
    """A Markdown table; ``align`` has one letter per column, ``l`` or ``r``."""
    rule = "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"
    return [table_row(columns), rule, *(table_row(cells) for cells in rows)]


def table_section(
    title: str,
    intro: str | None,
    columns: Sequence[str],
    align: str,
    rows: Iterable[Sequence[str]],
    notes: Sequence[str] = (),
) -> list[str]:
    """A section of the page: its heading, an intro paragraph (if any), a
    table (see :func:`table`), then one paragraph per note."""
    lines = heading(title)
    if intro is not None:
        lines += [intro, ""]
    lines += table(columns, align, rows)
    for note in notes:
        lines += ["", note]
    return lines


def command_line(args: argparse.Namespace) -> str:
    """The compare.py command that made the page."""
    return (
        f"python bench/compare.py{' --quick' if args.quick else ''}"
        f"{f' --passes {args.passes}' if args.passes != 1 else ''}"
        f"{' --no-erlang' if args.no_erlang else ''}"
    )


def percent_list(shares: Sequence[float]) -> str:
    """``10%, 50%``, or n/a for none."""
    return ", ".join(f"{b:.0%}" for b in shares) or "n/a"


# --------------------------------------------------------------------------
# The page's sections, in order


def title_section(args: argparse.Namespace, info: RunInfo, machine: Machine) -> list[str]:
    """The title, how the page was made, and a paragraph for each reason to distrust it."""
    lines = [
        "# Benchmarks: noexpp against Erlang/OTP",
        "",
        f"Generated by `{command_line(args)}` on {machine.now}; do not edit by hand.",
        "Every figure is a median over the passes of this run; no benchmark asserts a timing.",
    ]
    for warning in run_warnings(args, info):
        lines += ["", warning]
    return lines


def run_warnings(args: argparse.Namespace, info: RunInfo) -> list[str]:
    """The bold warnings about this run: quick, failed, changed code, busy machine."""
    warnings = []
    if args.quick:
        warnings.append(
            "**Quick run** (`--quick`): 10x fewer calls, casts and measured restarts than the full run, so the "
            "noexpp figures are rougher than Erlang's."
        )
    if not info.ours_ok:
        warnings.append(
            "**Some noexpp benchmarks failed in this run**; their cells read n/a (see the run's stderr)."
        )
    if info.engine_changed:
        warnings.append(
            "**The engine or the installed package changed during this run**, so the passes "
            "measured different code; rerun once the sources are settled."
        )
    worst = max(info.busy + info.other, default=0.0)
    if worst > BUSY_WARNING:
        warnings.append(
            f"**The machine was not idle**: up to {worst:.0%} of the CPU went to other work "
            "before or during a pass, so these figures (Erlang's and ours alike) are disturbed. "
            "Rerun on a quiet machine."
        )
    return warnings


def machine_section(args: argparse.Namespace, info: RunInfo, machine: Machine) -> list[str]:
    """## Machine: hardware, software, the Erlang source and the passes."""
    lines = heading("## Machine") + [
        f"- CPU: {machine.cpu}, `nproc` = {machine.nproc}",
        f"- OS: {machine.os}, kernel {machine.kernel}",
        f"- Date: {machine.now}",
        f"- Compiler: {machine.compiler} (CMake Release build of `noexpp_bench`)",
        f"- Python: {machine.python}, noexpp {machine.noexpp}, commit {info.revision}",
        f"- Erlang: {info.erlang_source}; {info.erlang_version}",
        f"- Passes: {args.passes}; engine threads per node: 2; Erlang VM with its defaults (2 schedulers)",
    ]
    if info.busy or info.other:
        lines.append(
            "- CPU share taken by other work, per pass: just before it (1 s sample) "
            f"{percent_list(info.busy)}; during it (all busy CPU time "
            f"minus this run's own) {percent_list(info.other)}"
        )
    return lines


def messaging_row(row: Row, erl: Values, ours: Values) -> list[str]:
    """The cells of one row of the messaging table."""
    e, c, p = median(erl, row.erlang), median(ours, row.cpp), median(ours, row.py)
    label, erl_cell = f"`{row.label}`", fmt(e)
    if row.nearest:
        label += f" (nearest Erlang figure: `{row.erlang}`)"
        erl_cell += "*"
    return [
        label,
        erl_cell,
        fmt(c),
        fmt(p),
        row.unit,
        better(row.higher_is_better),
        ratio_cell(c, e, row.higher_is_better),
        ratio_cell(p, e, row.higher_is_better),
    ]


def messaging_section(erl: Values, ours: Values) -> list[str]:
    """## Results: local calls and casts, both languages beside Erlang."""
    intro = (
        "Ratio = noexpp / Erlang. For rates higher is better, so a ratio above 1 means noexpp is ahead; "
        "for latencies, times and bytes lower is better, so a ratio below 1 means noexpp is ahead. "
        "The words in brackets say which way it went."
    )
    columns = [
        "metric",
        "Erlang/OTP",
        "noexpp C++ (`_cpp`)",
        "noexpp Python (`_py`)",
        "unit",
        "better",
        "C++ / Erlang",
        "Python / Erlang",
    ]
    rows = (messaging_row(row, erl, ours) for row in ROWS)
    nearest = any(row.nearest for row in ROWS)
    notes = ["\\* No exact Erlang twin: the Erlang figure is the nearest one."] if nearest else []
    return table_section("## Results", intro, columns, "lrrrllll", rows, notes)


def supervision_row(row: Row, erl: Values, ours: Values) -> list[str]:
    """The cells of one row of the supervision table, with both verdicts."""
    e, c, p = median(erl, row.erlang), median(ours, row.cpp), median(ours, row.py)
    return [
        f"`{row.label}`",
        fmt(e),
        fmt(c),
        fmt(p),
        row.unit,
        ratio_cell(c, e, row.higher_is_better),
        ratio_cell(p, e, row.higher_is_better),
        verdict_cell(row, c, e, CPP_TARGET),
        verdict_cell(row, p, e, PY_TARGET),
    ]


def supervision_section(erl: Values, ours: Values) -> list[str]:
    """## Supervision: restarts and simple_one_for_one, judged against the targets."""
    intro = (
        f"Targets: noexpp's C++ behaviors at least as fast as Erlang/OTP's supervisor in every row "
        f"(C++ / Erlang at most {CPP_TARGET:g}), Python behaviors within {PY_TARGET:g}x (Python / Erlang "
        f"at most {PY_TARGET:g}); quiet rows against quiet ones, `_logged` rows against `_logged` ones. "
        "Lower is better in every row."
    )
    columns = [
        "metric",
        "Erlang/OTP",
        "noexpp C++",
        "noexpp Python",
        "unit",
        "C++ / Erlang",
        "Python / Erlang",
        f"C++ target (<= {CPP_TARGET:g}x)",
        f"Python target (<= {PY_TARGET:g}x)",
    ]
    rows = (supervision_row(row, erl, ours) for row in SUP_ROWS)
    logging_note = (
        "Crash logging: Erlang's quiet runs use `-kernel logger_level none`, its `_logged` runs OTP's "
        "default handler writing to `/dev/null` (three reports per crash: gen_server error, proc_lib crash "
        "report, supervisor child_terminated). noexpp's quiet runs set the engine's log level to `off`; "
        "its `_logged` runs keep crash logging on (C++: level `error`; Python: the engine's default level) "
        "with file descriptor 2 sent to a temporary file, one `process ... crashed: ...` line (about 135 "
        "bytes) per crashed process. The `sofo_*` paths crash nothing and log nothing on either side, so "
        "they have no `_logged` rows."
    )
    return table_section("## Supervision", intro, columns, "lrrrlllll", rows, [logging_note])


def tick_window(erl: Values) -> str:
    """The clause quoting Erlang's theoretical tick window, when the anchor measured it."""
    if median(erl, "tick_window_min") is None:
        return ""
    return (
        f", whose theoretical window is {fmt(median(erl, 'tick_window_min'))} to "
        f"{fmt(median(erl, 'tick_window_max'))} ms"
    )


def cluster_row(row: ClusterRow, erl: Values, ours: Values) -> list[str]:
    """The cells of one row of the cluster table, with its target and verdict."""
    e, o = median(erl, row.erlang), median(ours, row.ours)
    return [
        f"`{row.ours}`",
        fmt(e),
        fmt(o),
        row.unit,
        better(row.higher_is_better),
        ratio_cell(o, e, row.higher_is_better),
        cluster_target(row),
        cluster_verdict(row, o, e),
    ]


def cluster_section(erl: Values, ours: Values) -> list[str]:
    """## Cluster: remote calls and casts, node-down detection, the TCP floor."""
    intro = (
        "Two OS processes on 127.0.0.1 (Erlang: two `erl` nodes; noexpp: two nodes, each in its own OS process). "
        f"Targets: C++ remote calls and casts at least as good as Erlang distribution (rate at least "
        f"Erlang's, latency at most Erlang's), Python behaviors within {PY_TARGET:g}x; a silent (SIGSTOPped) "
        "peer detected faster than Erlang does, noexpp with its default failure detector (heartbeats "
        "every 0.2 s, phi threshold 8, acceptable pause 0.8 s) against Erlang at `net_ticktime 4`, its "
        "practical minimum as the anchor runs it"
        + tick_window(erl)
        + " (Erlang's default `net_ticktime` of 60 s takes 45 to 75 s). The `kill -9` and TCP-floor rows "
        "are reported, not judged."
    )
    columns = [
        "metric",
        "Erlang/OTP",
        "noexpp",
        "unit",
        "better",
        "noexpp / Erlang",
        "target",
        "verdict",
    ]
    rows = (cluster_row(row, erl, ours) for row in CLUSTER_ROWS)
    sides_note = (
        "The `_cpp` rows are C++ behaviors on both nodes (the caller a C++ process); the `_py` rows "
        "Python behaviors on both (the caller the main thread with `ref.call`). The `nodedown_*` and "
        "`down_noconnection_*` rows are the engine's failure detection, observed from a node in the "
        "benchmark's interpreter; the `tcp_loopback_*` rows run the anchor's `tcp_floor.py` method "
        "on both sides (Python, not Erlang): the raw TCP round trip any transport faces on this machine."
    )
    return table_section("## Cluster", intro, columns, "lrrlllll", rows, [sides_note])


def dsup_value(row: DsupRow, ours: Values) -> float | None:
    """The figure of a distributed-supervision row: the median over the
    passes, or the largest value for a ``worst`` row."""
    v = ours.get(row.metric)
    if row.worst:
        return max(v) if v else None
    return median(ours, row.metric)


def dsup_target(row: DsupRow) -> str:
    """The target of a distributed-supervision row, in words."""
    if row.limit is None:
        return "reported"
    if row.strict:
        return f"under {fmt(row.limit)} {row.unit}"
    return "0" if row.limit == 0 else f"at most {fmt(row.limit)} {row.unit}"


def dsup_verdict(row: DsupRow, value: float | None) -> str:
    """Met or missed against the row's limit."""
    if row.limit is None:
        return "no target"
    if value is None:
        return "n/a"
    met = value < row.limit if row.strict else value <= row.limit
    return "met" if met else "**missed**"


def dsup_section(ours: Values) -> list[str]:
    """## Distributed supervision: start, failover and remote restart, no Erlang twin."""
    intro = (
        "No Erlang twin: OTP has no distributed supervisor (`global` and application failover move "
        "whole applications, after `net_ticktime`). Three node OS processes on 127.0.0.1 with "
        "Python behaviors; the supervisor runs on a hidden node in the benchmark's interpreter and "
        "places the children on the three node processes; default settings throughout (lease 1.0 "
        "s, heartbeats every 0.2 s, phi threshold 8, acceptable pause 0.8 s). Targets: a SIGKILLed "
        "node's 100 children answering on the survivors in under 2.0 s, a SIGSTOPped (silent) "
        "node's in under 3.5 s, and no duplicate copy of any child. The `_duplicates` rows show "
        "the largest figure of any pass (each the sum over that pass's trials); the others the "
        "median over the passes. The start and restart rows are reported, not judged."
    )
    rows = []
    for row in DSUP_ROWS:
        value = dsup_value(row, ours)
        rows.append(
            [
                f"`{row.metric}`",
                fmt(value),
                row.unit,
                better(row.higher_is_better),
                dsup_target(row),
                dsup_verdict(row, value),
            ]
        )
    columns = ["metric", "noexpp", "unit", "better", "target", "verdict"]
    return table_section("## Distributed supervision", intro, columns, "lrllll", rows)


# One bullet per family of metrics: how its figures are taken, ours beside the anchor's.
METHOD_NOTES = (
    (
        "- `local_call_*`: one caller and one server on the same node, as `a_call.erl`. In C++ the caller "
        "is itself a process (a GenServer running a `noexpp::Task` coroutine that loops "
        '`co_await call(server, "ping")`); 1,000,000 untimed calls (or 5 s) for the rate after '
        "10,000 warm-up calls, then 1,000,000 calls with a `steady_clock` reading around each "
        "`co_await` for the percentiles (nearest rank, as `bench_util:pct/2`). In Python the caller is "
        'the main thread using `ref.call("ping")` (blocking, GIL released while waiting) on a Python '
        "GenServer: 100,000 calls (or 5 s) each for the rate and for the percentiles."
    ),
    (
        "- `local_cast_rate`: as `b_cast.erl`, casts then one `count` call answered after all of them, "
        "timed from the first cast to the reply: 2,000,000 casts from a C++ caller process; 200,000 "
        "`ref.cast` from Python."
    ),
    (
        "- `sup_restart_*` (`c_restart.erl`): a one_for_one supervisor (intensity 1,000,000 per second) with "
        "one permanent worker registered as `worker`; a cast makes its handler throw (C++) / raise (Python). "
        "Timed from just before that cast until the restarted worker has reported from its `init` (the name "
        "is registered before `init` runs) and, looked up by name, answered a `ping` call. 10 warm-up "
        "crashes, then 1,000 measured. In C++ the harness is a process, as in Erlang: `init` sends it "
        '`("up", name, pid)` and it calls the worker with `co_await call(...)`. In Python the harness is '
        'likewise a (Python) process: `init` sends it `("up", name, ref)` and its `async def handle_info` '
        'calls the worker with `await ref.call_async("ping")`.'
    ),
    (
        "- `one_for_all_10_*` (`g_one_for_all.erl`): the same with a one_for_all supervisor of ten registered "
        "workers `w1`..`w10`; `w5` is crashed; timed until all ten new workers have reported and each "
        "answered a call by name. 5 warm-up rounds, then 100 measured."
    ),
    (
        "- `sofo_*` (`d_sofo.erl`): a simple_one_for_one supervisor of permanent `bench_srv` twins driven from "
        "the main thread: 10,000 sequential `start_child(args)`, 10,000 sequential `terminate_child(pid)`, "
        "then the supervisor's `stop()` with 10,000 children (started again, untimed), until it has exited. "
        "`sofo_mem_per_child`: Erlang: growth of `erlang:memory(processes)` per child (child processes "
        "plus the supervisor's bookkeeping); C++: growth of `mallinfo2()` `uordblks + hblkhd` (bytes handed "
        "out by malloc) per child; Python: growth of the resident set per child (fresh interpreter). The "
        "three measure different things, so that row is reported, not judged."
    ),
    (
        "- `dist_call_*`, `dist_cast_rate` (`e_dist.erl`): node `bench_a` (the benchmark) starts node "
        "`bench_b` as a second OS process (C++: `noexpp_bench --serve-node`; Python: `python -m noexpp "
        "node --import bench_server`), connects, spawns a `bench_srv` twin there by behavior name (as "
        "`rpc:call(B, bench_srv, start, [])`) and calls it: 10,000 warm-up calls, 100,000 untimed calls for "
        "the rate, 100,000 calls with a clock reading around each for p50 / p99 (nearest rank); then "
        "500,000 casts and one `count` call to a fresh server, timed from the first cast to the reply. "
        "Each loop stops after 60 s as in the anchor. C++: the caller is a process (`co_await call(...)` "
        "in a `noexpp::Task`), as in Erlang. Python: the main thread with `ref.call` / `ref.cast`, a "
        "tenth of those counts (1,000 warm-up, 10,000 and 10,000 calls, 50,000 casts)."
    ),
    (
        "- `nodedown_*`, `down_noconnection_*` (`f_nodedown.erl`): per trial a fresh peer node process "
        "(`python -m noexpp node`, default failure detection) and a fresh observer node in the benchmark "
        "(defaults too); the observer connects, spawns a `bench_srv` on the peer, subscribes to "
        "`node_down` and monitors that process, waits 100 ms plus a random 0..1000 ms, then signals the "
        "peer with `os.kill` (no fork on the timed path): SIGKILL (`_kill9`: the kernel closes the socket) "
        "or SIGSTOP (`_tick`: the socket stays open and only the heartbeats reveal the failure). Time from "
        "just before the signal to the node_down event's `monotonic` stamp (the engine's steady clock when "
        "it emitted the event), and to the monitor's noconnection callback. 20 trials of each kind, median "
        "(nearest rank), with the extremes as `_min` / `_max`. Erlang: 5 trials per pass at `net_ticktime "
        "4`, the kill sent from an already running shell."
    ),
    (
        "- `tcp_loopback_rtt_p50` (`tcp_floor.py`): 32-byte ping-pong with TCP_NODELAY between two OS "
        "processes, 20,000 round trips, p50; `_1cpu` with both pinned to CPU 0. The same Python code on "
        "both sides."
    ),
    (
        "- `dsup_*` (no Erlang twin; `bench/py_dsup.py`): per trial a fresh `LocalCluster` of "
        "three `python -m noexpp node` processes importing the child behavior, the supervisor on "
        "the cluster's hidden controller node in the benchmark, a callable node selector spreading "
        "the children over the three node processes (cluster startup untimed). `dsup_start_1k`: "
        "`start_distributed_supervisor` with a static list of 1,000 children; the rate is 1,000 / "
        "the time until it returned (every `init` ran), the time runs until every child answered a "
        "call (5 trials, median). `dsup_failover_100_*`: 300 children, 100 per node; after a "
        "random 0.1..1.1 s the first node process gets SIGKILL (`os.kill`) or SIGSTOP; timed until "
        "each of its 100 children, announced by a `child_migrated` event, answered a call on a "
        "survivor (10 trials, median). Then every child must answer `whoami` from a survivor, and "
        "the live nodes' process counts less their baselines must add up to the 300 children (a "
        "SIGSTOPped node is continued first and awaited back at its baseline, at most 30 s): every "
        "process beyond is counted in `_duplicates`. `dsup_restart_remote_*`: one child on a node "
        "process, intensity 1,000,000 per second; from just before the cast that makes it raise "
        "until its replacement (from the `child_restarted` event) answered a call; 10 warm-up "
        "crashes, then 200 measured, nearest rank."
    ),
    (
        "- `spawn_*` (extra figures below): plain `Node::spawn` (C++) / `node.spawn` (Python) of an idle "
        "`bench_srv` twin, 10,000 in a row, each returning after the process's `init` ran; memory per "
        "process from `mallinfo2()` over 100,000 spawns (C++) or the resident set over 10,000 (Python)."
    ),
)


def method_section() -> list[str]:
    """### How the figures are taken (fixed text)."""
    return heading("### How the figures are taken") + list(METHOD_NOTES)


def anchor_section(erl: Values, committed: Values, units: dict[str, str]) -> list[str]:
    """### This machine today against the committed anchor: every Erlang
    figure of the tables, this run's beside the committed one."""
    intro = (
        "Erlang measured in this run next to the committed anchor figures "
        "(`shared/anchors/erlang/results/`, median of 3 passes). A ratio far from 1 means the "
        "machine (or its host) is faster or slower today than when the anchor was taken; "
        "the comparison above stays fair because both sides ran in the same session."
    )
    cluster_erl = list(dict.fromkeys(r.erlang for r in CLUSTER_ROWS))
    rows = []
    for m in [r.erlang for r in ROWS + SUP_ROWS] + cluster_erl:
        now_v, then_v = median(erl, m), median(committed, m)
        r = f"{now_v / then_v:.2f}" if now_v is not None and then_v else "n/a"
        rows.append([f"`{m}`", fmt(now_v), fmt(then_v), units.get(m, ""), r])
    return table_section(
        "### This machine today against the committed anchor",
        intro,
        ["metric", "this run", "committed anchor", "unit", "this run / anchor"],
        "lrrlr",
        rows,
    )


def extras_section(ours: Values, units: dict[str, str]) -> list[str]:
    """## Extra noexpp figures (no Erlang twin); nothing when none was measured."""
    extras = [m for m in EXTRAS if m in ours]
    if not extras:
        return []
    rows = [[f"`{m}`", fmt(median(ours, m)), units.get(m, ""), EXTRAS[m]] for m in extras]
    return table_section(
        "## Extra noexpp figures (no Erlang twin)",
        None,
        ["metric", "value", "unit", "what"],
        "lrll",
        rows,
    )


def erlang_only_section(erl: Values, units: dict[str, str]) -> list[str]:
    """## Erlang figures without a noexpp counterpart yet; nothing when there are none."""
    used = (
        {r.erlang for r in ROWS + SUP_ROWS}
        | {r.erlang for r in CLUSTER_ROWS}
        | set(CLUSTER_ERLANG_TEXT)
    )
    rest = [m for m in erl if m not in used]
    if not rest:
        return []
    intro = (
        "Measured in the same run, without a twin on our side yet. "
        "See `shared/anchors/erlang/RESULTS.md` for what each one measures."
    )
    rows = [[f"`{m}`", fmt(median(erl, m)), units.get(m, "")] for m in rest]
    return table_section(
        "## Erlang figures without a noexpp counterpart yet",
        intro,
        ["metric", "Erlang/OTP", "unit"],
        "lrl",
        rows,
    )


def spread_section(erl: Values, ours: Values) -> list[str]:
    """## Spread across passes (min .. max), for the messaging, supervision,
    cluster and distributed-supervision rows."""
    local_rows = [
        [
            f"`{row.label}`",
            spread(erl, row.erlang),
            spread(ours, row.cpp),
            spread(ours, row.py),
            row.unit,
        ]
        for row in ROWS + SUP_ROWS
    ]
    cluster_rows = [
        [f"`{crow.ours}`", spread(erl, crow.erlang), spread(ours, crow.ours), crow.unit]
        for crow in CLUSTER_ROWS
    ] + [[f"`{row.metric}`", "", spread(ours, row.metric), row.unit] for row in DSUP_ROWS]
    return (
        heading("## Spread across passes (min .. max)")
        + table(
            ["metric", "Erlang/OTP", "noexpp C++", "noexpp Python", "unit"], "lllll", local_rows
        )
        + [""]
        + table(["metric", "Erlang/OTP", "noexpp", "unit"], "llll", cluster_rows)
    )


def reproduce_section() -> list[str]:
    """## How to reproduce (fixed text), ending the page with a newline."""
    return heading("## How to reproduce") + [
        (
            "From the repository root, with the `noexpp` package installed (`pip install .`) and the C++ "
            "toolchain (CMake, Ninja, g++ and the Debian packages listed in DESIGN.md §9):"
        ),
        "",
        "```sh",
        "python bench/run.py              # every metric, ~5 min; prints `metric value unit` lines",
        "python bench/run.py --quick      # 10x fewer calls, casts and restarts, about a minute",
        "python bench/run.py dist_ nodedown down_ tcp_   # only the cluster metrics",
        "python bench/run.py dsup_        # only the distributed-supervisor metrics",
        "python bench/run.py local_call   # only metrics starting with local_call (any prefix works)",
        "python bench/run.py --json out.json",
        "python bench/compare.py          # Erlang anchor + run.py, then rewrites docs/benchmarks.md",
        "python bench/compare.py --passes 3   # medians of 3 alternating passes",
        "```",
        "",
        (
            "`run.py` builds `noexpp_bench` first (`cmake -S . -B build/bench -G Ninja -DNOEXPP_BUILD_BENCH=ON "
            "-DCMAKE_BUILD_TYPE=Release`, ccache when present; `cmake --build build/bench --target "
            "noexpp_bench -j 2`). `compare.py` installs Debian's `erlang-base` when `erl` is missing and "
            "runs `../shared/anchors/erlang/run.sh` (one full anchor pass, about a minute, including the "
            "distribution tests); with `--no-erlang`, or when Erlang cannot be installed, it uses the "
            "committed anchor figures in `../shared/anchors/erlang/results/run*.txt` instead."
        ),
        "",
    ]


def committed_anchor() -> Values:
    """The committed anchor figures (``results/run*.txt``), one value per file."""
    committed: Values = {}
    committed_erlang(committed, {})
    return committed


def render(
    args: argparse.Namespace,
    erl: Values,
    ours: Values,
    units: dict[str, str],
    info: RunInfo,
    machine: Machine,
) -> str:
    """The whole page (docs/benchmarks.md) for the figures of a run."""
    sections = [
        title_section(args, info, machine),
        machine_section(args, info, machine),
        messaging_section(erl, ours),
        supervision_section(erl, ours),
        cluster_section(erl, ours),
        dsup_section(ours),
        method_section(),
        anchor_section(erl, committed_anchor(), units) if info.erlang_ran else [],
        extras_section(ours, units),
        erlang_only_section(erl, units),
        spread_section(erl, ours) if args.passes > 1 else [],
        reproduce_section(),
    ]
    return "\n".join(line for section in sections for line in section)


def summary_lines(erl: Values, ours: Values) -> list[str]:
    """One line per table row for stderr: the medians side by side (cluster
    and distributed-supervision rows with their verdict)."""
    lines = [
        f"{row.label}: erlang={fmt(median(erl, row.erlang))} cpp={fmt(median(ours, row.cpp))} "
        f"py={fmt(median(ours, row.py))} {row.unit}"
        for row in ROWS + SUP_ROWS
    ]
    for crow in CLUSTER_ROWS:
        e, o = median(erl, crow.erlang), median(ours, crow.ours)
        lines.append(
            f"{crow.ours}: erlang={fmt(e)} ours={fmt(o)} {crow.unit} ({cluster_verdict(crow, o, e)})"
        )
    for drow in DSUP_ROWS:
        v = dsup_value(drow, ours)
        lines.append(f"{drow.metric}: ours={fmt(v)} {drow.unit} ({dsup_verdict(drow, v)})")
    return lines


def wait_for_quiet(wait_idle: float) -> float | None:
    """The CPU's busy share now, after waiting up to ``wait_idle`` seconds for
    it to drop to BUSY_WARNING; None when it cannot be read."""
    load = cpu_busy()
    waited_until = time.monotonic() + wait_idle
    while load is not None and load > BUSY_WARNING and time.monotonic() < waited_until:
        log(f"CPU {load:.0%} busy with other work; waiting for it to quieten")
        time.sleep(4)
        load = cpu_busy()
    return load


def run_pass(
    i: int,
    args: argparse.Namespace,
    run_erl: bool,
    erl: Values,
    ours: Values,
    units: dict[str, str],
    info: RunInfo,
) -> None:
    """Pass ``i``: Erlang (when it runs), then ours, noting how busy the machine was."""
    load = wait_for_quiet(args.wait_idle)
    if load is not None:
        info.busy.append(load)
    log(
        f"pass {i + 1} of {args.passes}"
        + ("" if load is None else f" (CPU busy before it: {load:.0%})")
    )
    during = OtherLoad()
    if run_erl:
        try:
            if not run_erlang_pass(erl, units):
                log("the Erlang pass failed")
        except subprocess.TimeoutExpired:
            log("the Erlang pass timed out")
    info.ours_ok = run_ours_pass(args.quick, ours, units) and info.ours_ok
    other = during.share()
    if other is not None:
        info.other.append(other)
        log(f"other work took {other:.0%} of the CPU during pass {i + 1}")


def settle_erlang_source(
    args: argparse.Namespace,
    why_not: str | None,
    erl: Values,
    units: dict[str, str],
    info: RunInfo,
) -> None:
    """Says where the Erlang figures come from; falls back to the committed
    ones when Erlang did not run (``why_not``) or produced nothing."""
    if why_not is None and not erl:
        why_not = "run.sh produced no figures"
    if why_not is not None:
        files = committed_erlang(erl, units)
        names = ", ".join(f.name for f in files)
        info.erlang_source = (
            f"**not run in this session ({why_not})**: committed anchor figures from "
            f"`shared/anchors/erlang/results/` ({names}), measured earlier on the same kind of machine"
        )
        log(f"Erlang not run ({why_not}); using {names}")
    else:
        info.erlang_ran = True
        info.erlang_source = (
            f"run in this session from `shared/anchors/erlang/run.sh` ({args.passes} "
            f"pass{'es' if args.passes > 1 else ''})"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser(__doc__)
    parser.add_argument("--quick", action="store_true", help="pass --quick to run.py")
    parser.add_argument(
        "--passes", type=int, default=1, help="alternating passes of each side (default 1)"
    )
    parser.add_argument(
        "--no-erlang",
        action="store_true",
        help="do not run Erlang; use the committed anchor figures",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="page to write")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each pass, wait up to SECONDS for the CPU to be mostly idle",
    )
    args = parser.parse_args(argv)
    if args.passes < 1:
        parser.error("--passes must be at least 1")
    if not (ANCHOR / "run.sh").exists():
        log(f"the Erlang anchor is not at {ANCHOR}")
        return 2

    erl: Values = {}
    ours: Values = {}
    units: dict[str, str] = {}
    why_not = "skipped with --no-erlang" if args.no_erlang else ensure_erlang()
    run_erl = why_not is None
    info = RunInfo(revision=revision())
    info.erlang_version = (
        erlang_version() if run_erl else "OTP 25.2.3, ERTS 13.1.5 (from RESULTS.md)"
    )
    fingerprint = engine_fingerprint()
    for i in range(args.passes):
        run_pass(i, args, run_erl, erl, ours, units, info)
    info.engine_changed = engine_fingerprint() != fingerprint
    if info.engine_changed:
        log("the engine sources or the installed package changed during the run")
    settle_erlang_source(args, why_not, erl, units, info)

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(args, erl, ours, units, info, machine_facts()))
    log(f"wrote {args.output}")
    for line in summary_lines(erl, ours):
        print(line, file=sys.stderr)
    return 0 if info.ours_ok else 1


if __name__ == "__main__":
    sys.exit(main())
