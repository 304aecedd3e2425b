"""Fixtures of the cluster integration tests (test_cluster_*.py), loaded by
``pytest_plugins = ["cluster_fixtures"]``: listening in-process nodes,
membership event recorders and LocalCluster node processes. Every node and
node process a test starts is stopped at teardown, also when it fails."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import noexpp
import pytest
from cluster_support import MembershipEvents

__all__ = ["cluster_cookie", "make_cluster_node", "membership", "process_cluster"]


@pytest.fixture
def cluster_cookie() -> str:
    """A cookie no other test uses (in-process nodes never share state)."""
    return "cookie-" + uuid.uuid4().hex


@pytest.fixture
def make_cluster_node(cluster_cookie: str) -> Iterator[Callable[..., noexpp.Node]]:
    """``make_cluster_node(name, **options)`` -> a listening node on
    127.0.0.1 (any free port) with this test's cookie, unless given.
    Every node made is stopped at teardown, newest first."""
    nodes: list[noexpp.Node] = []

    def make(name: str, **options: Any) -> noexpp.Node:
        options.setdefault("cookie", cluster_cookie)
        options.setdefault("listen", "127.0.0.1:0")
        n = noexpp.Node(name, **options)
        nodes.append(n)
        return n

    try:
        yield make
    finally:
        for n in reversed(nodes):
            n.stop(grace=2.0)


@pytest.fixture
def membership() -> Iterator[Callable[[noexpp.Node], MembershipEvents]]:
    """``membership(node)`` -> a MembershipEvents recorder, closed at teardown."""
    recs: list[MembershipEvents] = []

    def make(node: noexpp.Node) -> MembershipEvents:
        rec = MembershipEvents(node)
        recs.append(rec)
        return rec

    try:
        yield make
    finally:
        for rec in recs:
            rec.close()


@pytest.fixture
def process_cluster() -> Iterator[Callable[..., Any]]:
    """``process_cluster(n, **options)`` -> a started
    ``LocalCluster(n, mode="processes", modules=["cluster_test_behaviors"])``,
    closed at teardown (suspended nodes are continued and every node
    process is stopped, also when the test fails)."""
    clusters: list[Any] = []

    def make(n: int, **options: Any) -> Any:
        options.setdefault("modules", ["cluster_test_behaviors"])
        cluster = noexpp.LocalCluster(n, mode="processes", **options)
        clusters.append(cluster)
        return cluster

    try:
        yield make
    finally:
        for cluster in reversed(clusters):
            for handle in cluster.nodes:
                if handle.suspended:
                    handle.resume()
            cluster.close()
            for handle in cluster.nodes:
                assert not handle.alive, f"node process {handle} outlived its cluster"
