"""Shared helpers of the cluster integration tests (test_cluster_*.py).

Same rules as conftest.py: no time.sleep, every wait bounded. The fixtures
are in cluster_fixtures.py (a pytest plugin the test modules name in
``pytest_plugins``).
"""
from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import cluster_test_behaviors  # noqa: F401  (registers the cluster_test.* behaviors here too)
import noexpp
from conftest import TIMEOUT, Inbox, _wait_for

__all__ = [
    "TIMEOUT",
    "Collector",
    "Inbox",
    "MembershipEvents",
    "MonitorRecorder",
    "OpenCall",
    "WatchedEvents",
    "member_status",
    "pause",
    "wait_members_up",
    "wait_until",
]


def wait_until(predicate: Callable[[], Any], timeout: float = TIMEOUT, what: str = "condition") -> None:
    _wait_for(predicate, timeout=timeout, what=what)


def pause(seconds: float) -> None:
    """A bounded observation window (for asserting that something does NOT
    happen), never used to wait for something to happen."""
    threading.Event().wait(seconds)


class MembershipEvents:
    """Records a node's node_up / node_down events with the local monotonic
    time they were delivered; tests wait on it with a bound."""

    def __init__(self, node: noexpp.Node) -> None:
        self.node_id = node.id
        self._cv = threading.Condition()
        self._events: list[dict[str, Any]] = []
        self._unsubscribe = [node.on("node_up", self._on_event), node.on("node_down", self._on_event)]

    def _on_event(self, event: dict[str, Any]) -> None:
        received = time.monotonic()
        with self._cv:
            self._events.append({**event, "received": received})
            self._cv.notify_all()

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            with contextlib.suppress(noexpp.NoexppError):  # the node is gone already
                unsubscribe()
        self._unsubscribe = []

    @staticmethod
    def _matches(event: dict[str, Any], type: str | None, fields: dict[str, Any]) -> bool:
        if type is not None and event["type"] != type:
            return False
        return all(k in event and event[k] == v for k, v in fields.items())

    def select(self, type: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        with self._cv:
            return [e for e in self._events if self._matches(e, type, fields)]

    def all(self) -> list[dict[str, Any]]:
        with self._cv:
            return list(self._events)

    def wait(self, type: str | None = None, count: int = 1, timeout: float = TIMEOUT,
             **fields: Any) -> list[dict[str, Any]]:
        """Waits until ``count`` matching events arrived; returns all matching ones."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                found = [e for e in self._events if self._matches(e, type, fields)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{self.node_id}: timed out after {timeout}s waiting for {count} "
                        f"{type or 'event'}(s) with {fields}; got {self._events}")
                self._cv.wait(left)


class Collector:
    """A process on ``node`` that forwards every message it gets (sends and
    casts) to an Inbox: the ``notify`` target of the cluster_test behaviors,
    reachable from any node through its Ref."""

    def __init__(self, node: noexpp.Node) -> None:
        self.inbox = Inbox()
        inbox = self.inbox

        class Forwarder(noexpp.GenServer):
            def handle_call(self, request: Any, caller: Any) -> Any:
                return request

            def handle_cast(self, request: Any) -> None:
                inbox.put(request)

            def handle_info(self, message: Any) -> None:
                inbox.put(message)

        self.ref = node.spawn(Forwarder)

    def get(self, timeout: float = TIMEOUT) -> Any:
        return self.inbox.get(timeout)

    def get_match(self, predicate: Callable[[Any], bool], timeout: float = TIMEOUT) -> Any:
        """The first message that satisfies ``predicate`` (others are dropped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching message within {timeout}s")
            m = self.inbox.get(left)
            if predicate(m):
                return m


class OpenCall:
    """A call running in a thread; records how and when it ended."""

    def __init__(self, ref: Any, request: Any, timeout: float) -> None:
        self.error: BaseException | None = None
        self.result: Any = None
        self.ended_at = float("inf")  # time.monotonic() when it ended
        self._done = threading.Event()

        def run() -> None:
            try:
                self.result = ref.call(request, timeout=timeout)
            except BaseException as e:  # noqa: BLE001
                self.error = e
            self.ended_at = time.monotonic()
            self._done.set()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def wait(self, timeout: float = TIMEOUT) -> None:
        assert self._done.wait(timeout), f"the open call did not end within {timeout}s"
        self._thread.join(timeout)


class MonitorRecorder:
    """node.monitor callbacks, with the time each fired."""

    def __init__(self) -> None:
        self.fired: list[tuple[Any, Any, float]] = []
        self._cv = threading.Condition()

    def callback(self, ref: Any, reason: Any) -> None:
        with self._cv:
            self.fired.append((ref, reason, time.monotonic()))
            self._cv.notify_all()

    def wait(self, count: int = 1, timeout: float = TIMEOUT) -> list[tuple[Any, Any, float]]:
        with self._cv:
            assert self._cv.wait_for(lambda: len(self.fired) >= count, timeout), self.fired
            return list(self.fired)

    def reasons(self) -> list[Any]:
        """The reasons so far, in the order they fired."""
        with self._cv:
            return [reason for _, reason, _ in self.fired]


def member_status(node: noexpp.Node, peer_id: str) -> str | None:
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

    wait_until(meshed, timeout, what=f"a full mesh of {sorted(ids)}")





# --- node processes (LocalCluster mode="processes") ---------------------------

class WatchedEvents:
    """node_up / node_down events seen inside node OS processes: a
    cluster_test.node_watch process on each node reports them to a
    Collector in this interpreter. Each event is a dict: type, node,
    reason, monotonic (CLOCK_MONOTONIC, comparable with time.monotonic()
    here), observer (the node that saw it)."""

    def __init__(self, local: noexpp.Node, spawners: list[Any]) -> None:
        from cluster_test_behaviors import NODE_WATCH

        self._collector = Collector(local)
        self._events: list[dict[str, Any]] = []
        self.watchers = [s.spawn(NODE_WATCH, self._collector.ref) for s in spawners]
        for w in self.watchers:
            assert w.call("ping", timeout=TIMEOUT) == "pong"

    def _pump(self, timeout: float) -> bool:
        try:
            m = self._collector.get(timeout)
        except AssertionError:
            return False
        if isinstance(m, tuple) and m and m[0] == "node_event":
            _, type_, node, reason, mono, observer = m
            self._events.append({"type": type_, "node": node, "reason": reason,
                                 "monotonic": mono, "observer": observer})
        return True

    def select(self, type: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        while self._pump(0.0):
            pass
        return [e for e in self._events
                if (type is None or e["type"] == type) and all(e.get(k) == v for k, v in fields.items())]

    def wait(self, type: str | None = None, count: int = 1, timeout: float = TIMEOUT,
             **fields: Any) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.select(type, **fields)
            if len(found) >= count:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out after {timeout}s waiting for {count} {type}(s) "
                                     f"with {fields}; got {self._events}")
            self._pump(min(left, 0.2))
