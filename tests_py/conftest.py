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


# --- supervision ---------------------------------------------------------------

class PyProbe(noexpp.GenServer):
    """The Python twin of the C++ behavior "noexpp.probe" (same protocol), so
    one supervision suite runs over Python and C++ children.

    init(value=0, notify=None, trap_exit=False): sends ("up", self) to
    ``notify`` once started and ("terminated", self, reason) from terminate.
    call "ping" -> "pong", "get" -> value, ("add", n) -> new value, "crash"
    raises; cast/send "inc" -> value + 1, "crash" raises, ("stop", reason)
    stops. Trapped EXIT messages are ignored (a child that ignores its
    supervisor's shutdown and has to be killed).
    """

    def init(self, value: int = 0, notify: Any = None, trap_exit: bool = False) -> None:
        self.value = value
        self.notify = notify
        if trap_exit:
            self.trap_exit(True)
        if notify is not None:
            notify.send(("up", self.ref))

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "ping":
            return "pong"
        if request == "get":
            return self.value
        if request == "crash":
            raise RuntimeError("crash requested")
        if isinstance(request, tuple) and len(request) == 2 and request[0] == "add":
            self.value += request[1]
            return self.value
        raise ValueError(f"probe: unknown call {request!r}")

    def handle_cast(self, request: Any) -> None:
        self._act(request)

    def handle_info(self, message: Any) -> None:
        if isinstance(message, (noexpp.Exit, noexpp.Down)):
            return
        self._act(message)

    def terminate(self, reason: Any) -> None:
        if self.notify is not None:
            self.notify.send(("terminated", self.ref, str(reason)))

    def _act(self, message: Any) -> None:
        if message == "inc":
            self.value += 1
        elif message == "crash":
            raise RuntimeError("crash requested")
        elif isinstance(message, tuple) and len(message) == 2 and message[0] == "stop":
            self.stop(message[1])


@pytest.fixture(params=["python", "cpp"])
def probe(request: pytest.FixtureRequest) -> Any:
    """A child behavior with the probe protocol: the Python PyProbe class or
    the C++ "noexpp.probe" (tests using it run once for each)."""
    return PyProbe if request.param == "python" else "noexpp.probe"


@pytest.fixture
def py_probe() -> type[noexpp.GenServer]:
    """The Python probe class, for tests that need only one language."""
    return PyProbe


class EventRecorder:
    """Records a node's lifecycle events; tests wait on it with a bound."""

    def __init__(self, node: noexpp.Node) -> None:
        self._cv = threading.Condition()
        self._events: list[dict[str, Any]] = []
        self._unsubscribe = node.on_lifecycle_event(self._on_event)

    def _on_event(self, event: dict[str, Any]) -> None:
        with self._cv:
            self._events.append(event)
            self._cv.notify_all()

    def close(self) -> None:
        self._unsubscribe()

    @staticmethod
    def _matches(event: dict[str, Any], type: str | None, fields: dict[str, Any]) -> bool:
        if type is not None and event["type"] != type:
            return False
        return all(k in event and event[k] == v for k, v in fields.items())

    def select(self, type: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        """The events so far (in delivery order) of ``type`` whose fields equal ``fields``."""
        with self._cv:
            return [e for e in self._events if self._matches(e, type, fields)]

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
                        f"timed out after {timeout}s waiting for {count} {type or 'event'}(s) "
                        f"with {fields}; got {len(found)}: {found}")
                self._cv.wait(left)


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
    recs: list[EventRecorder] = []

    def make(n: noexpp.Node) -> EventRecorder:
        rec = EventRecorder(n)
        recs.append(rec)
        return rec

    try:
        yield make
    finally:
        for rec in recs:
            rec.close()


class Collector:
    """A process that forwards every message it receives to an Inbox: the
    ``notify`` target of probes."""

    def __init__(self, node: noexpp.Node) -> None:
        self.inbox = Inbox()
        inbox = self.inbox

        class Forwarder(noexpp.GenServer):
            def handle_call(self, request: Any, caller: Any) -> Any:
                return request

            def handle_info(self, message: Any) -> None:
                inbox.put(message)

        self.ref = node.spawn(Forwarder)

    def get(self, timeout: float = TIMEOUT) -> Any:
        return self.inbox.get(timeout)

    def until_marker(self) -> list[Any]:
        """Sends a marker through the process and returns everything that
        arrived before it: every message sent before this call, in order."""
        marker = ("marker", uuid.uuid4().hex)
        self.ref.send(marker)
        out = []
        while (m := self.inbox.get()) != marker:
            out.append(m)
        return out


@pytest.fixture
def collector(node: noexpp.Node) -> Collector:
    """A Collector process on ``node``."""
    return Collector(node)
