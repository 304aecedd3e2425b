"""Error classes, bad input (typed errors naming the argument, the node keeps
serving afterwards), stopped nodes, and the log level switch."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import noexpp
from helpers import TIMEOUT, Echo


# --- the hierarchy --------------------------------------------------------------

ERROR_NAMES = [
    "CallTimeout",
    "NoProcess",
    "ProcessCrashed",
    "DuplicateNameError",
    "BehaviorNotFoundError",
]


@pytest.mark.parametrize("name", ERROR_NAMES)
def test_error_classes_subclass_noexpp_error(name: str) -> None:
    cls = getattr(noexpp, name)
    assert isinstance(cls, type)
    assert issubclass(cls, noexpp.NoexppError)
    assert issubclass(noexpp.NoexppError, Exception)


def test_call_timeout_is_a_timeout_error() -> None:
    assert issubclass(noexpp.CallTimeout, TimeoutError)


def test_node_stopped_if_present_is_a_noexpp_error() -> None:
    cls = getattr(noexpp, "NodeStopped", None)
    if cls is not None:
        assert issubclass(cls, noexpp.NoexppError)


@pytest.mark.parametrize("name", ["GenServer", "NoReply", "Node", "Ref", "ExitReason",
                                  "Down", "Exit", "register_behavior", "behavior",
                                  "set_log_level", "NoexppError", *ERROR_NAMES])
def test_public_names_are_exported(name: str) -> None:
    assert hasattr(noexpp, name)
    assert name in noexpp.__all__


def test_process_crashed_carries_the_reason(node: noexpp.Node) -> None:
    class Fails(noexpp.GenServer):
        def handle_call(self, request: Any, caller: Any) -> Any:
            raise ZeroDivisionError("divided by zero on purpose")

    with pytest.raises(noexpp.ProcessCrashed) as info:
        node.spawn(Fails).call("x")
    reason = info.value.reason
    assert isinstance(reason, noexpp.ExitReason)
    assert reason.kind == "error"
    assert reason.error_type == "ZeroDivisionError"
    assert reason.message == "divided by zero on purpose"
    assert "ZeroDivisionError" in str(info.value)
    # what it was handling and where it raised, as OTP's crash report says
    assert reason.last_message.startswith("call 'x' from <")
    assert reason.traceback is not None
    assert "Traceback (most recent call last)" in reason.traceback
    assert "in handle_call" in reason.traceback and "divided by zero on purpose" in reason.traceback


def test_a_crash_reason_without_a_traceback_says_none(node: noexpp.Node) -> None:
    ref = node.spawn(Echo)
    seen: list[Any] = []
    done = threading.Event()
    node.monitor(ref, lambda _ref, reason: (seen.append(reason), done.set()))
    ref.kill()
    assert done.wait(TIMEOUT)
    assert seen[0] == "killed"
    assert seen[0].traceback is None and seen[0].last_message is None


# --- bad input ----------------------------------------------------------------------

def test_spawn_non_behavior_raises_type_error(node: noexpp.Node, still_serves: Any) -> None:
    with pytest.raises(TypeError) as info:
        node.spawn(42)
    text = str(info.value)
    assert "int" in text or "behavior" in text.lower() or "GenServer" in text
    still_serves(node)


def test_spawn_class_not_subclassing_gen_server(node: noexpp.Node, still_serves: Any) -> None:
    class NotAServer:
        def handle_call(self, request: Any, caller: Any) -> Any:
            return request

    with pytest.raises(TypeError) as info:
        node.spawn(NotAServer)
    assert "GenServer" in str(info.value) or "NotAServer" in str(info.value)
    still_serves(node)


def test_spawn_instance_instead_of_class(node: noexpp.Node, still_serves: Any) -> None:
    with pytest.raises(TypeError):
        node.spawn(Echo())
    still_serves(node)


def test_spawn_name_of_wrong_type(node: noexpp.Node, still_serves: Any) -> None:
    with pytest.raises(TypeError) as info:
        node.spawn(Echo, name=42)
    assert "name" in str(info.value)
    still_serves(node)


@pytest.mark.parametrize("timeout", ["x", [1.0], object()])
def test_call_timeout_of_wrong_type(node: noexpp.Node, still_serves: Any, timeout: Any) -> None:
    ref = node.spawn(Echo)
    with pytest.raises(TypeError) as info:
        ref.call("ping", timeout=timeout)
    assert "timeout" in str(info.value)
    assert ref.call("ping") == "ping"
    still_serves(node)


@pytest.mark.parametrize("timeout", [float("nan"), -1.0])
def test_call_timeout_out_of_range(node: noexpp.Node, timeout: float) -> None:
    ref = node.spawn(Echo)
    with pytest.raises(ValueError) as info:
        ref.call("ping", timeout=timeout)
    assert "timeout" in str(info.value)
    assert ref.call("ping") == "ping"


def test_call_async_timeout_of_wrong_type(node: noexpp.Node) -> None:
    ref = node.spawn(Echo)

    async def main() -> None:
        with pytest.raises(TypeError) as info:
            await ref.call_async("ping", timeout="soon")
        assert "timeout" in str(info.value)
        assert await ref.call_async("ping") == "ping"

    asyncio.run(main())


def test_stop_timeout_of_wrong_type(node: noexpp.Node) -> None:
    ref = node.spawn(Echo)
    with pytest.raises(TypeError) as info:
        ref.stop(timeout="x")
    assert "timeout" in str(info.value)
    assert ref.alive
    assert ref.call("ping") == "ping"


def test_stop_reason_of_wrong_type(node: noexpp.Node) -> None:
    ref = node.spawn(Echo)
    with pytest.raises(TypeError) as info:
        ref.stop(reason=object())
    assert "object" in str(info.value) or "reason" in str(info.value)
    assert ref.call("ping") == "ping"


@pytest.mark.parametrize(("kwargs", "exc", "word"), [
    ({"threads": 0}, ValueError, "threads"),
    ({"threads": -3}, ValueError, "threads"),
    ({"threads": "two"}, TypeError, "threads"),
])
def test_node_options_validated(kwargs: dict[str, Any], exc: type[Exception], word: str) -> None:
    with pytest.raises(exc) as info:
        noexpp.Node("bad", **kwargs)
    assert word in str(info.value)


def test_node_name_of_wrong_type() -> None:
    with pytest.raises(TypeError) as info:
        noexpp.Node(42)
    assert "name" in str(info.value)


def test_node_name_empty() -> None:
    with pytest.raises(ValueError) as info:
        noexpp.Node("")
    assert "name" in str(info.value)


@pytest.mark.parametrize(("args", "exc"), [
    ((42, Echo), TypeError),
    (("bad-class", object), TypeError),
    (("bad-class", 42), TypeError),
])
def test_register_behavior_validates(args: tuple[Any, Any], exc: type[Exception]) -> None:
    with pytest.raises(exc):
        noexpp.register_behavior(*args)


def test_monitor_callback_not_callable(node: noexpp.Node, still_serves: Any) -> None:
    ref = node.spawn(Echo)
    with pytest.raises(TypeError) as info:
        node.monitor(ref, "not callable")
    assert "callback" in str(info.value) or "callable" in str(info.value)
    still_serves(node)


def test_monitor_target_of_wrong_type(node: noexpp.Node) -> None:
    with pytest.raises(TypeError):
        node.monitor("not a ref", lambda r, reason: None)


def test_whereis_name_of_wrong_type(node: noexpp.Node) -> None:
    with pytest.raises(TypeError):
        node.whereis(42)


def test_send_after_bad_seconds_inside_handler(node: noexpp.Node) -> None:
    class Timers(noexpp.GenServer):
        def handle_call(self, request: Any, caller: Any) -> Any:
            try:
                self.send_after(request, "msg")
            except (TypeError, ValueError) as exc:
                return (type(exc).__name__, str(exc))
            return "accepted"

    ref = node.spawn(Timers)
    kind, _text = ref.call("soon")
    assert kind == "TypeError"
    kind, _text = ref.call(-1.0)
    assert kind == "ValueError"
    assert ref.call(0.0) == "accepted"


# --- stopped nodes ----------------------------------------------------------------

def test_calls_on_a_stopped_node_raise() -> None:
    node = noexpp.Node("stopped")
    with node:
        ref = node.spawn(Echo)
        assert ref.call("x") == "x"
    with pytest.raises(noexpp.NoexppError):
        ref.call("x", timeout=TIMEOUT)
    with pytest.raises(noexpp.NoexppError):
        node.spawn(Echo)
    try:
        assert node.whereis("anything") is None
    except noexpp.NoexppError:
        pass  # also acceptable on a stopped node; crashing is not
    assert ref.alive is False


def test_cast_and_send_on_a_stopped_node_do_not_crash() -> None:
    node = noexpp.Node("stopped-cast")
    with node:
        ref = node.spawn(Echo)
    for op in (ref.cast, ref.send):
        try:
            op("x")
        except noexpp.NoexppError:
            pass


def test_node_stop_is_idempotent() -> None:
    node = noexpp.Node("twice")
    node.start()
    node.stop()
    node.stop()


def test_node_stop_fails_a_waiting_call_promptly() -> None:
    entered = threading.Event()

    class Never(noexpp.GenServer):
        def handle_call(self, request: Any, caller: Any) -> Any:
            entered.set()
            return noexpp.NoReply

    node = noexpp.Node("stop-while-waiting")
    node.start()
    outcome: list[BaseException | Any] = []
    try:
        ref = node.spawn(Never)

        def caller() -> None:
            try:
                outcome.append(ref.call("wait", timeout=120.0))
            except BaseException as exc:  # noqa: BLE001
                outcome.append(exc)

        t = threading.Thread(target=caller)
        t.start()
        assert entered.wait(TIMEOUT)
    finally:
        node.stop()
    t.join(30)
    assert not t.is_alive(), "a waiting call outlived its node by 30 s"
    assert len(outcome) == 1
    assert isinstance(outcome[0], noexpp.NoexppError)
    assert not isinstance(outcome[0], noexpp.CallTimeout)


# --- log level ------------------------------------------------------------------------

@pytest.mark.parametrize("level", ["debug", "info", "warning", "error"])
def test_set_log_level_accepts_known_levels(level: str, make_node: Any) -> None:
    try:
        noexpp.set_log_level(level)
        node = make_node(f"log-{level}")
        assert node.spawn(Echo).call("x") == "x"
    finally:
        noexpp.set_log_level("warning")


def test_set_log_level_rejects_unknown_level() -> None:
    with pytest.raises(ValueError) as info:
        noexpp.set_log_level("chatty")
    assert "chatty" in str(info.value) or "level" in str(info.value)
