#!/usr/bin/env python3
"""Distributed-supervisor benchmarks with Python behaviors, over three node
OS processes on 127.0.0.1 (no Erlang twin: OTP has no distributed supervisor).

    python bench/py_dsup.py [--quick] [--threads N] [metric-prefix ...]

``bench/run.py`` runs this script in a fresh interpreter and passes its
``metric value unit`` lines on. Only metric lines go to stdout.

Every cluster is ``noexpp.LocalCluster(3, mode="processes",
modules=["dsup_bench_behaviors"])``: three ``python -m noexpp node``
processes (default failure detection: heartbeats every 0.2 s, phi threshold
8, acceptable pause 0.8 s) that register the child behavior
``"dsup_bench.worker"`` (``dsup_bench_behaviors.DsupWorker``: the
``bench_srv`` twin plus ``"whoami"`` -> ``(tag, node_id, os_pid)`` and a
``"crash"`` cast that raises). The supervisor runs on ``cluster.controller``,
a hidden node in this interpreter; unless said otherwise its node selector is
a Python callable that spreads the children over the three node processes
only (never the controller): child ``cN`` goes to the ``N mod k``-th of the
``k`` live members in id order. Cluster startup and shutdown are never timed.
The default lease (1.0 s) is used throughout: the safe defaults.

* ``dsup_start_1k_rate`` (children/s), ``dsup_start_1k`` (ms): a fresh
  cluster per trial; ``start_distributed_supervisor`` with a static list of
  1,000 children (``c0``..``c999``, about 333 per node process), which
  returns once every child's ``init`` ran on its node. t0 just before the
  call; the rate is 1,000 / (return - t0); ``dsup_start_1k`` runs on until
  every child, taken from ``children()``, has answered a ``ping`` call (one
  after another from the main thread). 5 trials (1 with ``--quick``); medians
  (nearest rank).
* ``dsup_failover_100_kill9`` (ms): a fresh cluster per trial and 300
  children, 100 on each node process; the first node process is the victim.
  After 100 ms plus a random 0..1000 ms (a random phase against the
  heartbeats), t0 = ``time.monotonic()`` and SIGKILL with ``os.kill`` (no
  fork/exec on the timed path). The main thread takes the supervisor's
  ``child_migrated`` lifecycle events (each carries the replacement's Ref)
  from a queue and calls each of the victim's 100 children there; t1 when
  the last one has answered ``ping`` on a survivor. 10 trials (3 with
  ``--quick``); median (nearest rank), the extremes in the notes on stderr.
* ``dsup_failover_100_stop`` (ms): the same with SIGSTOP
  (``NodeHandle.suspend``): the victim's sockets stay open, so only failure
  detection reveals it, and its frozen copies cannot stop themselves until
  it runs again. After t1 the victim is continued (SIGCONT) and its process
  count is awaited back at its baseline (its old copies killed by the lease
  rule), at most 30 s.
* ``dsup_failover_100_kill9_duplicates``, ``dsup_failover_100_stop_duplicates``
  (count, must be 0): after each trial every child, asked ``"whoami"``, must
  answer from a survivor as the node ``children()`` names (else the run
  fails), and the process counts of the live node processes (the controller's
  ``("process_count",)`` request), less their counts before the supervisor
  started, must add up to the 300 children; every process beyond that is a
  duplicate (for ``_stop`` the resumed victim included, after the wait
  above). The sum over all trials.
* ``dsup_restart_remote_p50`` / ``_p99`` (us): one child on a node process
  (selector ``{"node": id}``), ``max_restarts`` 1,000,000 within 1 s so the
  intensity never trips. t0 just before the cast that makes it raise; t1
  when its replacement, announced by the ``child_restarted`` lifecycle event
  (with its Ref), answered a ``ping`` call. 10 warm-up crashes, then 200
  measured (50 with ``--quick``); nearest-rank percentiles. The node
  processes keep the engine's default log level, so each crash writes one
  line to that node's log file.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import random
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import noexpp
from benchlib import Group, Notes, Results, percentile, run_cluster_script
from dsup_bench_behaviors import WORKER

BEHAVIOR_MODULE = "dsup_bench_behaviors"  # beside this script, so on sys.path here and there
NODES = 3
START_CHILDREN = 1_000
START_TRIALS = 5
START_TRIALS_QUICK = 1
PER_NODE = 100  # children per node process in the failover trials; the victim's share
FAILOVER_TRIALS = 10
FAILOVER_TRIALS_QUICK = 3
RESTARTS = 200
RESTARTS_QUICK = 50
RESTART_WARMUP = 10
CALL_TIMEOUT = 5.0  # seconds for one call to a child
WAIT_BOUND = 60.0  # seconds for anything awaited (failover, restart, counts)
RESUME_BOUND = 30.0  # seconds for a resumed victim to have dropped its old copies

START_METRICS = ("dsup_start_1k_rate", "dsup_start_1k")
KILL_METRICS = ("dsup_failover_100_kill9", "dsup_failover_100_kill9_duplicates")
STOP_METRICS = ("dsup_failover_100_stop", "dsup_failover_100_stop_duplicates")
RESTART_METRICS = ("dsup_restart_remote_p50", "dsup_restart_remote_p99")
METRICS = START_METRICS + KILL_METRICS + STOP_METRICS + RESTART_METRICS

note = Notes("py_dsup.py")


# --------------------------------------------------------------------------
# The cluster


@contextlib.contextmanager
def bench_cluster(threads: int) -> Iterator[noexpp.LocalCluster]:
    """Three node processes importing the bench behaviors, behind a hidden
    controller node here; on the way out suspended nodes are continued, then
    the cluster is closed (every node process stopped), also after a failure."""
    cluster = noexpp.LocalCluster(
        NODES, mode="processes", modules=[BEHAVIOR_MODULE], threads=threads
    )
    try:
        yield cluster
    finally:
        for handle in handles(cluster):
            if handle.suspended:
                handle.resume()
        cluster.close()


def controller(cluster: noexpp.LocalCluster) -> noexpp.Node:
    """The cluster's hidden controller node, which runs the supervisors."""
    node = cluster.controller
    if node is None:
        raise RuntimeError("a processes-mode LocalCluster has no controller")
    return node


def handles(cluster: noexpp.LocalCluster) -> list[noexpp.NodeHandle]:
    """The cluster's node processes, in start order."""
    return [h for h in cluster.nodes if isinstance(h, noexpp.NodeHandle)]


def spread_over(members: Sequence[str]) -> Callable[[list[noexpp.NodeInfo], str], str]:
    """A node selector: child ``cN`` on the ``N mod k``-th of the ``k`` live
    ``members`` in id order (never the controller)."""
    allowed = set(members)

    def choose(nodes: list[noexpp.NodeInfo], child_id: str) -> str:
        live = sorted(n.id for n in nodes if n.id in allowed and n.status == "up")
        return live[int(child_id[1:]) % len(live)]

    return choose


def child_specs(n: int) -> list[noexpp.DistributedChildSpec]:
    """Children ``c0``..``c{n-1}``, each told its id as its tag."""
    return [noexpp.DistributedChildSpec(f"c{i}", WORKER, args=(f"c{i}",)) for i in range(n)]


def process_count(ctl: noexpp.Node, node_id: str) -> int:
    """The number of processes on node ``node_id``, asked by the controller."""
    return int(ctl._request(node_id, ("process_count",), timeout=CALL_TIMEOUT))


def ping(ref: noexpp.Ref) -> None:
    """One ``ping`` call that must answer ``pong``."""
    reply = ref.call("ping", timeout=CALL_TIMEOUT)
    if reply != "pong":
        raise RuntimeError(f"{ref} answered {reply!r} to ping")


def next_event(events: queue.Queue[dict[str, Any]], deadline: float, what: str) -> dict[str, Any]:
    """The next lifecycle event; TimeoutError naming ``what`` at ``deadline``."""
    try:
        return events.get(timeout=max(0.0, deadline - time.monotonic()))
    except queue.Empty:
        raise TimeoutError(f"{what} not within {WAIT_BOUND:.0f} s") from None


@contextlib.contextmanager
def lifecycle_events(ctl: noexpp.Node) -> Iterator[queue.Queue[dict[str, Any]]]:
    """The controller's lifecycle events, in a queue, until the block ends."""
    events: queue.Queue[dict[str, Any]] = queue.Queue()
    unsubscribe = ctl.on_lifecycle_event(events.put)
    try:
        yield events
    finally:
        unsubscribe()


# --------------------------------------------------------------------------
# Starting 1,000 children


def start_trial(threads: int) -> tuple[float, float]:
    """One trial in a fresh cluster: (children/s until the start returned,
    ms until every child answered)."""
    with bench_cluster(threads) as cluster:
        ctl, members = controller(cluster), cluster.ids
        specs = child_specs(START_CHILDREN)
        selector = spread_over(members)
        t0 = time.perf_counter_ns()
        with ctl.start_distributed_supervisor(specs, node_selector=selector) as dsup:
            t1 = time.perf_counter_ns()
            children = dsup.children()
            for child in children:
                if child.ref is None:
                    raise RuntimeError(f"child {child.id} is not running after the start")
                ping(child.ref)
            t2 = time.perf_counter_ns()
            by_node = dsup.stats()["children_by_node"]
        if len(children) != START_CHILDREN or not set(by_node) <= set(members):
            raise RuntimeError(f"unexpected placement: {by_node}")
    note(f"start trial: returned after {(t1 - t0) / 1e6:.1f} ms, all answered after "
         f"{(t2 - t0) / 1e6:.1f} ms; {sorted(by_node.values())} per node")  # fmt: skip
    return START_CHILDREN / ((t1 - t0) / 1e9), (t2 - t0) / 1e6


def start_1k(args: argparse.Namespace, results: Results) -> None:
    """Start rate and time to all answering, medians over the trials."""
    trials = START_TRIALS_QUICK if args.quick else START_TRIALS
    runs = [start_trial(args.threads) for _ in range(trials)]
    results.emit("dsup_start_1k_rate", percentile([r for r, _ in runs], 50), "children/s")
    results.emit("dsup_start_1k", percentile([ms for _, ms in runs], 50), "ms")


# --------------------------------------------------------------------------
# Failover of a lost node's 100 children


def await_migrated(
    events: queue.Queue[dict[str, Any]], lost: set[str], victim: str, t0: float
) -> float:
    """Calls each of the ``lost`` children as its ``child_migrated`` event
    (from ``victim``) comes; the monotonic time when the last one answered."""
    pending = set(lost)
    deadline = t0 + WAIT_BOUND
    last = t0
    while pending:
        what = f"{len(pending)} of the victim's {len(lost)} children answering on a survivor"
        event = next_event(events, deadline, what)
        if event["type"] != "child_migrated" or event.get("child_id") not in pending:
            continue
        if event.get("from_node") != victim:
            raise RuntimeError(f"child {event['child_id']} migrated from {event.get('from_node')}")
        ping(event["pid"])
        last = time.monotonic()
        pending.discard(event["child_id"])
    return last


def check_census(dsup: noexpp.DistributedSupervisor, survivors: dict[str, int]) -> None:
    """Every child running where ``children()`` says, on a survivor
    (node id -> OS pid), answering ``whoami`` from that node's OS process."""
    for child in dsup.children():
        if child.ref is None or child.node_id not in survivors:
            raise RuntimeError(f"child {child.id} is not running on a survivor: {child}")
        tag, node_id, pid = child.ref.call("whoami", timeout=CALL_TIMEOUT)
        if (tag, node_id, pid) != (child.id, child.node_id, survivors[child.node_id]):
            raise RuntimeError(f"child {child.id} ({child.node_id}) answered {(tag, node_id, pid)}")


def extra_copies(ctl: noexpp.Node, baseline: dict[str, int], node_ids: Sequence[str]) -> int:
    """Processes on ``node_ids`` beyond their baseline counts and the
    supervisor's children: copies of a child that should not exist."""
    live = sum(process_count(ctl, n) - baseline[n] for n in node_ids)
    return max(0, live - NODES * PER_NODE)  # fewer is impossible: every child just answered


def await_dropped(ctl: noexpp.Node, node_id: str, count: int) -> int:
    """Waits (at most RESUME_BOUND) until a resumed node is reachable again
    and has ``count`` processes; returns how many more it still has."""
    start = time.monotonic()
    deadline = start + RESUME_BOUND
    excess = -1  # unknown until the node answers
    while time.monotonic() < deadline:
        with contextlib.suppress(noexpp.NodeDown, noexpp.CallTimeout):  # not reconnected yet
            excess = process_count(ctl, node_id) - count
        if excess == 0:
            note(f"the resumed victim was back at its baseline after "
                 f"{(time.monotonic() - start) * 1e3:.0f} ms")  # fmt: skip
            return 0
        time.sleep(0.02)
    if excess < 0:
        raise TimeoutError(f"the resumed victim did not answer within {RESUME_BOUND:.0f} s")
    note(f"the resumed victim still has {excess} old copies after {RESUME_BOUND:.0f} s")
    return excess


def failover_trial(sig: int, threads: int) -> tuple[float, int]:
    """One trial in a fresh cluster: (ms from the signal until the victim's
    children all answered on survivors, duplicate copies seen)."""
    with bench_cluster(threads) as cluster:
        ctl, members = controller(cluster), cluster.ids
        victim, survivors = handles(cluster)[0], handles(cluster)[1:]
        baseline = {n: process_count(ctl, n) for n in members}
        specs = child_specs(NODES * PER_NODE)
        with ctl.start_distributed_supervisor(specs, node_selector=spread_over(members)) as dsup:
            lost = {c.id for c in dsup.children() if c.node_id == victim.id}
            if len(lost) != PER_NODE:
                raise RuntimeError(f"the victim holds {len(lost)} children, not {PER_NODE}")
            try:
                with lifecycle_events(ctl) as events:
                    time.sleep(random.uniform(0.1, 1.1))  # a random phase against the heartbeats
                    t0 = time.monotonic()
                    if sig == signal.SIGKILL:
                        os.kill(victim.os_pid, signal.SIGKILL)
                    else:
                        victim.suspend()
                    t1 = await_migrated(events, lost, victim.id, t0)
                check_census(dsup, {h.id: h.os_pid for h in survivors})
                duplicates = extra_copies(ctl, baseline, [h.id for h in survivors])
            finally:
                # Before the supervisor stops: it must be able to reach the victim.
                if victim.suspended:
                    victim.resume()
            if sig == signal.SIGKILL:
                victim.kill()  # reaps it
            else:
                duplicates += await_dropped(ctl, victim.id, baseline[victim.id])
    note(f"{signal.Signals(sig).name} trial: the victim's {PER_NODE} children answered on "
         f"survivors after {(t1 - t0) * 1e3:.1f} ms; {duplicates} duplicates")  # fmt: skip
    return (t1 - t0) * 1e3, duplicates


def failover(args: argparse.Namespace, results: Results) -> None:
    """The kill -9 trials, then the SIGSTOP ones."""
    trials = FAILOVER_TRIALS_QUICK if args.quick else FAILOVER_TRIALS
    for sig, names in ((signal.SIGKILL, KILL_METRICS), (signal.SIGSTOP, STOP_METRICS)):
        if not results.wants(*names):
            continue
        runs = [failover_trial(sig, args.threads) for _ in range(trials)]
        times = [ms for ms, _ in runs]
        note(f"{names[0]}: fastest {min(times):.1f} ms, slowest {max(times):.1f} ms")
        results.emit(names[0], percentile(times, 50), "ms")
        results.emit(names[1], sum(d for _, d in runs), "count")


# --------------------------------------------------------------------------
# Restarting a crashed child on another node


def await_restarted(events: queue.Queue[dict[str, Any]], child_id: str) -> noexpp.Ref:
    """The Ref of ``child_id``'s replacement, from its ``child_restarted`` event."""
    deadline = time.monotonic() + WAIT_BOUND
    while True:
        event = next_event(events, deadline, f"a restart of {child_id}")
        if event["type"] == "child_restarted" and event.get("child_id") == child_id:
            ref: noexpp.Ref = event["pid"]
            return ref


def restart_remote(args: argparse.Namespace, results: Results) -> None:
    """Crash, then the replacement answering, 10 warm-up rounds then the measured ones."""
    n = RESTARTS_QUICK if args.quick else RESTARTS
    with bench_cluster(args.threads) as cluster:
        ctl, target = controller(cluster), cluster.ids[0]
        spec = noexpp.DistributedChildSpec("c0", WORKER, args=("c0",))
        samples: list[int] = []
        with ctl.start_distributed_supervisor(
            [spec], node_selector={"node": target}, max_restarts=1_000_000, within=1.0
        ) as dsup, lifecycle_events(ctl) as events:  # fmt: skip
            ref = dsup.child("c0").ref
            for i in range(RESTART_WARMUP + n):
                if ref is None or ref.node_id != target:
                    raise RuntimeError(f"c0 is not running on {target}: {ref}")
                t0 = time.perf_counter_ns()
                ref.cast("crash")
                ref = await_restarted(events, "c0")
                ping(ref)
                t1 = time.perf_counter_ns()
                if i >= RESTART_WARMUP:
                    samples.append(t1 - t0)
    results.emit("dsup_restart_remote_p50", percentile(samples, 50) / 1e3, "us")
    results.emit("dsup_restart_remote_p99", percentile(samples, 99) / 1e3, "us")


# --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the selected groups; 0 when every one succeeded."""
    noexpp.set_log_level("warning")  # the controller: no info line per node_up / node_down
    groups: list[Group] = [
        (START_METRICS, start_1k),
        (KILL_METRICS + STOP_METRICS, failover),
        (RESTART_METRICS, restart_remote),
    ]
    return run_cluster_script(
        argv,
        __doc__,
        "1 start trial, 3 failover trials of each kind, 50 measured restarts",
        groups,
        note,
    )


if __name__ == "__main__":
    sys.exit(main())
