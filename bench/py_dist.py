#!/usr/bin/env python3
"""Cluster benchmarks with Python behaviors and the failure detector (twins of
the Erlang anchor's ``e_dist.erl``, ``f_nodedown.erl`` and ``tcp_floor.py``),
each between two OS processes over 127.0.0.1.

    python bench/py_dist.py [--quick] [--threads N] [metric-prefix ...]

``bench/run.py`` runs this script in a fresh interpreter and passes its
``metric value unit`` lines on. Only metric lines go to stdout.

The peer node is always a separate OS process started with the command line
(``python -m noexpp node --name ... --cookie-file ... --import bench_server
--stop-on-stdin-eof``), which registers the Python ``bench_srv`` twin
(``bench_server.BenchServer``) and runs with the default failure-detection
options; this interpreter runs the other node.

* ``tcp_loopback_rtt_p50`` / ``tcp_loopback_rtt_p50_1cpu`` (us): the anchor's
  ``tcp_floor.py`` method, unchanged: a 32-byte ping-pong with TCP_NODELAY
  between this process and a forked child, 20,000 round trips, p50; once
  with the default CPU placement, once with both pinned to CPU 0. Runs
  first, before any node (and so any engine thread) exists.
* ``dist_call_rate_py``, ``dist_call_p50_py``, ``dist_call_p99_py``: node
  ``bench_a`` here connects to ``bench_b``, spawns a ``bench_srv`` there
  (``spawn_remote``, as ``rpc:call(B, bench_srv, start, [])``) and calls it
  from the main thread with ``ref.call("ping")`` (a plain thread, GIL
  released while waiting): 1,000 warm-up calls, then 10,000 untimed calls
  for the rate and 10,000 calls with a ``perf_counter_ns`` reading around
  each for the nearest-rank p50 / p99 (a tenth of e_dist.erl's 100,000, as
  the local ``_py`` metrics take a tenth of a_call.erl's counts).
* ``dist_cast_rate_py``: to a fresh ``bench_srv``, 50,000 ``ref.cast("inc")``
  then one ``ref.call("count")``, answered after all of them; timed from the
  first cast to that reply (e_dist.erl: 500,000 casts + one drain call).
* ``nodedown_kill9`` / ``nodedown_tick`` (ms; f_nodedown.erl): per trial a
  fresh peer node process and a fresh observer node here (both with the
  default heartbeat_interval 0.2 s, phi_threshold 8, acceptable_pause
  0.8 s); the observer connects, spawns a ``bench_srv`` on the peer,
  subscribes to ``node_down`` and monitors that process, waits 100 ms plus a
  random 0..1000 ms (a random phase against the heartbeats, as the anchor),
  takes t0 (``time.monotonic()``, CLOCK_MONOTONIC) and signals the peer
  with ``os.kill`` (no fork/exec on the timed path): SIGKILL (``kill9``: the
  kernel closes the socket) or SIGSTOP (``tick``: the socket stays open,
  only the heartbeats stop; the peer is SIGKILLed afterwards). The time is
  the event's ``monotonic`` stamp (the engine's steady clock when it
  emitted node_down) minus t0. ``down_noconnection_*``: the same trials,
  until the monitor callback with reason noconnection ran (its
  ``time.monotonic()``). 20 trials of each kind (3 with ``--quick``); the
  median (nearest rank) is reported, plus ``_min`` / ``_max``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import secrets
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import noexpp
from benchlib import (
    Group,
    Notes,
    Results,
    call_metrics,
    cast_rate,
    percentile,
    quick_scale,
    run_cluster_script,
)

BENCH_DIR = Path(__file__).resolve().parent
BEHAVIOR = "bench_srv"  # registered by bench_server.py

DIST_CALLS = 10_000  # a tenth of e_dist.erl's ?N_CALL
DIST_CASTS = 50_000  # a tenth of e_dist.erl's ?N_CAST
DIST_WARMUP = 1_000  # a tenth of e_dist.erl's warm-up
MAX_NS = 60_000_000_000  # e_dist.erl ?MAX_NS
NODEDOWN_TRIALS = 20
NODEDOWN_TRIALS_QUICK = 3
TCP_ROUND_TRIPS = 20_000  # tcp_floor.py
EVENT_TIMEOUT = 30.0  # f_nodedown.erl: after 30000 -> exit(no_nodedown)
START_TIMEOUT = 30.0

CALL_METRICS = ("dist_call_rate_py", "dist_call_p50_py", "dist_call_p99_py")
CAST_METRICS = ("dist_cast_rate_py",)
TCP_METRICS = ("tcp_loopback_rtt_p50", "tcp_loopback_rtt_p50_1cpu")
SPAWN_METRICS = ("remote_spawn_rate_py", "remote_spawn_rate_cpp")
GLOBAL_METRICS = ("global_register_propagation_p50", "global_register_propagation_p99")
REMOTE_SPAWNS = 2_000
GLOBAL_REGISTRATIONS = 500
KILL_METRICS = (
    "nodedown_kill9",
    "nodedown_kill9_min",
    "nodedown_kill9_max",
    "down_noconnection_kill9",
)
TICK_METRICS = (
    "nodedown_tick",
    "nodedown_tick_min",
    "nodedown_tick_max",
    "down_noconnection_tick",
)
METRICS = TCP_METRICS + CALL_METRICS + CAST_METRICS + KILL_METRICS + TICK_METRICS


note = Notes("py_dist.py")


# --------------------------------------------------------------------------
# The peer node process


class PeerNode:
    """``python -m noexpp node`` as a child process, stopped (stdin closed +
    SIGTERM, SIGKILL after 10 s) by :meth:`stop`, also after a failure; it
    also stops by itself when this interpreter dies (its stdin closes)."""

    def __init__(self, name: str, cookie_file: str, threads: int) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(BENCH_DIR)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        )
        cmd = [
            sys.executable, "-m", "noexpp", "node", "--name", name, "--cookie-file", cookie_file,
            "--import", "bench_server", "--threads", str(threads), "--log-level", "warning",
            "--stop-on-stdin-eof",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        self.id = ""
        try:
            self.id = self._read_id()
        except BaseException:
            self.stop()
            raise

    def _read_id(self) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the peer node did not report its id within 30 s")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if not ready:
                continue
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"the peer node exited (status {self.proc.wait()})")
            parts = line.split()
            if len(parts) == 3 and parts[0] == "node" and parts[2] == "running":
                return parts[1]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                if self.proc.stdin is not None:
                    self.proc.stdin.close()
                self.proc.terminate()
                # A stopped process handles SIGTERM only once continued.
                self.proc.send_signal(signal.SIGCONT)
            except (OSError, ProcessLookupError):
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                note(f"peer {self.id or '?'} did not stop within 10 s; killing it")
                self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


class Cookie:
    """A fresh cookie, also written to a 0600 file for the peer's --cookie-file."""

    def __init__(self) -> None:
        self.value = secrets.token_hex(16)
        fd, self.path = tempfile.mkstemp(prefix="noexpp-bench-cookie-")
        with os.fdopen(fd, "w") as f:
            f.write(self.value)

    def remove(self) -> None:
        try:
            os.unlink(self.path)
        except OSError:
            pass


@contextlib.contextmanager
def connected_peer(threads: int) -> Iterator[tuple[noexpp.Node, PeerNode]]:
    """Node ``bench_a`` here, connected to a fresh peer node process
    ``bench_b``; on the way out the node, then the peer are stopped and the
    cookie file removed, also after a failure."""
    cookie = Cookie()
    peer: PeerNode | None = None
    node: noexpp.Node | None = None
    try:
        peer = PeerNode("bench_b", cookie.path, threads)
        node = noexpp.Node("bench_a", cookie=cookie.value, threads=threads)
        node.connect(peer.id)
        yield node, peer
    finally:
        if node is not None:
            node.stop()
        if peer is not None:
            peer.stop()
        cookie.remove()


# --------------------------------------------------------------------------
# tcp_floor.py


def tcp_rtt_p50(pin: bool) -> float:
    """tcp_floor.py's rtt_p50, line for line: 32 bytes, TCP_NODELAY, 20,000 round trips."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    if pin:
        os.sched_setaffinity(0, {0})
    child = os.fork()
    if child == 0:
        try:
            c, _ = srv.accept()
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while d := c.recv(64):
                c.sendall(d)
        finally:
            os._exit(0)
    c = socket.create_connection(srv.getsockname())
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    lat = []
    for _ in range(TCP_ROUND_TRIPS):
        t = time.perf_counter_ns()
        c.sendall(b"x" * 32)
        c.recv(64)
        lat.append(time.perf_counter_ns() - t)
    c.close()
    srv.close()
    os.waitpid(child, 0)
    if pin:
        os.sched_setaffinity(0, range(os.cpu_count() or 1))
    return sorted(lat)[len(lat) // 2] / 1000


def tcp_floor(args: argparse.Namespace, results: Results) -> None:
    """The raw TCP round trip, unpinned then both ends on CPU 0."""
    if results.wants("tcp_loopback_rtt_p50"):
        results.emit("tcp_loopback_rtt_p50", tcp_rtt_p50(False), "us")
    if results.wants("tcp_loopback_rtt_p50_1cpu"):
        results.emit("tcp_loopback_rtt_p50_1cpu", tcp_rtt_p50(True), "us")


# --------------------------------------------------------------------------
# e_dist.erl


def dist_calls(args: argparse.Namespace, results: Results) -> None:
    """Remote call rate and latency, then the remote cast rate."""
    scale = quick_scale(args.quick)
    with connected_peer(args.threads) as (node, peer):
        if results.wants(*CALL_METRICS):
            ref = node.spawn_remote(peer.id, BEHAVIOR)
            n, warmup = DIST_CALLS // scale, DIST_WARMUP // scale
            call_metrics(results, ref, "dist_call", warmup, n, MAX_NS, note)
        if results.wants("dist_cast_rate_py"):
            ref = node.spawn_remote(peer.id, BEHAVIOR)  # a fresh server, as e_dist.erl
            results.emit("dist_cast_rate_py", cast_rate(ref, DIST_CASTS // scale), "msgs/s")


# --------------------------------------------------------------------------
# f_nodedown.erl


def nodedown_trial(sig: int, i: int, cookie: Cookie, threads: int) -> tuple[float, float]:
    """One trial: (ms to node_down, ms to the monitor's noconnection)."""
    kind = "kill" if sig == signal.SIGKILL else "stop"
    peer = PeerNode(f"bench_b{kind}{i}", cookie.path, threads)
    observer: noexpp.Node | None = None
    try:
        observer = noexpp.Node(f"bench_a{kind}{i}", cookie=cookie.value, threads=threads)
        observer.connect(peer.id)
        srv = observer.spawn_remote(peer.id, BEHAVIOR)
        got: dict[str, Any] = {}
        down = threading.Event()
        noconnection = threading.Event()

        def on_down(event: dict[str, Any]) -> None:
            if event.get("node") == peer.id and "down" not in got:
                got["down"] = (
                    event["monotonic"],
                    time.monotonic(),
                    event.get("reason"),
                    event.get("detail"),
                )
                down.set()

        def on_monitor(_ref: Any, reason: Any) -> None:
            got["noconnection"] = (time.monotonic(), reason)
            noconnection.set()

        observer.on("node_down", on_down)
        observer.monitor(srv, on_monitor)
        time.sleep((100 + random.randint(1, 1000)) / 1000)  # random phase w.r.t. the heartbeats
        t0 = time.monotonic()
        os.kill(peer.pid, sig)
        if not down.wait(EVENT_TIMEOUT) or not noconnection.wait(EVENT_TIMEOUT):
            raise TimeoutError(f"no node_down / noconnection within {EVENT_TIMEOUT:.0f} s")
        if sig == signal.SIGSTOP:
            os.kill(peer.pid, signal.SIGKILL)
        peer.proc.wait(timeout=10)
        event_t, callback_t, reason, detail = got["down"]
        mon_t, mon_reason = got["noconnection"]
        if "noconnection" not in str(mon_reason):
            raise RuntimeError(f"the monitor fired with {mon_reason!r}, not noconnection")
        note(
            f"{kind} trial {i}: node_down {(event_t - t0) * 1e3:.2f} ms ({reason}: {detail}; "
            f"callback +{(callback_t - event_t) * 1e3:.2f} ms), noconnection {(mon_t - t0) * 1e3:.2f} ms"
        )
        return (event_t - t0) * 1e3, (mon_t - t0) * 1e3
    finally:
        if observer is not None:
            observer.stop()
        peer.stop()


def nodedown(args: argparse.Namespace, results: Results) -> None:
    """The kill -9 trials, then the SIGSTOP (heartbeat) ones."""
    trials = NODEDOWN_TRIALS_QUICK if args.quick else NODEDOWN_TRIALS
    cookie = Cookie()
    try:
        for sig, suffix, names in (
            (signal.SIGKILL, "kill9", KILL_METRICS),
            (signal.SIGSTOP, "tick", TICK_METRICS),
        ):
            if not results.wants(*names):
                continue
            times = [nodedown_trial(sig, i, cookie, args.threads) for i in range(1, trials + 1)]
            downs = [d for d, _ in times]
            noconns = [m for _, m in times]
            results.emit(f"nodedown_{suffix}", percentile(list(downs), 50), "ms")
            results.emit(f"nodedown_{suffix}_min", min(downs), "ms")
            results.emit(f"nodedown_{suffix}_max", max(downs), "ms")
            results.emit(f"down_noconnection_{suffix}", percentile(noconns, 50), "ms")
    finally:
        cookie.remove()


# --------------------------------------------------------------------------


def remote_spawn(args: argparse.Namespace, results: Results) -> None:
    """Sequential spawn_remote to a node process: a Python behavior
    (bench_srv) and the built-in C++ one (noexpp.probe); spawns per second."""
    scale = quick_scale(args.quick)
    with connected_peer(args.threads) as (node, peer):
        for metric, behavior, spawn_args in (
            ("remote_spawn_rate_py", BEHAVIOR, ()),
            ("remote_spawn_rate_cpp", "noexpp.probe", (0,)),
        ):
            if not results.wants(metric):
                continue
            for _ in range(100 // scale):  # warm-up
                node.spawn_remote(peer.id, behavior, *spawn_args)
            n = REMOTE_SPAWNS // scale
            t0 = time.perf_counter_ns()
            for _ in range(n):
                node.spawn_remote(peer.id, behavior, *spawn_args)
            results.emit(metric, n / ((time.perf_counter_ns() - t0) / 1e9), "spawns/s")


def global_propagation(args: argparse.Namespace, results: Results) -> None:
    """Three nodes in this interpreter; from just before register() on the
    deciding node until both other nodes' replicas resolve the name (their
    whereis polled in turn); then unregister, untimed."""
    scale = quick_scale(args.quick)
    with noexpp.LocalCluster(3, mode="threads", threads=args.threads) as cluster:
        nodes = sorted(cluster.nodes, key=lambda n: n.id)  # the smallest id decides
        leader, others = nodes[0], nodes[1:]
        owner = leader.spawn("noexpp.probe", 0)
        samples: list[int] = []
        clock = time.perf_counter_ns
        for i in range(GLOBAL_REGISTRATIONS // scale):
            name = f"bench-{i}"
            t0 = clock()
            leader.global_registry.register(name, owner)
            pending = list(others)
            while pending:
                pending = [n for n in pending if n.global_registry.whereis(name) is None]
            samples.append(clock() - t0)
            leader.global_registry.unregister(name)
        results.emit("global_register_propagation_p50", percentile(samples, 50) / 1e3, "us")
        results.emit("global_register_propagation_p99", percentile(samples, 99) / 1e3, "us")


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the selected groups; 0 when every one succeeded."""
    noexpp.set_log_level("warning")  # no info line per node_up / node_down
    groups: list[Group] = [
        (TCP_METRICS, tcp_floor),  # first: it forks, so before any engine thread exists
        (CALL_METRICS + CAST_METRICS, dist_calls),
        (KILL_METRICS + TICK_METRICS, nodedown),
        (SPAWN_METRICS, remote_spawn),
        (GLOBAL_METRICS, global_propagation),
    ]
    return run_cluster_script(
        argv, __doc__, "10x fewer calls and casts, 3 node-down trials of each kind", groups, note
    )


if __name__ == "__main__":
    sys.exit(main())
