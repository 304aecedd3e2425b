"""Soak: three node processes on 127.0.0.1 (real TCP, one cookie) under
mixed traffic for a bounded time, and their memory must stay flat.

Every node runs a ``soak.driver`` (soak_behaviors.py) that sends to the two
others, round after round: remote calls, casts (each counted at its
receiver: none may be lost), spawns of short-lived processes that are
monitored and stopped or linked and crashed, monitors taken and dropped,
global names registered and unregistered, short-lived local processes, a
supervisor restarting a crashing worker, and timers (one cancelled each
round). Meanwhile this interpreter samples each node's VmRSS (from
/proc/<pid>/status) twice a second.

Asserted: after a warm-up, the median RSS of the last third of the samples
is within max(FLAT_MB, FLAT_FRACTION of it) of the median of the first
third, for every node (a leak of 1 KB per message sent fails it many times
over: see docs/cluster.md "Soak test"); the traffic really happened (rounds
and checked answers above a floor, no error of any kind, every cast
counted by its receiver); and once it ends, each node is back to its
process count, threads and file descriptors of before the traffic.

Short by default (for CI). ``NOEXPP_SOAK_SECONDS`` sets the seconds of
traffic (default 35; e.g. 1800 for a long run).
"""
from __future__ import annotations

import contextlib
import os
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import noexpp
import pytest
from chaos_support import proc_counts
from helpers import wait_for
from soak_behaviors import CASTS_PER_PEER, DRIVER, DRIVER_NAME, ECHO_CASTS_PER_PEER

pytest_plugins = ["cluster_fixtures"]

SECONDS = float(os.environ.get("NOEXPP_SOAK_SECONDS") or 35.0)
NODES = 3
#: Traffic before the first sample that counts: caches, arenas and the
#: allocator's pools fill up during it.
WARMUP = max(8.0, SECONDS / 4)
SAMPLE_INTERVAL = 0.5
#: How far the last third's median may be above the first third's.
FLAT_MB = 30.0
FLAT_FRACTION = 0.25
#: Floors on the traffic, per node and second of traffic: far below what a
#: loaded 2-CPU machine does (see the printed figures), far above nothing.
MIN_ROUNDS_PER_S = 1.0
#: Slack for threads and fds once the traffic ended (as the chaos test).
SLACK = 2

pytestmark = [pytest.mark.soak, pytest.mark.timeout(SECONDS + 240)]


def vm_rss_mb(os_pid: int) -> float:
    """The resident set size of a process in MB, from /proc/<pid>/status."""
    with open(f"/proc/{os_pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise AssertionError(f"no VmRSS for pid {os_pid}")


class RssSampler:
    """Samples VmRSS of the node processes every SAMPLE_INTERVAL in a thread:
    ``samples[name]`` is a list of (seconds since start, MB)."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self._halt = threading.Event()
        self.start = time.monotonic()
        self.samples: dict[str, list[tuple[float, float]]] = {name: [] for name in pids}
        self._thread = threading.Thread(target=self._run, name="soak-rss", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._halt.wait(SAMPLE_INTERVAL):
            now = time.monotonic() - self.start
            for name, pid in self._pids.items():
                # A process gone is reported by the test, not here.
                with contextlib.suppress(OSError):
                    self.samples[name].append((now, vm_rss_mb(pid)))

    def stop(self) -> None:
        """Ends the sampling (bounded)."""
        self._halt.set()
        self._thread.join(10.0)
        assert not self._thread.is_alive(), "the RSS sampler hung"

    def verdict(self, name: str, end: float) -> tuple[float, float, float, int]:
        """(baseline MB, final MB, allowed growth MB, samples) of ``name``
        over the samples from WARMUP to ``end`` (seconds since start)."""
        window = [mb for t, mb in self.samples[name] if WARMUP <= t <= end]
        assert len(window) >= 9, f"{name}: only {len(window)} RSS samples after the warm-up"
        third = len(window) // 3
        baseline = statistics.median(window[:third])
        final = statistics.median(window[-third:])
        return baseline, final, max(FLAT_MB, FLAT_FRACTION * baseline), len(window)


def _handles(cluster: noexpp.LocalCluster) -> list[noexpp.NodeHandle]:
    out = []
    for h in cluster.nodes:
        assert isinstance(h, noexpp.NodeHandle)
        out.append(h)
    return out


def test_soak_mixed_traffic_keeps_memory_flat_and_loses_nothing(
        process_cluster: Callable[..., noexpp.LocalCluster]) -> None:
    """See the module docstring; the figures are printed (``-s``)."""
    cluster = process_cluster(NODES, modules=["soak_behaviors"])
    ctl = cluster.controller
    assert ctl is not None
    handles = _handles(cluster)
    ids = [h.id for h in handles]
    drivers = {h.id: ctl.spawn_remote(h.id, DRIVER, name=DRIVER_NAME, timeout=30.0)
               for h in handles}
    for d in drivers.values():
        d.call("setup", timeout=30.0)
    for node_id, d in drivers.items():
        d.call(("targets", [p for p in ids if p != node_id]), timeout=30.0)
    # Every node now runs what it will run for the whole soak.
    base_procs = {h.id: drivers[h.id].call("report", timeout=10.0)["process_count"]
                  for h in handles}
    base_os = {h.id: proc_counts(h.os_pid) for h in handles}

    sampler = RssSampler({h.id: h.os_pid for h in handles})
    reports: dict[str, Any] = {}
    try:
        for d in drivers.values():
            assert d.call(("start", SECONDS), timeout=10.0) == "started"
        last: dict[str, Any] = {}

        def done() -> bool:
            for node_id, d in drivers.items():
                last[node_id] = d.call("report", timeout=10.0)
            return not any(r["running"] for r in last.values())

        wait_for(done, SECONDS + 60.0, interval=1.0, what="the drivers to end their traffic")
        traffic_end = time.monotonic() - sampler.start
    finally:
        sampler.stop()
        for node_id, d in drivers.items():  # also after a failure: no traffic outlives it
            try:
                reports[node_id] = d.call("stop", timeout=60.0)
            except noexpp.NoexppError as e:
                reports[node_id] = {"stop_failed": f"{type(e).__name__}: {e}"}

    # ---- the traffic happened, and nothing was lost --------------------------
    for node_id, r in reports.items():
        assert "stop_failed" not in r, f"{node_id}: {r}"
        c, sent = r["counts"], r["sent"]
        print(f"{node_id}: {c.get('round', 0)} rounds; sent {sent.get('call', 0)} calls, "
              f"{sent.get('cast', 0)} casts, {sent.get('spawn', 0)} remote spawns, "
              f"{sent.get('global', 0)} global names, {sent.get('crash', 0)} worker crashes, "
              f"{sent.get('timer', 0)} timers; counted {c.get('call_ok', 0)} answers, "
              f"{c.get('down', 0)} DOWN, {c.get('exit', 0)} EXIT, {c.get('restart', 0)} restarts, "
              f"{c.get('tick', 0)} ticks")
        assert r["error_count"] == 0, f"{node_id}: {r['error_count']} errors, last: {r['errors']}"
        assert not [k for k in c if k.startswith("error:")], f"{node_id}: {c}"
        rounds = c.get("round", 0)
        assert rounds >= MIN_ROUNDS_PER_S * SECONDS, f"{node_id}: only {rounds} rounds"
        # Each round checks each of its kinds at least once per peer (or once).
        peers = NODES - 1
        assert c["call_ok"] == sent["call"], (c, sent)  # every call answered, rightly
        assert c["casts_checked"] >= 2 * peers * rounds - 2 * peers, c
        assert c["down"] >= peers * rounds - peers and c["exit"] >= peers * rounds - peers, c
        assert c["global_name"] >= rounds - 1 and c["restart"] >= rounds - 1, c
        assert c["tick"] >= 5 * (rounds - 1) and c["local_spawn"] >= 3 * (rounds - 1), c
        # Each round's count check (casts_checked) was exact: every cast this
        # driver sent arrived, once; these are the totals.
        for peer, (probe_casts, echo_casts) in r["sinks"].items():
            assert probe_casts >= CASTS_PER_PEER * (rounds - 1), (node_id, peer, probe_casts)
            assert echo_casts >= ECHO_CASTS_PER_PEER * (rounds - 1), (node_id, peer, echo_casts)

    # ---- memory stayed flat --------------------------------------------------
    failures = []
    for h in handles:
        baseline, final, allowed, n = sampler.verdict(h.id, traffic_end)
        peak = max(mb for _, mb in sampler.samples[h.id])
        print(f"{h.id}: RSS baseline {baseline:.1f} MB, last third {final:.1f} MB "
              f"({final - baseline:+.1f}, allowed +{allowed:.1f}), peak {peak:.1f} MB, "
              f"{n} samples over {traffic_end - WARMUP:.0f} s after a {WARMUP:.0f} s warm-up")
        if final - baseline > allowed:
            failures.append(f"{h.id}: RSS grew from {baseline:.1f} to {final:.1f} MB "
                            f"(allowed +{allowed:.1f}): {sampler.samples[h.id]}")
    assert not failures, "\n".join(failures)

    # ---- back to the baseline once the traffic ended -------------------------
    def settled() -> list[str]:
        out = []
        for h in handles:
            procs = drivers[h.id].call("report", timeout=10.0)["process_count"]
            if procs != base_procs[h.id]:
                out.append(f"{h.id}: {procs} processes, {base_procs[h.id]} before the traffic")
            threads, fds = proc_counts(h.os_pid)
            base_threads, base_fds = base_os[h.id]
            if threads > base_threads + SLACK or fds > base_fds + SLACK:
                out.append(f"{h.id}: {threads} threads / {fds} fds, "
                           f"{base_threads} / {base_fds} before the traffic")
        return out

    still: list[list[str]] = [[]]

    def ok() -> bool:
        still[0] = settled()
        return not still[0]

    try:
        wait_for(ok, 30.0, interval=0.2, what="processes, threads and fds back to their baseline")
    except AssertionError as e:
        raise AssertionError(f"{e}: {still[0]}") from None
    for h in handles:
        print(f"{h.id}: {base_procs[h.id]} processes, threads/fds {proc_counts(h.os_pid)} "
              f"(before the traffic {base_os[h.id]})")
