"""Helpers shared by every noexpp Python test module (one copy of each).

Synchronisation rules for the whole suite: no ``time.sleep``; a test waits
on something a behavior or an engine callback delivers (an :class:`Inbox`,
a :class:`Recorder`), every wait bounded (``TIMEOUT``), or polls a predicate
with :func:`wait_for`.

This module imports neither pytest nor the test fixtures: node OS processes
import it too (through the behavior modules they are given), so it holds
plain code only. The fixtures are in conftest.py and cluster_fixtures.py.
"""
from __future__ import annotations

import contextlib
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import noexpp

__all__ = [
    "TIMEOUT", "Collector", "Echo", "EventLog", "EventRecorder", "Holder", "Inbox", "InThread",
    "MembershipEvents", "MonitorRecorder", "Probe", "Recorder", "assert_serves", "close_cluster",
    "closing_factory", "pause", "run_in_threads", "tell", "wait_for",
]

#: Upper bound for any wait in the suite (seconds). Generous: a loaded CI
#: machine with 2 cores must never time out a correct implementation.
TIMEOUT = 10.0

_T = TypeVar("_T")


# --- waiting ---------------------------------------------------------------------

def wait_for(predicate: Callable[[], Any], timeout: float = TIMEOUT, interval: float = 0.01,
             what: str = "condition") -> None:
    """Polls ``predicate`` until it is truthy; fails the test after ``timeout``."""
    pause_ = threading.Event()  # never set: Event.wait is a bounded pause
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        pause_.wait(interval)


def pause(seconds: float) -> None:
    """A bounded observation window (for asserting that something does NOT
    happen), never used to wait for something to happen."""
    threading.Event().wait(seconds)


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


class Recorder:
    """Items delivered from other threads (engine callbacks, forwarding
    processes), kept in arrival order; tests wait on them with a bound."""

    def __init__(self, label: str = "") -> None:
        self.label = label
        self._cv = threading.Condition()
        self._items: list[Any] = []

    def add(self, item: Any) -> None:
        with self._cv:
            self._items.append(item)
            self._cv.notify_all()

    def all(self) -> list[Any]:
        """Everything so far, in arrival order."""
        with self._cv:
            return list(self._items)

    def wait_matching(self, matches: Callable[[Any], bool], count: int = 1,
                      timeout: float = TIMEOUT, what: str = "item") -> list[Any]:
        """Waits until ``count`` items satisfy ``matches``; returns all that do."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                found = [item for item in self._items if matches(item)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    prefix = f"{self.label}: " if self.label else ""
                    raise AssertionError(
                        f"{prefix}timed out after {timeout}s waiting for {count} {what}(s); "
                        f"got {len(found)} of {len(self._items)}: {self._items}")
                self._cv.wait(left)


class EventLog(Recorder):
    """Event dicts (each with a ``type``), selected and waited on by type and fields."""

    @staticmethod
    def _matches(event: dict[str, Any], type: str | None, fields: dict[str, Any]) -> bool:
        if type is not None and event["type"] != type:
            return False
        return all(k in event and event[k] == v for k, v in fields.items())

    def select(self, type: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        """The events so far (in delivery order) of ``type`` whose fields equal ``fields``."""
        return [e for e in self.all() if self._matches(e, type, fields)]

    def count(self, type: str | None = None, **fields: Any) -> int:
        return len(self.select(type, **fields))

    def wait(self, type: str | None = None, count: int = 1, timeout: float = TIMEOUT,
             **fields: Any) -> list[dict[str, Any]]:
        """Waits until ``count`` matching events arrived; returns all matching ones."""
        return self.wait_matching(lambda e: self._matches(e, type, fields), count, timeout,
                                  what=f"{type or 'event'} with {fields}")


class EventRecorder(EventLog):
    """Records a node's lifecycle events (``node.on_lifecycle_event``)."""

    def __init__(self, node: noexpp.Node) -> None:
        super().__init__(node.id)
        self._unsubscribe = node.on_lifecycle_event(self.add)

    def close(self) -> None:
        self._unsubscribe()


class MembershipEvents(EventLog):
    """Records a node's node_up / node_down events, each with ``received``:
    the local monotonic time it was delivered."""

    def __init__(self, node: noexpp.Node) -> None:
        super().__init__(node.id)
        self.node_id = node.id
        self._unsubscribe = [node.on("node_up", self._on_event),
                             node.on("node_down", self._on_event)]

    def _on_event(self, event: dict[str, Any]) -> None:
        self.add({**event, "received": time.monotonic()})

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            with contextlib.suppress(noexpp.NoexppError):  # the node is gone already
                unsubscribe()
        self._unsubscribe = []


class MonitorRecorder(Recorder):
    """node.monitor callbacks, each as (ref, reason, monotonic time it fired)."""

    def callback(self, ref: Any, reason: Any) -> None:
        self.add((ref, reason, time.monotonic()))

    def wait(self, count: int = 1, timeout: float = TIMEOUT) -> list[tuple[Any, Any, float]]:
        return self.wait_matching(lambda _: True, count, timeout, what="monitor callback")

    def reasons(self) -> list[Any]:
        """The reasons so far, in the order they fired."""
        return [reason for _, reason, _ in self.all()]


class InThread:
    """``fn(*args, **kwargs)`` running in a thread (a call or a spawn that
    may block); records its result or error and when it ended."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.what = getattr(fn, "__name__", "the call")
        self.result: Any = None
        self.error: BaseException | None = None
        self.ended_at = float("inf")  # time.monotonic() when it ended
        self._done = threading.Event()

        def run() -> None:
            try:
                self.result = fn(*args, **kwargs)
            except BaseException as e:  # noqa: BLE001 - reported to the test thread
                self.error = e
            self.ended_at = time.monotonic()
            self._done.set()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def wait(self, timeout: float = TIMEOUT) -> None:
        assert self._done.wait(timeout), f"{self.what} did not end within {timeout}s"
        self._thread.join(timeout)


def run_in_threads(worker: Callable[[int], None], count: int,
                   timeout: float = 60.0) -> list[BaseException]:
    """Runs ``worker(0)`` ... ``worker(count - 1)`` at once, each in its own
    thread, and waits (bounded) until all have returned; returns what they
    raised, in no particular order."""
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            worker(i)
        except BaseException as e:  # noqa: BLE001 - reported to the test thread
            with lock:
                errors.append(e)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), f"workers still running after {timeout}s"
    return errors


# --- fixtures' plumbing ----------------------------------------------------------

@contextlib.contextmanager
def closing_factory(make: Callable[..., _T],
                    close: Callable[[_T], None]) -> Iterator[Callable[..., _T]]:
    """``make`` that remembers what it made: on exit each is closed, newest
    first, also when the test failed (the body of a factory fixture)."""
    made: list[_T] = []

    def make_one(*args: Any, **kwargs: Any) -> _T:
        item = make(*args, **kwargs)
        made.append(item)
        return item

    try:
        yield make_one
    finally:
        for item in reversed(made):
            close(item)


def close_cluster(cluster: noexpp.LocalCluster) -> None:
    """Closes a processes-mode cluster (suspended nodes are continued first)
    and checks that no node process outlived it."""
    for handle in cluster.nodes:
        if isinstance(handle, noexpp.NodeHandle) and handle.suspended:
            handle.resume()
    cluster.close()
    for handle in cluster.nodes:
        assert isinstance(handle, noexpp.NodeHandle)
        assert not handle.alive, f"node process {handle} outlived its cluster"


# --- behaviors -------------------------------------------------------------------

def tell(target: Any, message: Any) -> None:
    """Sends ``message`` to ``target`` (a Ref) unless it is None."""
    if target is not None:
        target.send(message)


class Echo(noexpp.GenServer):
    """Replies with the request; used to prove a node still serves calls."""

    def handle_call(self, request: Any, caller: Any) -> Any:
        return request


def assert_serves(node: noexpp.Node) -> None:
    """The node still spawns a process and answers a normal call."""
    ref = node.spawn(Echo)
    assert ref.call(("ping", 1), timeout=TIMEOUT) == ("ping", 1)
    ref.stop()


class Holder(noexpp.GenServer):
    """"hold" is never answered until a "release" cast; "get" answers at once."""

    def init(self) -> None:
        self.held: list[Any] = []

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "hold":
            self.held.append(caller)
            return noexpp.NoReply
        if request == "crash":
            raise ValueError("crashed while handling the call")
        return ("fresh", request)

    def handle_cast(self, request: Any) -> None:
        if request == "release":
            for caller in self.held:
                self.reply(caller, "late")
            self.held.clear()
        elif request == "crash":
            raise RuntimeError("crashed with a call open")


class Probe(noexpp.GenServer):
    """The Python twin of the C++ behavior "noexpp.probe" (same protocol, see
    cpp/bindings/probe_behavior.cpp), so one suite runs over Python and C++
    children.

    init(value=0, notify=None, trap_exit=False): sends ("up", self) to
    ``notify`` once started and ("terminated", self, str(reason)) from
    terminate. call "ping" -> "pong", "get" -> value, ("add", n) -> new
    value, "crash" raises RuntimeError("crash requested"); cast/send "inc"
    -> value + 1, "crash" raises, ("stop", reason) stops. Trapped EXIT
    messages are ignored (a child that ignores its supervisor's shutdown and
    has to be killed).
    """

    def init(self, value: int = 0, notify: Any = None, trap_exit: bool = False) -> None:
        self.value = value
        self.notify = notify
        if trap_exit:
            self.trap_exit(True)
        tell(notify, ("up", self.ref))

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
        tell(self.notify, ("terminated", self.ref, str(reason)))

    def _act(self, message: Any) -> None:
        if message == "inc":
            self.value += 1
        elif message == "crash":
            raise RuntimeError("crash requested")
        elif isinstance(message, tuple) and len(message) == 2 and message[0] == "stop":
            self.stop(message[1])


class Collector:
    """A process on ``node`` that forwards every message it gets (sends and
    casts) to an Inbox, or to ``sink`` when given: the ``notify`` target of
    probes and of the cluster_test behaviors, reachable from any node
    through its Ref."""

    def __init__(self, node: noexpp.Node, sink: Callable[[Any], None] | None = None) -> None:
        self.inbox = Inbox()
        deliver = sink if sink is not None else self.inbox.put

        class Forwarder(noexpp.GenServer):
            def handle_call(self, request: Any, caller: Any) -> Any:
                return request

            def handle_cast(self, request: Any) -> None:
                deliver(request)

            def handle_info(self, message: Any) -> None:
                deliver(message)

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

    def until_marker(self) -> list[Any]:
        """Sends a marker through the process and returns everything that
        arrived before it: every message sent before this call, in order."""
        marker = ("marker", uuid.uuid4().hex)
        self.ref.send(marker)
        out = []
        while (m := self.inbox.get()) != marker:
            out.append(m)
        return out
