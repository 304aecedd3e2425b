"""Synchronous calls: timeouts, late replies, dead and crashing targets,
calling oneself, nested calls without deadlock, many callers at once."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import noexpp
from helpers import TIMEOUT, Holder, run_in_threads


def test_call_times_out(node: noexpp.Node) -> None:
    ref = node.spawn(Holder)
    with pytest.raises(noexpp.CallTimeout) as info:
        ref.call("hold", timeout=0.2)
    assert isinstance(info.value, TimeoutError)
    assert isinstance(info.value, noexpp.NoexppError)
    assert ref.alive
    assert ref.call("get", timeout=TIMEOUT) == ("fresh", "get")


def test_a_zero_timeout_is_refused_with_value_error(node: noexpp.Node) -> None:
    # One rule for local and remote targets (test_cluster_remote has the
    # remote one): a call needs time for its answer.
    ref = node.spawn(Holder)
    with pytest.raises(ValueError, match="timeout must be > 0"):
        ref.call("get", timeout=0)
    assert ref.call("get", timeout=TIMEOUT) == ("fresh", "get")


def test_late_reply_after_timeout_is_dropped(node: noexpp.Node) -> None:
    ref = node.spawn(Holder)
    for _ in range(3):
        with pytest.raises(noexpp.CallTimeout):
            ref.call("hold", timeout=0.1)
    # The release cast is handled before the next call (one sender, in order),
    # so three stale replies are sent before the fresh one.
    ref.cast("release")
    for i in range(5):
        assert ref.call(("get", i), timeout=TIMEOUT) == ("fresh", ("get", i))


def test_late_reply_is_not_delivered_to_another_thread_call(node: noexpp.Node) -> None:
    ref = node.spawn(Holder)
    with pytest.raises(noexpp.CallTimeout):
        ref.call("hold", timeout=0.1)
    ref.cast("release")
    out: list[Any] = []
    t = threading.Thread(target=lambda: out.append(ref.call("other", timeout=TIMEOUT)))
    t.start()
    t.join(TIMEOUT + 5)
    assert out == [("fresh", "other")]


def test_call_to_stopped_process_raises_no_process(node: noexpp.Node) -> None:
    ref = node.spawn(Holder)
    ref.stop()
    with pytest.raises(noexpp.NoProcess) as info:
        ref.call("get", timeout=TIMEOUT)
    assert isinstance(info.value, noexpp.NoexppError)


def test_call_to_crashed_process_raises_no_process(node: noexpp.Node, inbox: Any) -> None:
    ref = node.spawn(Holder)
    node.monitor(ref, lambda r, reason: inbox.put(reason))
    ref.cast("crash")
    assert inbox.get().kind == "error"
    with pytest.raises(noexpp.NoProcess):
        ref.call("get", timeout=TIMEOUT)


def test_call_crashing_the_target_raises_process_crashed(node: noexpp.Node) -> None:
    ref = node.spawn(Holder)
    with pytest.raises(noexpp.ProcessCrashed) as info:
        ref.call("crash", timeout=TIMEOUT)
    exc = info.value
    assert isinstance(exc, noexpp.NoexppError)
    assert exc.reason.kind == "error"
    assert exc.reason.error_type == "ValueError"
    assert "crashed while handling the call" in exc.reason.message
    assert not ref.alive


def test_open_call_gets_process_crashed_when_target_dies_later(node: noexpp.Node, inbox: Any) -> None:
    class Signalling(Holder):
        def handle_call(self, request: Any, caller: Any) -> Any:
            reply = super().handle_call(request, caller)
            inbox.put(request)
            return reply

    ref = node.spawn(Signalling)
    result: list[BaseException] = []

    def caller() -> None:
        try:
            ref.call("hold", timeout=30.0)
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            result.append(exc)

    t = threading.Thread(target=caller)
    t.start()
    assert inbox.get() == "hold"
    ref.cast("crash")
    t.join(20)
    assert not t.is_alive(), "the open call did not fail when its target crashed"
    assert len(result) == 1
    exc = result[0]
    assert isinstance(exc, noexpp.ProcessCrashed), repr(exc)
    assert exc.reason.kind == "error"
    assert exc.reason.error_type == "RuntimeError"
    assert "crashed with a call open" in exc.reason.message


def test_calling_self_fails_immediately(node: noexpp.Node) -> None:
    class Narcissus(noexpp.GenServer):
        def handle_call(self, request: Any, caller: Any) -> Any:
            if request == "self":
                try:
                    self.ref.call("inner", timeout=60.0)
                except noexpp.NoexppError as exc:
                    return ("error", type(exc).__name__, isinstance(exc, noexpp.CallTimeout))
                return "no error"
            return "inner-reply"

    ref = node.spawn(Narcissus)
    # Far below the 60 s inner timeout: the error must be immediate.
    kind, _name, was_timeout = ref.call("self", timeout=TIMEOUT)
    assert kind == "error"
    assert not was_timeout
    assert ref.call("again") == "inner-reply"


class Forwarder(noexpp.GenServer):
    """Calls the next process synchronously from inside handle_call."""

    def init(self, nxt: Any, label: str) -> None:
        self.next = nxt
        self.label = label

    def handle_call(self, request: Any, caller: Any) -> Any:
        if self.next is None:
            return [self.label, request]
        return [self.label, *self.next.call(request, timeout=TIMEOUT)]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("depth", [3, 5])
def test_nested_sync_calls_do_not_deadlock(make_node: Any, threads: int, depth: int) -> None:
    node = make_node(f"chain{threads}", threads=threads)
    ref = node.spawn(Forwarder, None, "p0")
    for i in range(1, depth):
        ref = node.spawn(Forwarder, ref, f"p{i}")
    expected = [f"p{i}" for i in reversed(range(depth))] + ["req"]
    assert ref.call("req", timeout=TIMEOUT * 2) == expected


@pytest.mark.parametrize("threads", [1, 2])
def test_sync_calls_from_init_cast_and_info_handlers(make_node: Any, inbox: Any, threads: int) -> None:
    """Not only handle_call: init, handle_cast and handle_info may call too."""

    class Caller(noexpp.GenServer):
        def init(self, target: Any) -> None:
            self.target = target
            self.from_init = target.call("from-init", timeout=TIMEOUT)

        def handle_cast(self, request: Any) -> None:
            inbox.put(("cast", self.target.call(request, timeout=TIMEOUT)))

        def handle_info(self, message: Any) -> None:
            inbox.put(("info", self.target.call(message, timeout=TIMEOUT)))

        def handle_call(self, request: Any, caller: Any) -> Any:
            return self.from_init

    node = make_node(f"handlers{threads}", threads=threads)
    leaf = node.spawn(Forwarder, None, "leaf")
    ref = node.spawn(Caller, leaf)
    assert ref.call("init-result", timeout=TIMEOUT) == ["leaf", "from-init"]
    ref.cast("c")
    assert inbox.get() == ("cast", ["leaf", "c"])
    ref.send("i")
    assert inbox.get() == ("info", ["leaf", "i"])


def test_nested_calls_from_many_threads_one_engine_thread(make_node: Any) -> None:
    node = make_node("chain-many", threads=1)
    c = node.spawn(Forwarder, None, "c")
    b = node.spawn(Forwarder, c, "b")
    a = node.spawn(Forwarder, b, "a")
    results: list[Any] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        for j in range(10):
            r = a.call((i, j), timeout=TIMEOUT * 2)
            with lock:
                results.append(r)

    assert run_in_threads(worker, 4) == []
    assert sorted(r[3] for r in results) == sorted((i, j) for i in range(4) for j in range(10))
    assert all(r[:3] == ["a", "b", "c"] for r in results)


@pytest.mark.parametrize("threads", [1, 2])
def test_concurrent_callers_each_get_their_own_reply(make_node: Any, threads: int) -> None:
    """Python threads (not the main one) call one process at once; each gets
    its own replies in order, and the process handles one message at a time.
    A few rounds, because a scheduling race shows only now and then."""

    class Counter(noexpp.GenServer):
        def init(self) -> None:
            self.n = 0

        def handle_call(self, request: Any, caller: Any) -> Any:
            self.n += 1
            return (request, self.n)

    node = make_node(f"callers{threads}", threads=threads)
    for _round in range(5):
        ref = node.spawn(Counter)
        results: dict[int, list[Any]] = {i: [] for i in range(4)}

        def worker(i: int, ref: Any = ref, results: Any = results) -> None:
            for j in range(50):
                results[i].append(ref.call((i, j), timeout=TIMEOUT))

        assert run_in_threads(worker, 4) == []
        for i in range(4):
            assert [r[0] for r in results[i]] == [(i, j) for j in range(50)]
        counts = sorted(r[1] for rs in results.values() for r in rs)
        assert counts == list(range(1, 201))
        ref.stop()


def test_default_timeout_is_used_without_argument(node: noexpp.Node) -> None:
    ref = node.spawn(Holder)
    assert ref.call("get") == ("fresh", "get")
