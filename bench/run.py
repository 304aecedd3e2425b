#!/usr/bin/env python3
"""Run noexpp's benchmarks and print one ``metric value unit`` line per metric.

    python bench/run.py [--quick] [--json PATH] [metric-prefix ...]

Two groups run, one after the other:

* the C++ driver ``noexpp_bench`` (metrics ending in ``_cpp``), which this
  script builds first in ``build/bench`` (Release, Ninja, ccache when present);
* the Python-behavior benchmarks (metrics ending in ``_py``): calls, casts
  and spawns in this interpreter against the installed ``noexpp`` package,
  then the supervision ones (``bench/py_sup.py``) in fresh interpreters, one
  quiet and one with crash logging to a file (``*_py_logged``);
* the cluster ones with Python behaviors, node-down detection and the raw
  TCP floor (``bench/py_dist.py``) in a fresh interpreter. The C++ cluster
  metrics (``dist_*_cpp``) come from ``noexpp_bench``, which starts a second
  copy of itself as the server node;
* the distributed-supervisor ones (``bench/py_dsup.py``, ``dsup_*``: start,
  failover of a lost node's children, remote restart) in a fresh
  interpreter, over three node processes; they have no Erlang twin.

The metrics mirror the Erlang/OTP anchor in ``../shared/anchors/erlang``
(``a_call.erl``, ``b_cast.erl``, ``c_restart.erl``, ``d_sofo.erl``,
``e_dist.erl``, ``f_nodedown.erl``, ``g_one_for_all.erl``, ``tcp_floor.py``);
``bench/compare.py`` sets them side by side. Only metric lines go to stdout; build output and notes go
to stderr. Nothing here asserts a timing: the numbers are reported, not judged.
"""

from __future__ import annotations

import gc
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchlib import (
    Group,
    Notes,
    Results,
    call_metrics,
    cast_rate,
    exact_names,
    make_parser,
    quick_scale,
    rss_bytes,
    run_groups,
    selected,
)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BUILD_DIR = REPO / "build" / "bench"
PY_SUP = REPO / "bench" / "py_sup.py"
PY_DIST = REPO / "bench" / "py_dist.py"
PY_DSUP = REPO / "bench" / "py_dsup.py"

CPP_METRICS = (
    "local_call_rate_cpp",
    "local_call_p50_cpp",
    "local_call_p99_cpp",
    "local_call_rate_cpp_notimeout",
    "local_call_rate_cpp_blocking",
    "local_call_p50_cpp_blocking",
    "local_call_p99_cpp_blocking",
    "local_cast_rate_cpp",
    "spawn_10k_cpp",
    "spawn_100k_cpp",
    "spawn_mem_per_process_cpp",
    "spawn_rss_per_process_cpp",
    "sup_restart_p50_cpp",
    "sup_restart_p99_cpp",
    "sup_restart_p50_cpp_logged",
    "sup_restart_p99_cpp_logged",
    "one_for_all_10_p50_cpp",
    "one_for_all_10_p99_cpp",
    "one_for_all_10_p50_cpp_logged",
    "one_for_all_10_p99_cpp_logged",
    "sofo_start_10k_cpp",
    "sofo_terminate_10k_cpp",
    "sofo_shutdown_10k_cpp",
    "sofo_mem_per_child_cpp",
    "dist_call_rate_cpp",
    "dist_call_p50_cpp",
    "dist_call_p99_cpp",
    "dist_call_rate_cpp_blocking",
    "dist_call_p50_cpp_blocking",
    "dist_call_p99_cpp_blocking",
    "dist_cast_rate_cpp",
)
PY_METRICS = (
    "spawn_10k_py",
    "spawn_mem_per_process_py",
    "local_call_rate_py",
    "local_call_p50_py",
    "local_call_p99_py",
    "local_cast_rate_py",
)
# Run by bench/py_sup.py in fresh interpreters: the quiet pass, then the
# logged one (crash logging on, fd 2 to a temporary file).
PY_SUP_METRICS = (
    "sofo_start_10k_py",
    "sofo_terminate_10k_py",
    "sofo_shutdown_10k_py",
    "sofo_mem_per_child_py",
    "sup_restart_p50_py",
    "sup_restart_p99_py",
    "one_for_all_10_p50_py",
    "one_for_all_10_p99_py",
)
PY_SUP_LOGGED_METRICS = (
    "sup_restart_p50_py_logged",
    "sup_restart_p99_py_logged",
    "one_for_all_10_p50_py_logged",
    "one_for_all_10_p99_py_logged",
)
# Run by bench/py_dist.py in a fresh interpreter (it forks for the TCP floor
# and starts peer node processes).
PY_DIST_METRICS = (
    "remote_spawn_rate_py",
    "remote_spawn_rate_cpp",
    "global_register_propagation_p50",
    "global_register_propagation_p99",
    "tcp_loopback_rtt_p50",
    "tcp_loopback_rtt_p50_1cpu",
    "dist_call_rate_py",
    "dist_call_p50_py",
    "dist_call_p99_py",
    "dist_cast_rate_py",
    "nodedown_kill9",
    "nodedown_kill9_min",
    "nodedown_kill9_max",
    "down_noconnection_kill9",
    "nodedown_tick",
    "nodedown_tick_min",
    "nodedown_tick_max",
    "down_noconnection_tick",
)
# Run by bench/py_dsup.py in a fresh interpreter (it starts LocalClusters of
# three node processes); no Erlang twin.
PY_DSUP_METRICS = (
    "dsup_start_1k_rate",
    "dsup_start_1k",
    "dsup_failover_100_kill9",
    "dsup_failover_100_kill9_duplicates",
    "dsup_failover_100_stop",
    "dsup_failover_100_stop_duplicates",
    "dsup_restart_remote_p50",
    "dsup_restart_remote_p99",
)

# Sizes of the Python runs (--quick divides them by 10). Python handlers cost
# tens of microseconds, so these are a tenth of the Erlang/C++ counts; every
# loop also stops after MAX_NS, as bench_util.erl does.
PY_CALLS = 100_000
PY_CASTS = 200_000
PY_SPAWNS = 10_000
MAX_NS = 5_000_000_000
WARMUP_CALLS = 1_000


log = Notes("run.py")


# --------------------------------------------------------------------------
# C++ driver


def stream_metrics(cmd: list[str], results: Results) -> int:
    """Runs ``cmd`` (from the repository root), passing its metric lines on as
    they come; returns its exit status."""
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=REPO) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() and not results.emit_line(line.strip()):
                log(f"ignoring malformed line from noexpp_bench: {line.strip()!r}")
        return proc.wait()


def build_cpp(build_dir: Path) -> Path:
    """Configures (once) and builds noexpp_bench; returns the executable's path."""
    if not (build_dir / "CMakeCache.txt").exists():
        cmd = [
            "cmake",
            "-S",
            str(REPO),
            "-B",
            str(build_dir),
            "-DNOEXPP_BUILD_BENCH=ON",
            "-DCMAKE_BUILD_TYPE=Release",
        ]
        if shutil.which("ninja"):
            cmd += ["-G", "Ninja"]
        if shutil.which("ccache"):
            cmd.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
        log(" ".join(cmd))
        subprocess.run(cmd, check=True, stdout=sys.stderr, stderr=sys.stderr)
    # -j2: the reference machine has 2 cores; more jobs only thrash.
    cmd = ["cmake", "--build", str(build_dir), "--target", "noexpp_bench", "-j", "2"]
    log(" ".join(cmd))
    subprocess.run(cmd, check=True, stdout=sys.stderr, stderr=sys.stderr)
    binary = build_dir / "bench" / "cpp" / "noexpp_bench"
    if not binary.exists():
        raise FileNotFoundError(f"{binary} missing after the build")
    return binary


def run_cpp(
    binary: Path, quick: bool, prefixes: Sequence[str], threads: int, results: Results
) -> bool:
    """Runs noexpp_bench and passes its metric lines on; False if it failed."""
    cmd = [str(binary), "--threads", str(threads)] + (["--quick"] if quick else []) + list(prefixes)
    log(" ".join(cmd))
    rc = stream_metrics(cmd, results)
    if rc != 0:
        log(f"noexpp_bench exited with status {rc}")
    return rc == 0


# --------------------------------------------------------------------------
# Python behaviors


def python_benchmarks(quick: bool, prefixes: Sequence[str], threads: int, results: Results) -> bool:
    """Spawn, call and cast benchmarks of a Python GenServer; False on failure."""
    if not results.wants(*PY_METRICS):
        return True
    try:
        import noexpp
    except ImportError as e:
        log(f"cannot import noexpp ({e}); install the package (pip install .) for the _py metrics")
        return False

    from bench_server import BenchServer  # beside this script; needs noexpp

    scale = quick_scale(quick)

    def fresh_node() -> Any:
        node = noexpp.Node("bench", threads=threads)
        node.start()
        return node

    def stop(node: Any, what: str) -> None:
        t0 = time.perf_counter_ns()
        node.stop()
        log(f"stopping the node after {what} took {(time.perf_counter_ns() - t0) / 1e6:.1f} ms")

    def spawn() -> None:
        # Runs first, in a fresh interpreter, so the RSS growth is not hidden by
        # memory that earlier benchmarks freed but did not return to the OS.
        n = PY_SPAWNS
        node = fresh_node()
        try:
            gc.collect()
            rss0 = rss_bytes()
            t0 = time.perf_counter_ns()
            refs = [node.spawn(BenchServer) for _ in range(n)]
            t1 = time.perf_counter_ns()
            gc.collect()
            rss1 = rss_bytes()
            results.emit("spawn_10k_py", (t1 - t0) / 1e6, "ms")
            results.emit("spawn_mem_per_process_py", (rss1 - rss0) // n, "bytes")
            del refs
        finally:
            stop(node, f"{n} spawns")

    def call() -> None:
        n = PY_CALLS // scale
        node = fresh_node()
        try:
            ref = node.spawn(BenchServer)
            call_metrics(results, ref, "local_call", WARMUP_CALLS, n, MAX_NS, log)
        finally:
            stop(node, "the call benchmark")

    def cast() -> None:
        node = fresh_node()
        try:
            ref = node.spawn(BenchServer)
            results.emit("local_cast_rate_py", cast_rate(ref, PY_CASTS // scale), "msgs/s")
        finally:
            stop(node, "the cast benchmark")

    groups: list[Group] = [
        (("spawn_10k_py", "spawn_mem_per_process_py"), spawn),
        (("local_call_rate_py", "local_call_p50_py", "local_call_p99_py"), call),
        (("local_cast_rate_py",), cast),
    ]
    return run_groups(groups, prefixes, log)


def run_script(
    script: Path,
    flags: Sequence[str],
    names: Sequence[str],
    quick: bool,
    prefixes: Sequence[str],
    threads: int,
    results: Results,
) -> bool:
    """Runs ``script`` (with ``flags``) in a fresh interpreter for the selected
    ones of ``names`` and passes its metric lines on; False if it failed.

    It is given the exact names (``name$``), so that a prefix such as
    ``sup_restart_p50_py`` does not also select a twin (``..._logged``) that
    another run of the script measures.
    """
    wanted = exact_names(names, prefixes)
    if not wanted:
        return True
    cmd = [sys.executable, str(script), "--threads", str(threads)]
    cmd += (["--quick"] if quick else []) + list(flags) + wanted
    log(" ".join(cmd[1:]))
    rc = stream_metrics(cmd, results)
    if rc != 0:
        log(f"{' '.join([script.name, *flags])} exited with status {rc}")
    return rc == 0


def python_sup_benchmarks(
    quick: bool, prefixes: Sequence[str], threads: int, results: Results
) -> bool:
    """Runs bench/py_sup.py (quiet, then --logged) in fresh interpreters and
    passes its metric lines on; False if a pass failed."""
    quiet = run_script(PY_SUP, [], PY_SUP_METRICS, quick, prefixes, threads, results)
    logged = run_script(
        PY_SUP, ["--logged"], PY_SUP_LOGGED_METRICS, quick, prefixes, threads, results
    )
    return quiet and logged


def python_dist_benchmarks(
    quick: bool, prefixes: Sequence[str], threads: int, results: Results
) -> bool:
    """Runs bench/py_dist.py in a fresh interpreter and passes its metric
    lines on; False if it failed."""
    return run_script(PY_DIST, [], PY_DIST_METRICS, quick, prefixes, threads, results)


def python_dsup_benchmarks(
    quick: bool, prefixes: Sequence[str], threads: int, results: Results
) -> bool:
    """Runs bench/py_dsup.py in a fresh interpreter and passes its metric
    lines on; False if it failed."""
    return run_script(PY_DSUP, [], PY_DSUP_METRICS, quick, prefixes, threads, results)


# --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser(
        __doc__,
        quick_help=(
            "10x fewer calls, casts and measured restarts; 3 node-down and 3 failover trials "
            "of each kind"
        ),
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument(
        "--build-dir",
        type=Path,
        default=DEFAULT_BUILD_DIR,
        help=f"CMake build folder for noexpp_bench (default {DEFAULT_BUILD_DIR.relative_to(REPO)})",
    )
    parser.add_argument(
        "--no-build", action="store_true", help="use the existing noexpp_bench as is"
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--cpp-only", action="store_true", help="skip the Python-behavior benchmarks"
    )
    group.add_argument("--py-only", action="store_true", help="skip the C++ driver")
    args = parser.parse_args(argv)

    results = Results(args.prefixes)
    ok = True
    started = time.time()

    if not args.py_only and any(selected(m, args.prefixes) for m in CPP_METRICS):
        try:
            binary = args.build_dir / "bench" / "cpp" / "noexpp_bench"
            if not args.no_build:
                binary = build_cpp(args.build_dir)
            ok = run_cpp(binary, args.quick, args.prefixes, args.threads, results) and ok
        except (subprocess.CalledProcessError, FileNotFoundError) as e:
            log(f"C++ benchmarks skipped: {e}")
            ok = False

    if not args.cpp_only:
        ok = python_benchmarks(args.quick, args.prefixes, args.threads, results) and ok
        ok = python_sup_benchmarks(args.quick, args.prefixes, args.threads, results) and ok
        ok = python_dist_benchmarks(args.quick, args.prefixes, args.threads, results) and ok
        ok = python_dsup_benchmarks(args.quick, args.prefixes, args.threads, results) and ok

    if args.json:
        payload = {
            "quick": args.quick,
            "threads": args.threads,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "seconds": round(time.time() - started, 1),
            "ok": ok,
            "metrics": results.metrics,
        }
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")
    log(f"done in {time.time() - started:.1f} s" + ("" if ok else " (some benchmarks failed)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
