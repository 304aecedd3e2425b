"""Shared fixtures for the noexpp Python tests (the helpers they hand out
are in helpers.py, which also states the suite's synchronisation rules).
Every node a test starts is stopped, also when the test fails."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import helpers
import noexpp
from helpers import Collector, EventRecorder, Inbox, Probe


@pytest.fixture
def wait_for() -> Callable[..., None]:
    """``wait_for(predicate, timeout=10)``: bounded polling of a predicate."""
    return helpers.wait_for


@pytest.fixture
def inbox() -> Inbox:
    """A fresh bounded queue for messages from behaviors to the test."""
    return Inbox()


@pytest.fixture
def make_inbox() -> Callable[[], Inbox]:
    """A factory for more than one inbox in a test."""
    return Inbox


@pytest.fixture
def unique() -> Callable[[str], str]:
    """``unique("echo")`` -> a name no other test uses (registries are process-wide)."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def node() -> Iterator[noexpp.Node]:
    """A started single node (default threads), always stopped afterwards."""
    n = noexpp.Node("test")
    n.start()
    try:
        yield n
    finally:
        n.stop()


def _started_node(name: str = "test", **options: Any) -> noexpp.Node:
    return noexpp.Node(name, **options).start()


@pytest.fixture
def make_node() -> Iterator[Callable[..., noexpp.Node]]:
    """``make_node(name, **options)`` -> a started node, stopped at teardown."""
    with helpers.closing_factory(_started_node, noexpp.Node.stop) as make:
        yield make


@pytest.fixture
def echo_class() -> type[noexpp.GenServer]:
    return helpers.Echo


@pytest.fixture
def still_serves() -> Callable[[noexpp.Node], None]:
    """``still_serves(node)``: the node still spawns and answers a call."""
    return helpers.assert_serves


# --- supervision ---------------------------------------------------------------

@pytest.fixture(params=["python", "cpp"])
def probe(request: pytest.FixtureRequest) -> Any:
    """A child behavior with the probe protocol: the Python Probe class or
    the C++ "noexpp.probe" (tests using it run once for each)."""
    return Probe if request.param == "python" else "noexpp.probe"


@pytest.fixture
def py_probe() -> type[noexpp.GenServer]:
    """The Python probe class, for tests that need only one language."""
    return Probe


@pytest.fixture
def events(node: noexpp.Node) -> Iterator[EventRecorder]:
    """Lifecycle events of ``node``, recorded from before the test starts anything."""
    rec = EventRecorder(node)
    try:
        yield rec
    finally:
        rec.close()


@pytest.fixture
def make_recorder() -> Iterator[Callable[[noexpp.Node], EventRecorder]]:
    """``make_recorder(node)`` -> another EventRecorder, closed at teardown."""
    with helpers.closing_factory(EventRecorder, EventRecorder.close) as make:
        yield make


@pytest.fixture
def collector(node: noexpp.Node) -> Collector:
    """A Collector process on ``node``."""
    return Collector(node)
