"""Restart intensity: more than max_restarts restarts within `within` seconds
stop the supervisor (children in reverse order, reason shutdown), and its
parent (a linked process or an outer supervisor) sees the exit."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import pytest

import noexpp
from helpers import TIMEOUT


def crash_until_restarted(events: Any, sup_name: str, child_id: str, ref: Any, n: int) -> Any:
    """Crashes ``ref`` and waits for the n-th restart of ``child_id``; returns the new ref."""
    ref.cast("crash")
    return events.wait("child_restarted", count=n, supervisor=sup_name, child_id=child_id)[n - 1][
        "pid"
    ]


def types_after(events: Any, sup_name: str, first: dict[str, Any]) -> list[tuple[str, str]]:
    evs = events.select(supervisor=sup_name)
    return [(e["type"], e.get("child_id", "")) for e in evs[evs.index(first) :]]


def test_fourth_crash_in_the_window_stops_the_supervisor(
    node: noexpp.Node, events: Any, collector: Any, probe: Any, wait_for: Any
) -> None:
    sup = node.start_supervisor(
        [noexpp.ChildSpec("c1", probe), noexpp.ChildSpec("c2", probe, args=(0, collector.ref))],
        max_restarts=3,
        within=5.0,
        name="sup",
    )
    ref = sup.which_children()[0].ref
    c2 = sup.which_children()[1].ref
    for n in (1, 2, 3):
        ref = crash_until_restarted(events, "sup", "c1", ref, n)
    assert sup.is_running
    assert sup.stats()["health"] == "degraded"

    ref.cast("crash")  # the 4th within 5 s
    stopped = events.wait("supervisor_stopped", supervisor="sup")[0]
    last_crash = events.select("child_stopped", supervisor="sup", child_id="c1")[3]
    assert types_after(events, "sup", last_crash) == [
        ("child_stopped", "c1"),
        ("restart_intensity_exceeded", "c1"),
        ("child_stopped", "c2"),
        ("supervisor_stopped", ""),
    ]
    exceeded = events.select("restart_intensity_exceeded", supervisor="sup")[0]
    assert (exceeded["max_restarts"], exceeded["within"]) == (3, 5.0)
    assert (
        events.select("child_stopped", supervisor="sup", child_id="c2")[0]["reason"] == "shutdown"
    )
    assert isinstance(stopped["error"], noexpp.MaxRestartsExceededError)
    assert len(events.select("child_restarted", supervisor="sup")) == 3

    wait_for(lambda: not sup.is_running, what="the supervisor process to exit")
    stats = sup.stats()
    assert stats["running"] is False
    assert stats["health"] == "failed"
    assert isinstance(stats["error"], noexpp.MaxRestartsExceededError)
    assert "more than 3 restarts" in stats["stop_reason"]
    assert stats["total_restarts"] == 3
    assert [c["restart_count"] for c in stats["children"]] == [3, 0]
    assert collector.until_marker() == [("up", c2), ("terminated", c2, "shutdown")]
    assert not c2.alive and not ref.alive
    with pytest.raises(noexpp.SupervisorNotRunning):
        sup.which_children()
    sup.stop()  # idempotent


def test_zero_max_restarts_stops_at_the_first_crash(
    node: noexpp.Node, events: Any, probe: Any
) -> None:
    sup = node.start_supervisor([noexpp.ChildSpec("c1", probe)], max_restarts=0, name="sup")
    sup.which_children()[0].ref.cast("crash")
    stopped = events.wait("supervisor_stopped", supervisor="sup")[0]
    assert isinstance(stopped["error"], noexpp.MaxRestartsExceededError)
    assert events.select("child_restarted", supervisor="sup") == []
    assert isinstance(sup.stats()["error"], noexpp.MaxRestartsExceededError)


def test_intensity_counts_the_restarts_of_every_child(
    node: noexpp.Node, events: Any, probe: Any
) -> None:
    sup = node.start_supervisor(
        [noexpp.ChildSpec(i, probe) for i in ("c1", "c2", "c3")],
        max_restarts=2,
        within=5.0,
        name="sup",
    )
    kids = sup.which_children()
    crash_until_restarted(events, "sup", "c1", kids[0].ref, 1)
    crash_until_restarted(events, "sup", "c2", kids[1].ref, 1)
    kids[2].ref.cast("crash")
    assert events.wait("restart_intensity_exceeded", supervisor="sup")[0]["child_id"] == "c3"
    events.wait("supervisor_stopped", supervisor="sup")
    assert sup.stats()["total_restarts"] == 2


def test_restarts_older_than_the_window_are_forgotten(
    node: noexpp.Node, events: Any, probe: Any, wait_for: Any
) -> None:
    within = 0.5  # room for crash -> restart -> crash, also on a loaded machine
    sup = node.start_supervisor(
        [noexpp.ChildSpec("c1", probe)], max_restarts=1, within=within, name="sup"
    )
    ref = crash_until_restarted(events, "sup", "c1", sup.which_children()[0].ref, 1)
    # Let the first restart leave the window (time must pass: this is what is tested).
    since = time.monotonic()
    wait_for(lambda: time.monotonic() - since > within * 1.5, what="the intensity window to pass")
    ref = crash_until_restarted(events, "sup", "c1", ref, 2)  # only one restart in the window now
    assert sup.is_running
    ref.cast("crash")  # two within the window: too many
    events.wait("supervisor_stopped", supervisor="sup")
    assert isinstance(sup.stats()["error"], noexpp.MaxRestartsExceededError)


def test_one_for_all_escalation(node: noexpp.Node, events: Any, collector: Any, probe: Any) -> None:
    """Exceeding the intensity under one_for_all stops every child, newest first."""
    sup = node.start_supervisor(
        [noexpp.ChildSpec(i, probe, args=(0, collector.ref)) for i in ("c1", "c2", "c3")],
        strategy="one_for_all",
        max_restarts=1,
        within=5.0,
        name="sup",
    )
    kids = sup.which_children()
    kids[1].ref.cast("crash")
    events.wait("child_restarted", count=3, supervisor="sup")
    kids = sup.which_children()
    collector.until_marker()
    kids[2].ref.cast("crash")
    events.wait("supervisor_stopped", supervisor="sup")
    second = events.select("child_stopped", supervisor="sup", child_id="c3")[1]
    assert types_after(events, "sup", second) == [
        ("child_stopped", "c3"),
        ("restart_intensity_exceeded", "c3"),
        ("child_stopped", "c2"),
        ("child_stopped", "c1"),
        ("supervisor_stopped", ""),
    ]
    terminated = collector.until_marker()
    assert [(m[1], m[2]) for m in terminated[1:]] == [
        (kids[1].ref, "shutdown"),
        (kids[0].ref, "shutdown"),
    ]
    assert terminated[0][1] == kids[2].ref and terminated[0][2].startswith("error")


def test_nested_supervisor_exceeding_its_intensity_is_restarted_by_its_parent(
    node: noexpp.Node, events: Any, probe: Any
) -> None:
    inner = noexpp.SupervisorSpec(
        [noexpp.ChildSpec("w", probe, name="w")], max_restarts=3, within=5.0, name="inner"
    )
    outer = node.start_supervisor(
        [noexpp.ChildSpec("inner", inner), noexpp.ChildSpec("sibling", probe)],
        max_restarts=3,
        within=5.0,
        name="outer",
    )
    first_inner = node.whereis("inner")
    sibling = outer.which_children()[1].ref
    for n in (1, 2, 3):
        node.whereis("w").cast("crash")
        events.wait("child_restarted", count=n, supervisor="inner", child_id="w")
    node.whereis("w").cast("crash")

    inner_stopped = events.wait("supervisor_stopped", supervisor="inner")[0]
    assert isinstance(inner_stopped["error"], noexpp.MaxRestartsExceededError)
    assert inner_stopped["supervisor_pid"] == first_inner
    seen = events.wait("child_stopped", supervisor="outer", child_id="inner")[0]
    assert seen["reason"] == "shutdown"
    assert seen["pid"] == first_inner
    restarted = events.wait("child_restarted", supervisor="outer", child_id="inner")[0]

    # The new inner supervisor started its worker afresh.
    new_inner = restarted["pid"]
    assert new_inner != first_inner and node.whereis("inner") == new_inner
    starts = events.wait("child_started", count=2, supervisor="inner", child_id="w")
    assert starts[1]["supervisor_pid"] == new_inner
    assert node.whereis("w") == starts[1]["pid"]
    assert node.whereis("w").call("ping", timeout=TIMEOUT) == "pong"

    stats = outer.stats()
    assert stats["running"] and stats["error"] is None
    assert stats["total_restarts"] == 1
    assert [(c.id, c.restart_count, c.is_supervisor) for c in outer.which_children()] == [
        ("inner", 1, True),
        ("sibling", 0, False),
    ]
    assert outer.which_children()[1].ref == sibling  # one_for_one: the sibling stayed
    assert events.select("supervisor_stopped", supervisor="outer") == []
    outer.stop()


def make_parent(inbox: Any) -> type[noexpp.GenServer]:
    class Parent(noexpp.GenServer):
        def init(self) -> None:
            self.trap_exit(True)

        def handle_info(self, message: Any) -> None:
            inbox.put(message)

    return Parent


def test_linked_parent_sees_the_supervisor_give_up(
    node: noexpp.Node, events: Any, inbox: Any, probe: Any
) -> None:
    parent = node.spawn(make_parent(inbox))
    sup = node.start_supervisor(
        [noexpp.ChildSpec("c1", probe)], max_restarts=0, link=parent, name="sup"
    )
    sup.which_children()[0].ref.cast("crash")
    message = inbox.get()
    assert isinstance(message, noexpp.Exit)
    assert message.ref == sup.ref
    assert message.reason == "shutdown"
    assert isinstance(sup.stats()["error"], noexpp.MaxRestartsExceededError)
    parent.stop()


def test_supervisor_stops_when_its_linked_parent_dies(
    node: noexpp.Node, events: Any, collector: Any, probe: Any, inbox: Any
) -> None:
    parent = node.spawn(make_parent(inbox))
    sup = node.start_supervisor(
        [noexpp.ChildSpec("c1", probe, args=(0, collector.ref))], link=parent, name="sup"
    )
    child = sup.which_children()[0].ref
    assert collector.get() == ("up", child)
    parent.stop(reason="boom")
    events.wait("supervisor_stopped", supervisor="sup")
    assert collector.get() == ("terminated", child, "shutdown")
    stats = sup.stats()
    assert stats["running"] is False and stats["error"] is None
    assert stats["stop_reason"].startswith("parent exited")


# --- restarts that fail to start -----------------------------------------------

_starts: dict[str, itertools.count[int]] = {}
_starts_lock = threading.Lock()


class FailsOnStart(noexpp.GenServer):
    """init(key, fail_from, fail_until): the n-th start (1-based) of ``key``
    fails when fail_from <= n <= fail_until."""

    def init(self, key: str, fail_from: int, fail_until: int) -> None:
        with _starts_lock:
            n = next(_starts.setdefault(key, itertools.count(1)))
        if fail_from <= n <= fail_until:
            raise RuntimeError(f"start {n} fails")

    def handle_cast(self, request: Any) -> None:
        if request == "crash":
            raise RuntimeError("crash requested")

    def handle_call(self, request: Any, caller: Any) -> Any:
        return request


def test_failed_restart_is_retried(node: noexpp.Node, events: Any, unique: Any) -> None:
    sup = node.start_supervisor(
        [noexpp.ChildSpec("c1", FailsOnStart, args=(unique("k"), 2, 2))], max_restarts=5, name="sup"
    )
    sup.which_children()[0].ref.cast("crash")
    restarted = events.wait("child_restarted", supervisor="sup")[0]
    failed = events.select("child_start_failed", supervisor="sup")
    assert len(failed) == 1 and "start 2 fails" in failed[0]["reason"]
    assert restarted["pid"].call("ping", timeout=TIMEOUT) == "ping"
    stats = sup.stats()
    assert stats["total_restarts"] == 2  # the restart and its retry both count
    assert stats["children"][0]["restart_count"] == 1
    sup.stop()


def test_restart_that_keeps_failing_exceeds_the_intensity(
    node: noexpp.Node, events: Any, unique: Any
) -> None:
    sup = node.start_supervisor(
        [noexpp.ChildSpec("c1", FailsOnStart, args=(unique("k"), 2, 1000))],
        max_restarts=3,
        within=5.0,
        name="sup",
    )
    sup.which_children()[0].ref.cast("crash")
    stopped = events.wait("supervisor_stopped", supervisor="sup")[0]
    assert isinstance(stopped["error"], noexpp.MaxRestartsExceededError)
    assert len(events.select("child_start_failed", supervisor="sup")) == 3
    assert events.select("child_restarted", supervisor="sup") == []
    assert "start failed" in sup.stats()["children"][0]["last_error"]
