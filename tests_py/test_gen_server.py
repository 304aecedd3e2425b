"""The GenServer protocol from Python: init, continue, call, cast, info,
terminate, stopping from inside and from outside, and exit reasons."""

from __future__ import annotations

from typing import Any

import pytest

import noexpp
from helpers import TIMEOUT


class Counter(noexpp.GenServer):
    """The example from the issue text."""

    def init(self, start: int = 0) -> None:
        self.value = start

    def handle_call(self, request: Any, caller: Any) -> Any:
        return self.value

    def handle_cast(self, request: Any) -> None:
        self.value += 1


def test_issue_example_counter() -> None:
    with noexpp.Node("alpha") as node:
        c = node.spawn(Counter, 5, name="counter")
        c.cast("inc")
        assert c.call("get") == 6
        assert node.whereis("counter") == c


def test_node_context_manager_returns_the_node() -> None:
    node = noexpp.Node("ctx")
    with node as entered:
        assert entered is node
        assert node.spawn(Counter).call("get") == 0


def test_init_receives_spawn_args(node: noexpp.Node) -> None:
    class Args(noexpp.GenServer):
        def init(self, a: Any, b: Any, c: Any = "default") -> None:
            self.args = (a, b, c)

        def handle_call(self, request: Any, caller: Any) -> Any:
            return self.args

    assert node.spawn(Args, 1, "two").call("args") == (1, "two", "default")
    assert node.spawn(Args, [1], {"k": 2}, None).call("args") == ([1], {"k": 2}, None)


def test_init_without_args_uses_defaults(node: noexpp.Node) -> None:
    assert node.spawn(Counter).call("get") == 0


def test_gen_server_without_init_override(node: noexpp.Node) -> None:
    class Bare(noexpp.GenServer):
        def handle_call(self, request: Any, caller: Any) -> Any:
            return "bare"

    assert node.spawn(Bare).call("x") == "bare"


def test_init_raising_makes_spawn_raise(node: noexpp.Node, still_serves: Any) -> None:
    class BadInit(noexpp.GenServer):
        def init(self) -> None:
            raise ValueError("no config here")

    with pytest.raises((noexpp.NoexppError, ValueError)) as info:
        node.spawn(BadInit)
    text = str(info.value)
    assert "ValueError" in text or isinstance(info.value, ValueError)
    assert "no config here" in text
    still_serves(node)


def test_handle_continue_runs_after_init_before_first_message(node: noexpp.Node, inbox: Any) -> None:
    class Continues(noexpp.GenServer):
        def init(self) -> None:
            self.events = ["init"]
            self.continue_with("load")

        def handle_continue(self, arg: Any) -> None:
            self.events.append(("continue", arg))

        def handle_call(self, request: Any, caller: Any) -> Any:
            self.events.append(("call", request))
            return self.events

    ref = node.spawn(Continues)
    assert ref.call("first") == ["init", ("continue", "load"), ("call", "first")]


def test_handle_call_return_value_is_the_reply(node: noexpp.Node) -> None:
    class Doubler(noexpp.GenServer):
        def handle_call(self, request: Any, caller: Any) -> Any:
            return request * 2

    ref = node.spawn(Doubler)
    assert ref.call(21) == 42
    assert ref.call("ab") == "abab"


def test_handle_call_returning_none_replies_none(node: noexpp.Node) -> None:
    class Nothing(noexpp.GenServer):
        def handle_call(self, request: Any, caller: Any) -> Any:
            return None

    assert node.spawn(Nothing).call("x") is None


def test_noreply_then_reply_later(node: noexpp.Node) -> None:
    class Deferred(noexpp.GenServer):
        def handle_call(self, request: Any, caller: Any) -> Any:
            self.pending = (caller, request)
            self.ref.send("answer-now")  # handled after this handler returns
            return noexpp.NoReply

        def handle_info(self, message: Any) -> None:
            caller, request = self.pending
            self.reply(caller, ("late", request))

    ref = node.spawn(Deferred)
    assert ref.call("q1", timeout=TIMEOUT) == ("late", "q1")
    assert ref.call("q2", timeout=TIMEOUT) == ("late", "q2")


def test_reply_inside_handler_with_noreply(node: noexpp.Node) -> None:
    class Early(noexpp.GenServer):
        def handle_call(self, request: Any, caller: Any) -> Any:
            self.reply(caller, "early")
            return noexpp.NoReply

    assert node.spawn(Early).call("x", timeout=TIMEOUT) == "early"


def test_noreply_replies_in_a_different_order(node: noexpp.Node, inbox: Any) -> None:
    """Two deferred callers get their own replies, answered in reverse order."""
    import threading

    class Swap(noexpp.GenServer):
        def init(self) -> None:
            self.waiting: list[tuple[Any, Any]] = []

        def handle_call(self, request: Any, caller: Any) -> Any:
            self.waiting.append((caller, request))
            inbox.put(request)
            if len(self.waiting) == 2:
                for c, r in reversed(self.waiting):
                    self.reply(c, ("for", r))
            return noexpp.NoReply

    ref = node.spawn(Swap)
    results: dict[str, Any] = {}

    def first() -> None:
        results["a"] = ref.call("a", timeout=TIMEOUT)

    t = threading.Thread(target=first)
    t.start()
    assert inbox.get() == "a"
    assert ref.call("b", timeout=TIMEOUT) == ("for", "b")
    t.join(TIMEOUT)
    assert not t.is_alive()
    assert results["a"] == ("for", "a")


def test_handle_cast_changes_state_and_cast_returns_none(node: noexpp.Node) -> None:
    ref = node.spawn(Counter, 0)
    assert ref.cast("inc") is None
    ref.cast("inc")
    ref.cast("inc")
    assert ref.call("get") == 3


def test_casts_from_one_sender_arrive_in_order(node: noexpp.Node) -> None:
    class Log(noexpp.GenServer):
        def init(self) -> None:
            self.seen: list[Any] = []

        def handle_cast(self, request: Any) -> None:
            self.seen.append(request)

        def handle_call(self, request: Any, caller: Any) -> Any:
            return self.seen

    ref = node.spawn(Log)
    for i in range(200):
        ref.cast(i)
    assert ref.call("seen") == list(range(200))


def test_handle_info_receives_plain_send(node: noexpp.Node, inbox: Any) -> None:
    class Info(noexpp.GenServer):
        def handle_info(self, message: Any) -> None:
            inbox.put(message)

    ref = node.spawn(Info)
    assert ref.send(("hello", 1)) is None
    assert inbox.get() == ("hello", 1)


def test_helpers_self_ref_and_self_node(node: noexpp.Node) -> None:
    class Who(noexpp.GenServer):
        def handle_call(self, request: Any, caller: Any) -> Any:
            return (self.ref, self.node.id)

    ref = node.spawn(Who)
    me, node_id = ref.call("who")
    assert me == ref
    assert node_id == node.id


def test_terminate_called_on_stop_with_normal_reason(node: noexpp.Node, inbox: Any) -> None:
    class Term(noexpp.GenServer):
        def terminate(self, reason: Any) -> None:
            inbox.put(reason)

    ref = node.spawn(Term)
    ref.stop()
    reason = inbox.get()
    assert isinstance(reason, noexpp.ExitReason)
    assert reason == "normal"
    assert not ref.alive


def test_terminate_called_on_stop_with_given_reason(node: noexpp.Node, inbox: Any) -> None:
    class Term(noexpp.GenServer):
        def terminate(self, reason: Any) -> None:
            inbox.put(reason)

    ref = node.spawn(Term)
    ref.stop(reason="shutdown", timeout=TIMEOUT)
    assert inbox.get() == "shutdown"


def test_terminate_called_on_crash_with_error_reason(node: noexpp.Node, inbox: Any) -> None:
    class Crashy(noexpp.GenServer):
        def handle_cast(self, request: Any) -> None:
            raise ValueError("bad request: " + request)

        def terminate(self, reason: Any) -> None:
            inbox.put(reason)

    ref = node.spawn(Crashy)
    ref.cast("boom")
    reason = inbox.get()
    assert isinstance(reason, noexpp.ExitReason)
    assert reason.kind == "error"
    assert reason.error_type == "ValueError"
    assert "bad request: boom" in reason.message
    assert reason != "normal"


@pytest.mark.parametrize("where", ["cast", "info"])
def test_raising_handler_crashes_the_process(node: noexpp.Node, inbox: Any, where: str) -> None:
    class Crashy(noexpp.GenServer):
        def handle_cast(self, request: Any) -> None:
            raise KeyError("in cast")

        def handle_info(self, message: Any) -> None:
            raise KeyError("in info")

    ref = node.spawn(Crashy)
    node.monitor(ref, lambda r, reason: inbox.put((r, reason)))
    if where == "cast":
        ref.cast("x")
    else:
        ref.send("x")
    down_ref, reason = inbox.get()
    assert down_ref == ref
    assert reason.kind == "error"
    assert reason.error_type == "KeyError"
    assert f"in {where}" in reason.message
    assert not ref.alive


def test_self_stop_from_inside(node: noexpp.Node, make_inbox: Any) -> None:
    terminated, down = make_inbox(), make_inbox()

    class Quitter(noexpp.GenServer):
        def handle_cast(self, request: Any) -> None:
            self.stop()

        def terminate(self, reason: Any) -> None:
            terminated.put(reason)

    ref = node.spawn(Quitter)
    node.monitor(ref, lambda r, reason: down.put(reason))
    ref.cast("quit")
    assert terminated.get() == "normal"
    assert down.get() == "normal"
    assert not ref.alive


def test_self_stop_with_reason_from_call(node: noexpp.Node, make_inbox: Any) -> None:
    """stop() inside handle_call: the reply is still delivered, then the process ends."""
    terminated, down = make_inbox(), make_inbox()

    class Quitter(noexpp.GenServer):
        def handle_call(self, request: Any, caller: Any) -> Any:
            self.stop("shutdown")
            return "bye"

        def terminate(self, reason: Any) -> None:
            terminated.put(reason)

    ref = node.spawn(Quitter)
    node.monitor(ref, lambda r, reason: down.put(reason))
    assert ref.call("quit") == "bye"
    assert terminated.get() == "shutdown"
    assert down.get() == "shutdown"


def test_ref_alive_tracks_the_process(node: noexpp.Node) -> None:
    ref = node.spawn(Counter)
    assert ref.alive is True
    ref.stop(reason="normal", timeout=5.0)
    assert ref.alive is False


def test_node_stop_terminates_running_processes(inbox: Any) -> None:
    class Term(noexpp.GenServer):
        def terminate(self, reason: Any) -> None:
            inbox.put(reason)

    with noexpp.Node("stopper") as node:
        node.spawn(Term)
    assert inbox.get() == "shutdown"


@pytest.mark.parametrize("word", ["normal", "shutdown", "killed", "noproc"])
def test_exit_reason_compares_equal_to_its_word(node: noexpp.Node, word: str, inbox: Any) -> None:
    ref = node.spawn(Counter)
    if word == "noproc":
        ref.stop()
        node.monitor(ref, lambda r, reason: inbox.put(reason))  # already gone
    else:
        node.monitor(ref, lambda r, reason: inbox.put(reason))
        ref.stop(reason=word, timeout=TIMEOUT)
    reason = inbox.get()
    assert isinstance(reason, noexpp.ExitReason)
    assert reason == word
    assert not (reason != word)
    others = {"normal", "shutdown", "killed", "noproc"} - {word}
    assert all(reason != other for other in others)
    assert word in str(reason)
