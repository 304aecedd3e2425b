"""Shared fixtures for the noexpp Python tests.

Synchronisation rules for every test here: no ``time.sleep``; a test waits on
a ``queue.Queue`` or ``threading.Event`` filled by a behavior, with a bound
(``TIMEOUT``), or polls a predicate with :func:`wait_for`. Every node a test
starts is stopped, also when the test fails.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import noexpp

#: Upper bound for any wait in the suite (seconds). Generous: a loaded CI
#: machine with 2 cores must never time out a correct implementation.
TIMEOUT = 10.0


def _wait_for(predicate: Callable[[], Any], timeout: float = TIMEOUT,
              interval: float = 0.01, what: str = "condition") -> None:
    """Polls ``predicate`` until it is truthy; fails the test after ``timeout``."""
    pause = threading.Event()  # never set: Event.wait is a bounded pause
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        pause.wait(interval)


class Inbox:
    """A queue a behavior fills and a test reads, every read bounded."""

    def __init__(self) -> None:
        self._q: queue.Queue[Any] = queue.Queue()

    def put(self, item: Any) -> None:
        self._q.put(item)

    def get(self, timeout: float = TIMEOUT) -> Any:
        try:
            return self._q.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"nothing arrived within {timeout}s") from None

    def drain(self) -> list[Any]:
        """Everything already queued, without waiting."""
        items = []
        while True:
            try:
                items.append(self._q.get_nowait())
            except queue.Empty:
                return items


@pytest.fixture
def wait_for() -> Callable[..., None]:
    """``wait_for(predicate, timeout=10)``: bounded polling of a predicate."""
    return _wait_for


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


@pytest.fixture
def make_node() -> Iterator[Callable[..., noexpp.Node]]:
    """``make_node(name, **options)`` -> a started node, stopped at teardown."""
    nodes: list[noexpp.Node] = []

    def make(name: str = "test", **options: Any) -> noexpp.Node:
        n = noexpp.Node(name, **options)
        nodes.append(n)
        n.start()
        return n

    try:
        yield make
    finally:
        for n in reversed(nodes):
            n.stop()


class Echo(noexpp.GenServer):
    """Replies with the request; used to prove a node still serves calls."""

    def handle_call(self, request: Any, caller: Any) -> Any:
        return request


@pytest.fixture
def echo_class() -> type[noexpp.GenServer]:
    return Echo


def assert_serves(node: noexpp.Node) -> None:
    """The node still spawns a process and answers a normal call."""
    ref = node.spawn(Echo)
    assert ref.call(("ping", 1), timeout=TIMEOUT) == ("ping", 1)
    ref.stop()


@pytest.fixture
def still_serves() -> Callable[[noexpp.Node], None]:
    return assert_serves
