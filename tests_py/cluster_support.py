"""Helpers of the cluster integration tests (test_cluster_*.py and the
remote spawn and global registry suites), on top of helpers.py (same rules:
no time.sleep, every wait bounded). The fixtures are in cluster_fixtures.py
(a pytest plugin the test modules name in ``pytest_plugins``).
"""
from __future__ import annotations

from typing import Any

import cluster_test_behaviors
import noexpp
from helpers import TIMEOUT, Collector, EventLog, wait_for

__all__ = ["WatchedEvents", "member_status", "wait_members_up"]


def member_status(node: noexpp.Node, peer_id: str) -> str | None:
    """How ``node`` sees ``peer_id`` ("up", "down"...), None if not at all."""
    for info in node.nodes()[1:]:
        if info.id == peer_id:
            return info.status
    return None


def wait_members_up(nodes: list[noexpp.Node], timeout: float = TIMEOUT) -> None:
    """Every node sees every other one "up"."""
    ids = {n.id for n in nodes}

    def meshed() -> bool:
        for n in nodes:
            up = {i.id for i in n.nodes()[1:] if i.status == "up"}
            if not (ids - {n.id}) <= up:
                return False
        return True

    wait_for(meshed, timeout, what=f"a full mesh of {sorted(ids)}")


# --- node processes (LocalCluster mode="processes") ---------------------------

class WatchedEvents(EventLog):
    """node_up / node_down events seen inside node OS processes: a
    cluster_test.node_watch process on each node reports them to a
    Collector in this interpreter. Each event is a dict: type, node,
    reason, monotonic (CLOCK_MONOTONIC, comparable with time.monotonic()
    here), observer (the node that saw it)."""

    def __init__(self, local: noexpp.Node, spawners: list[Any]) -> None:
        super().__init__("node processes")
        self._collector = Collector(local, sink=self._on_message)
        self.watchers = [s.spawn(cluster_test_behaviors.NODE_WATCH, self._collector.ref)
                         for s in spawners]
        for w in self.watchers:
            assert w.call("ping", timeout=TIMEOUT) == "pong"

    def _on_message(self, m: Any) -> None:
        if isinstance(m, tuple) and m and m[0] == "node_event":
            _, type_, node, reason, mono, observer = m
            self.add({"type": type_, "node": node, "reason": reason, "monotonic": mono,
                      "observer": observer})
