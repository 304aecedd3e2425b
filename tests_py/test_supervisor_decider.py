"""The decider: decider(child_id, exc_type, message) -> "resume" | "restart" |
"stop" | "escalate" when a child's handler raises. A decider that raises or
returns anything else means restart."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest

import noexpp
from helpers import TIMEOUT


def recording(
    answer: str | Callable[[], Any],
) -> tuple[Callable[[str, str, str], Any], list[tuple[str, str, str]]]:
    calls: list[tuple[str, str, str]] = []
    lock = threading.Lock()

    def decider(child_id: str, exc_type: str, message: str) -> Any:
        with lock:
            calls.append((child_id, exc_type, message))
        return answer() if callable(answer) else answer

    return decider, calls


def exc_type(probe: Any) -> str:
    return "RuntimeError" if not isinstance(probe, str) else "std::runtime_error"


def start(node: noexpp.Node, probe: Any, decider: Any, **kw: Any) -> noexpp.Supervisor:
    return node.start_supervisor(
        [noexpp.ChildSpec("c1", probe), noexpp.ChildSpec("c2", probe)],
        decider=decider,
        name="sup",
        **kw,
    )


def test_resume_keeps_the_process_and_its_state(node: noexpp.Node, events: Any, probe: Any) -> None:
    decider, calls = recording("resume")
    sup = start(node, probe, decider)
    ref = sup.which_children()[0].ref
    ref.cast("inc")
    ref.cast("inc")
    ref.cast("crash")
    ref.cast("inc")
    assert ref.call("get", timeout=TIMEOUT) == 3  # same process, the counter still counts
    resumed = events.wait("child_resumed", supervisor="sup")[0]
    assert resumed["child_id"] == "c1" and "crash requested" in resumed["reason"]
    assert calls == [("c1", exc_type(probe), "crash requested")]
    assert sup.which_children()[0].ref == ref
    assert [c.restart_count for c in sup.which_children()] == [0, 0]
    assert events.select("child_stopped", supervisor="sup") == []
    assert sup.stats()["total_restarts"] == 0
    sup.stop()


def test_resume_in_a_call_lets_the_process_go_on(
    node: noexpp.Node, events: Any, probe: Any
) -> None:
    decider, _ = recording("resume")
    sup = start(node, probe, decider)
    ref = sup.which_children()[0].ref
    assert ref.call(("add", 4), timeout=TIMEOUT) == 4
    with pytest.raises(noexpp.NoexppError):
        ref.call("crash", timeout=TIMEOUT)
    assert ref.call(("add", 1), timeout=TIMEOUT) == 5
    assert ref.alive and sup.which_children()[0].ref == ref
    sup.stop()


def test_restart_restarts_the_child_fresh(node: noexpp.Node, events: Any, probe: Any) -> None:
    decider, calls = recording("restart")
    sup = start(node, probe, decider)
    ref = sup.which_children()[0].ref
    ref.cast("inc")
    ref.cast("crash")
    new = events.wait("child_restarted", supervisor="sup", child_id="c1")[0]["pid"]
    assert new != ref and new.call("get", timeout=TIMEOUT) == 0
    assert calls == [("c1", exc_type(probe), "crash requested")]
    assert sup.stats()["total_restarts"] == 1
    sup.stop()


def test_stop_removes_the_child(node: noexpp.Node, events: Any, probe: Any) -> None:
    decider, calls = recording("stop")
    sup = start(node, probe, decider)
    c1, c2 = (c.ref for c in sup.which_children())
    c1.cast("crash")
    events.wait("child_stopped", supervisor="sup", child_id="c1")
    assert [c.id for c in sup.which_children()] == ["c2"]
    assert events.select("child_restarted", supervisor="sup") == []
    assert sup.is_running and c2.call("ping", timeout=TIMEOUT) == "pong"
    assert calls == [("c1", exc_type(probe), "crash requested")]
    sup.stop()


def test_escalate_fails_the_supervisor_as_if_its_intensity_were_exceeded(
    node: noexpp.Node, events: Any, probe: Any, wait_for: Any
) -> None:
    decider, _ = recording("escalate")
    sup = start(node, probe, decider, max_restarts=100)
    c1, c2 = (c.ref for c in sup.which_children())
    c1.cast("crash")
    stopped = events.wait("supervisor_stopped", supervisor="sup")[0]
    assert isinstance(stopped["error"], noexpp.MaxRestartsExceededError)
    assert [
        (e["child_id"], e["reason"][:5]) for e in events.select("child_stopped", supervisor="sup")
    ] == [("c1", "error"), ("c2", "shutd")]
    assert events.select("child_restarted", supervisor="sup") == []
    wait_for(lambda: not sup.is_running, what="the supervisor to exit")
    stats = sup.stats()
    assert stats["health"] == "failed"
    assert isinstance(stats["error"], noexpp.MaxRestartsExceededError)
    assert "escalated" in stats["stop_reason"]
    assert not c2.alive


def test_escalate_reaches_the_outer_supervisor(node: noexpp.Node, events: Any, probe: Any) -> None:
    decider, _ = recording("escalate")
    inner = noexpp.SupervisorSpec(
        [noexpp.ChildSpec("w", probe, name="w")], decider=decider, name="inner"
    )
    outer = node.start_supervisor([noexpp.ChildSpec("inner", inner)], name="outer")
    node.whereis("w").cast("crash")
    assert (
        events.wait("child_stopped", supervisor="outer", child_id="inner")[0]["reason"]
        == "shutdown"
    )
    events.wait("child_restarted", supervisor="outer", child_id="inner")
    assert node.whereis("w").call("ping", timeout=TIMEOUT) == "pong"
    outer.stop()


def test_decider_is_only_consulted_when_a_handler_raises(
    node: noexpp.Node, events: Any, probe: Any
) -> None:
    decider, calls = recording("stop")
    sup = start(node, probe, decider)
    sup.which_children()[0].ref.cast(("stop", "boom"))  # abnormal, but no exception
    events.wait("child_restarted", supervisor="sup", child_id="c1")
    assert calls == []
    sup.stop()


@pytest.fixture
def unraisable(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Captures what the bindings report through sys.unraisablehook (a
    decider's error), instead of pytest turning it into a failure."""
    seen: list[Any] = []
    monkeypatch.setattr(
        sys, "unraisablehook", lambda u: seen.append((u.exc_type, str(u.exc_value)))
    )
    return seen


def fail() -> str:
    raise KeyError("decider bug")


@pytest.mark.parametrize(
    "answer, error",
    [
        pytest.param(fail, KeyError, id="raises"),
        pytest.param("maybe", ValueError, id="unknown_word"),
        pytest.param(lambda: 42, ValueError, id="not_a_str"),
        pytest.param(lambda: None, ValueError, id="none"),
    ],
)
def test_bad_decider_means_restart(
    node: noexpp.Node,
    events: Any,
    probe: Any,
    unraisable: list[Any],
    answer: Any,
    error: type[Exception],
) -> None:
    decider, calls = recording(answer)
    sup = start(node, probe, decider)
    ref = sup.which_children()[0].ref
    ref.cast("crash")
    new = events.wait("child_restarted", supervisor="sup", child_id="c1")[0]["pid"]
    assert new != ref and new.call("ping", timeout=TIMEOUT) == "pong"
    assert len(calls) == 1
    assert [t for t, _ in unraisable] == [error]
    assert sup.is_running
    sup.stop()
