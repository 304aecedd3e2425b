#!/usr/bin/env python3
"""Supervision benchmarks with Python GenServer workers (the ``_py`` twins of
the Erlang anchor's ``c_restart.erl``, ``g_one_for_all.erl`` and ``d_sofo.erl``).

    python bench/py_sup.py [--quick] [--logged] [--threads N] [metric-prefix ...]

``bench/run.py`` runs this script in fresh interpreters, once quiet and once
with ``--logged``, and passes its ``metric value unit`` lines on. Only metric
lines go to stdout.

* ``sup_restart_p50_py`` / ``_p99_py``: a one_for_one supervisor with one
  permanent worker registered as ``worker``. As in Erlang, the harness is a
  process (``Harness``, a Python GenServer): it looks the worker up, takes t0,
  casts ``"crash"`` (``handle_cast`` raises), waits for the ``("up", name,
  ref)`` message the restarted worker's ``init`` sends it (the name is
  registered before ``init`` runs), looks ``worker`` up again and calls it
  (``await ref.call_async("ping")`` -> ``"pong"``); t1 after the reply. 10
  warm-up crashes, then 1,000 measured (100 with ``--quick``). The main thread
  only starts the series with one call and collects the percentiles.
* ``one_for_all_10_p50_py`` / ``_p99_py``: a one_for_all supervisor with ten
  registered workers ``w1``..``w10``; ``w5`` is crashed; the time runs until
  all ten new workers have reported from ``init`` and each answered a call by
  name. 5 warm-up rounds, then 100 measured (10 with ``--quick``).
* ``sofo_start_10k_py``, ``sofo_terminate_10k_py``, ``sofo_shutdown_10k_py``
  (ms): a simple_one_for_one supervisor of ``BenchServer`` children; 10,000
  sequential ``start_child(())``, 10,000 sequential ``terminate_child(ref)``,
  then ``stop()`` of the supervisor with 10,000 children (started again,
  untimed). ``sofo_mem_per_child_py``: the growth of this interpreter's
  resident set over the 10,000 starts, divided by 10,000.

Without ``--logged`` the engine's logger is off (``set_log_level("off")``). With
``--logged`` only the restart benchmarks run, their names get ``_logged``
appended, the log level stays the engine's default and file descriptor 2
(where the engine's logger writes) goes to a temporary file, so every crash
line is really formatted and written. The sofo paths log nothing (no crash),
so they have no ``_logged`` variant.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from typing import Any

import noexpp
from bench_server import BenchServer
from benchlib import (
    Group,
    Notes,
    Results,
    make_parser,
    percentile,
    quick_scale,
    rss_bytes,
    run_groups,
)

SUP_RESTARTS = 1_000  # c_restart.erl ?N
SUP_RESTART_WARMUP = 10
OFA_ROUNDS = 100  # g_one_for_all.erl ?N
OFA_WARMUP = 5
OFA_WORKERS = 10
SOFO_CHILDREN = 10_000  # d_sofo.erl ?N
SERIES_TIMEOUT = 600.0  # seconds for a whole series before the main thread gives up

# Notes go to the real stderr, also while fd 2 is sent to the log file
# (stderr_to_tempfile points note.file at a copy of it meanwhile).
note = Notes("py_sup.py")


class SupWorker(noexpp.GenServer):
    """bench_srv.erl started with a Notify pid: init sends ("up", name, ref)
    to the harness, ping -> pong, cast "crash" raises."""

    def init(self, name: str, harness: Any) -> None:
        harness.send(("up", name, self.ref))

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "ping":
            return "pong"
        raise ValueError(f"unknown request {request!r}")

    def handle_cast(self, request: Any) -> None:
        if request == "crash":
            raise RuntimeError("crash")


class Harness(noexpp.GenServer):
    """The measuring process (c_restart.erl's / g_one_for_all.erl's main).

    call ("run", names, victim, warmup, n) -> (p50_ns, p99_ns, count), answered
    once the whole series is done; a failed check crashes the harness, which
    fails that call.
    """

    def init(self) -> None:
        self.waiting = False

    def handle_call(self, request: Any, caller: Any) -> Any:
        _, names, victim, warmup, n = request
        self.names, self.victim, self.warmup, self.n = list(names), victim, warmup, n
        self.caller = caller
        self.samples: list[int] = []
        self.rounds = 0
        self.crash_once()
        return noexpp.NoReply

    def crash_once(self) -> None:
        whereis = self.node.whereis
        self.old = [whereis(nm) for nm in self.names]
        self.ups: list[Any] = []
        self.waiting = True
        self.t0 = time.perf_counter_ns()
        whereis(self.victim).cast("crash")  # gen_server:cast(Name, crash) looks the name up too

    async def handle_info(self, message: Any) -> None:  # type: ignore[override]
        if not self.waiting or not isinstance(message, tuple) or message[0] != "up":
            return
        self.ups.append(message[2])
        if len(self.ups) < len(self.names):
            return
        self.waiting = False
        whereis = self.node.whereis
        called = []
        for nm in self.names:
            ref = whereis(nm)
            if ref is None:
                raise RuntimeError(f"no process registered as {nm} after the restart")
            if await ref.call_async("ping") != "pong":
                raise RuntimeError(f"{nm} did not answer pong")
            called.append(ref)
        t1 = time.perf_counter_ns()
        for nm, ref in zip(self.names, called):
            if ref in self.old or ref not in self.ups:
                raise RuntimeError(f"{nm} answered from a pid that is not a restarted one")
        self.rounds += 1
        if self.rounds > self.warmup:
            self.samples.append(t1 - self.t0)
        if len(self.samples) < self.n:
            self.crash_once()
            return
        count = len(self.samples)
        p50, p99 = percentile(self.samples, 50), percentile(self.samples, 99)
        self.reply(self.caller, (p50, p99, count))


def restart_series(
    threads: int, strategy: str, names: list[str], victim: str, warmup: int, n: int
) -> tuple[int, int, int]:
    """Crashes `victim` warmup + n times; returns (p50_ns, p99_ns, samples)."""
    with noexpp.Node("bench", threads=threads) as node:
        harness = node.spawn(Harness)
        children = [noexpp.ChildSpec(nm, SupWorker, args=(nm, harness), name=nm) for nm in names]
        sup = node.start_supervisor(children, strategy=strategy, max_restarts=1_000_000, within=1.0)
        p50, p99, count = harness.call(("run", names, victim, warmup, n), timeout=SERIES_TIMEOUT)
        sup.stop()
    return p50, p99, count


SOFO_METRICS = (
    "sofo_start_10k_py",
    "sofo_terminate_10k_py",
    "sofo_shutdown_10k_py",
    "sofo_mem_per_child_py",
)
RESTART_METRICS = tuple(
    f"{base}_{p}_py{suffix}"
    for suffix in ("", "_logged")
    for base in ("sup_restart", "one_for_all_10")
    for p in ("p50", "p99")
)


def restarts(args: argparse.Namespace, results: Results) -> None:
    """The sup_restart and one_for_all_10 series (``_logged`` with --logged)."""
    scale = quick_scale(args.quick)
    suffix = "_logged" if args.logged else ""
    series = [
        (
            "sup_restart",
            "one_for_one",
            ["worker"],
            "worker",
            SUP_RESTART_WARMUP,
            SUP_RESTARTS // scale,
        ),
        (
            "one_for_all_10",
            "one_for_all",
            [f"w{i}" for i in range(1, OFA_WORKERS + 1)],
            "w5",
            OFA_WARMUP,
            OFA_ROUNDS // scale,
        ),
    ]
    for base, strategy, names, victim, warmup, n in series:
        p50_name, p99_name = f"{base}_p50_py{suffix}", f"{base}_p99_py{suffix}"
        if not results.wants(p50_name, p99_name):
            continue
        p50, p99, count = restart_series(args.threads, strategy, names, victim, warmup, n)
        note(f"{base}{suffix}: {count} measured rounds")
        results.emit(p50_name, p50 / 1e3, "us")
        results.emit(p99_name, p99 / 1e3, "us")


def sofo(args: argparse.Namespace, results: Results) -> None:
    """simple_one_for_one start / terminate / shutdown of 10,000 children (quiet pass only)."""
    if args.logged or not results.wants(*SOFO_METRICS):
        return
    n = SOFO_CHILDREN
    with noexpp.Node("bench", threads=args.threads) as node:
        template = noexpp.ChildSpec("w", BenchServer)
        sup = node.start_supervisor(
            strategy="simple_one_for_one",
            child_template=template,
            max_restarts=1_000_000,
            within=1.0,
        )
        start_child, terminate_child = sup.start_child, sup.terminate_child
        gc.collect()
        rss0 = rss_bytes()
        t0 = time.perf_counter_ns()
        refs = [start_child(()) for _ in range(n)]
        start_ms = (time.perf_counter_ns() - t0) / 1e6
        gc.collect()
        rss1 = rss_bytes()
        t0 = time.perf_counter_ns()
        for ref in refs:
            terminate_child(ref)
        terminate_ms = (time.perf_counter_ns() - t0) / 1e6
        left = sup.count_children()["active"]  # "specs" stays 1: the template (OTP)
        if left:
            raise RuntimeError(f"{left} children left after terminating them all")
        del refs
        results.emit("sofo_start_10k_py", start_ms, "ms")
        results.emit("sofo_terminate_10k_py", terminate_ms, "ms")
        results.emit("sofo_mem_per_child_py", (rss1 - rss0) // n, "bytes")
        if results.wants("sofo_shutdown_10k_py"):
            for _ in range(n):
                start_child(())
            t0 = time.perf_counter_ns()
            sup.stop()
            shutdown_ms = (time.perf_counter_ns() - t0) / 1e6
            if sup.is_running:
                raise RuntimeError("the supervisor still runs after stop()")
            results.emit("sofo_shutdown_10k_py", shutdown_ms, "ms")
        else:
            sup.stop()


@contextlib.contextmanager
def stderr_to_tempfile() -> Iterator[None]:
    """Sends fd 2 (where the engine's logger writes) to a temporary file for
    the duration; notes keep going to the real stderr."""
    with tempfile.TemporaryFile(prefix="noexpp-bench-log-") as log_file:
        sys.stderr.flush()
        saved_fd = os.dup(2)
        real_stderr = os.fdopen(os.dup(saved_fd), "w")
        note.file = real_stderr
        os.dup2(log_file.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            note.file = None
            real_stderr.close()
            note(f"{os.fstat(log_file.fileno()).st_size} bytes of log written in the logged pass")


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser(__doc__, quick_help="10x fewer measured restarts")
    parser.add_argument(
        "--logged",
        action="store_true",
        help="crash logging on (default level), fd 2 to a temporary file; *_logged names",
    )
    args = parser.parse_args(argv)

    if not args.logged:
        noexpp.set_log_level("off")
    results = Results(args.prefixes)
    # sofo first: its RSS reading wants a fresh interpreter.
    groups: list[Group] = [(SOFO_METRICS, sofo), (RESTART_METRICS, restarts)]
    with stderr_to_tempfile() if args.logged else contextlib.nullcontext():
        ok = run_groups(groups, args.prefixes, note, args, results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
