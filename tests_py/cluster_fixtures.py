"""Fixtures of the cluster integration tests (test_cluster_*.py and the
suites on remote spawn, global names and LocalCluster), loaded by
``pytest_plugins = ["cluster_fixtures"]``: listening in-process nodes,
membership event recorders and LocalCluster node processes. Every node and
node process a test starts is stopped at teardown, also when it fails."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import noexpp
import pytest
from cluster_support import wait_members_up
from cluster_test_behaviors import PROBE
from helpers import MembershipEvents, close_cluster, closing_factory

__all__ = ["cluster_cookie", "make_cluster_node", "membership", "pair", "process_cluster",
           "remote_probe"]


@pytest.fixture
def cluster_cookie() -> str:
    """A cookie no other test uses (in-process nodes never share state)."""
    return "cookie-" + uuid.uuid4().hex


@pytest.fixture
def make_cluster_node(cluster_cookie: str) -> Iterator[Callable[..., noexpp.Node]]:
    """``make_cluster_node(name, **options)`` -> a listening node on
    127.0.0.1 (any free port) with this test's cookie, unless given.
    Every node made is stopped at teardown, newest first."""
    def make(name: str, **options: Any) -> noexpp.Node:
        options.setdefault("cookie", cluster_cookie)
        options.setdefault("listen", "127.0.0.1:0")
        return noexpp.Node(name, **options)

    with closing_factory(make, lambda n: n.stop(grace=2.0)) as make_one:
        yield make_one


@pytest.fixture
def pair(make_cluster_node: Callable[..., noexpp.Node]) -> tuple[noexpp.Node, noexpp.Node]:
    """Two connected in-process nodes: (local, remote)."""
    a = make_cluster_node("alpha")
    b = make_cluster_node("beta", seeds=[a.id])
    wait_members_up([a, b])
    return a, b


@pytest.fixture(params=["python", "cpp"])
def remote_probe(request: pytest.FixtureRequest) -> str:
    """The probe protocol by behavior name, as a Python behavior and as the
    C++ "noexpp.probe" (tests using it run once for each)."""
    return PROBE if request.param == "python" else "noexpp.probe"


@pytest.fixture
def membership() -> Iterator[Callable[[noexpp.Node], MembershipEvents]]:
    """``membership(node)`` -> a MembershipEvents recorder, closed at teardown."""
    with closing_factory(MembershipEvents, MembershipEvents.close) as make:
        yield make


@pytest.fixture
def process_cluster() -> Iterator[Callable[..., noexpp.LocalCluster]]:
    """``process_cluster(n, **options)`` -> a started
    ``LocalCluster(n, mode="processes", modules=["cluster_test_behaviors"])``,
    closed at teardown (suspended nodes are continued and every node
    process is stopped, also when the test fails)."""
    def make(n: int, **options: Any) -> noexpp.LocalCluster:
        options.setdefault("modules", ["cluster_test_behaviors"])
        return noexpp.LocalCluster(n, mode="processes", **options)

    with closing_factory(make, close_cluster) as make_one:
        yield make_one
