"""Dynamic children: start_child, terminate_child, restart_child,
delete_child, which_children and count_children, with their errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

import noexpp
from helpers import TIMEOUT


class FailingInit(noexpp.GenServer):
    def init(self, *args: Any) -> None:
        raise RuntimeError("cannot start")


@pytest.fixture
def sup(node: noexpp.Node, events: Any, probe: Any) -> Iterator[noexpp.Supervisor]:
    """A supervisor with child c1 (probe, value 1), started after ``events`` subscribed."""
    s = node.start_supervisor([noexpp.ChildSpec("c1", probe, args=(1,))], name="sup")
    yield s
    s.stop()


def test_start_child_adds_a_running_child_at_the_end(
    node: noexpp.Node, sup: Any, events: Any, collector: Any, probe: Any
) -> None:
    ref = sup.start_child(noexpp.ChildSpec("c2", probe, args=(2, collector.ref)))
    assert collector.get() == ("up", ref)  # init has returned
    assert ref.call("get", timeout=TIMEOUT) == 2
    assert [(c.id, c.ref) for c in sup.which_children()][1] == ("c2", ref)
    assert [c.id for c in sup.which_children()] == ["c1", "c2"]
    started = events.wait("child_started", supervisor="sup", child_id="c2")[0]
    assert started["pid"] == ref
    # A dynamic child is supervised like a static one.
    ref.cast("crash")
    new = events.wait("child_restarted", supervisor="sup", child_id="c2")[0]["pid"]
    assert new.call("get", timeout=TIMEOUT) == 2


def test_start_child_with_a_taken_id_raises_duplicate_child(sup: Any, probe: Any) -> None:
    with pytest.raises(noexpp.DuplicateChildError, match="c1"):
        sup.start_child(noexpp.ChildSpec("c1", probe))
    assert [c.id for c in sup.which_children()] == ["c1"]


def test_duplicate_static_ids_raise_duplicate_child(
    node: noexpp.Node, probe: Any, still_serves: Any
) -> None:
    with pytest.raises(noexpp.DuplicateChildError, match="'a'"):
        node.start_supervisor([noexpp.ChildSpec("a", probe), noexpp.ChildSpec("a", probe)])
    still_serves(node)


def test_start_child_whose_init_fails_raises_and_adds_nothing(sup: Any) -> None:
    with pytest.raises(noexpp.InitError, match="'bad'") as err:
        sup.start_child(noexpp.ChildSpec("bad", FailingInit))
    assert "cannot start" in str(err.value)
    assert [c.id for c in sup.which_children()] == ["c1"]
    assert sup.is_running


def test_terminate_child_stops_it_and_keeps_its_spec(
    sup: Any, events: Any, collector: Any, probe: Any
) -> None:
    ref = sup.start_child(noexpp.ChildSpec("c2", probe, args=(0, collector.ref)))
    collector.until_marker()
    sup.terminate_child("c2")  # permanent, but terminated on purpose: not restarted
    assert collector.until_marker() == [("terminated", ref, "shutdown")]
    assert not ref.alive
    stopped = events.wait("child_stopped", supervisor="sup", child_id="c2")[0]
    assert stopped["reason"] == "shutdown"
    c2 = sup.which_children()[1]
    assert (c2.id, c2.ref, c2.restart_count, c2.started_at) == ("c2", None, 0, 0.0)
    assert sup.count_children() == {"specs": 2, "active": 1, "supervisors": 0, "workers": 2}
    assert events.select("child_restarted", supervisor="sup") == []
    sup.terminate_child("c2")  # already stopped: fine, as in OTP


def test_terminate_child_by_ref_is_refused_unless_simple_one_for_one(sup: Any) -> None:
    # As OTP: outside simple_one_for_one a child is terminated by its id.
    ref = sup.which_children()[0].ref
    with pytest.raises(noexpp.ChildNotFoundError):
        sup.terminate_child(ref)
    assert ref.alive
    assert [(c.id, c.ref) for c in sup.which_children()] == [("c1", ref)]


def test_start_child_can_add_a_supervisor(
    node: noexpp.Node, sup: Any, events: Any, probe: Any
) -> None:
    inner = noexpp.SupervisorSpec([noexpp.ChildSpec("w", probe, name="w")], name="inner")
    ref = sup.start_child(noexpp.ChildSpec("inner", inner))
    assert node.whereis("inner") == ref
    assert node.whereis("w").call("ping", timeout=TIMEOUT) == "pong"
    assert sup.count_children() == {"specs": 2, "active": 2, "supervisors": 1, "workers": 1}
    sup.terminate_child("inner")  # its own children go with it
    assert node.whereis("w") is None and node.whereis("inner") is None
    events.wait("supervisor_stopped", supervisor="inner")


def test_terminate_child_forgets_a_temporary_child(sup: Any, probe: Any) -> None:
    sup.start_child(noexpp.ChildSpec("tmp", probe, restart="temporary"))
    sup.terminate_child("tmp")
    assert [c.id for c in sup.which_children()] == ["c1"]


def test_restart_child_starts_a_terminated_child_again(sup: Any, events: Any) -> None:
    old = sup.which_children()[0].ref
    assert old.call(("add", 5), timeout=TIMEOUT) == 6
    sup.terminate_child("c1")
    new = sup.restart_child("c1")
    assert new != old
    assert new.call("get", timeout=TIMEOUT) == 1  # from its spec again
    assert sup.which_children()[0].ref == new
    assert [
        e["pid"] for e in events.wait("child_started", count=2, supervisor="sup", child_id="c1")
    ] == [old, new]


def test_restart_child_of_a_running_child_raises_child_running(sup: Any) -> None:
    with pytest.raises(noexpp.ChildRunningError, match="c1"):
        sup.restart_child("c1")


def test_delete_child_forgets_a_terminated_child(sup: Any) -> None:
    with pytest.raises(noexpp.ChildRunningError, match="c1"):
        sup.delete_child("c1")
    sup.terminate_child("c1")
    sup.delete_child("c1")
    assert sup.which_children() == []
    assert sup.count_children() == {"specs": 0, "active": 0, "supervisors": 0, "workers": 0}
    with pytest.raises(noexpp.ChildNotFoundError):
        sup.restart_child("c1")


def test_unknown_child_ids_raise_child_not_found(sup: Any) -> None:
    for op in (sup.terminate_child, sup.restart_child, sup.delete_child):
        with pytest.raises(noexpp.ChildNotFoundError, match="nope"):
            op("nope")
    assert sup.is_running


def test_terminate_child_by_ref_of_a_stranger_raises_child_not_found(
    node: noexpp.Node, sup: Any, echo_class: Any
) -> None:
    stranger = node.spawn(echo_class)
    with pytest.raises(noexpp.ChildNotFoundError):
        sup.terminate_child(stranger)
    assert stranger.alive
    stranger.stop()


def test_which_children_reports_each_child(node: noexpp.Node, probe: Any) -> None:
    before = time.time()
    inner = noexpp.SupervisorSpec([noexpp.ChildSpec("w", probe)])
    sup = node.start_supervisor(
        [
            noexpp.ChildSpec("a", probe),
            noexpp.ChildSpec("s", inner),
            noexpp.ChildSpec("t", probe, restart="transient"),
        ]
    )
    kids = sup.which_children()
    assert all(isinstance(c, noexpp.ChildInfo) for c in kids)
    name = probe if isinstance(probe, str) else probe.__name__
    assert [(c.id, c.restart_count, c.behavior, c.restart, c.is_supervisor) for c in kids] == [
        ("a", 0, name, "permanent", False),
        ("s", 0, "supervisor", "permanent", True),
        ("t", 0, name, "transient", False),
    ]
    assert all(isinstance(c.ref, noexpp.Ref) and c.ref.alive for c in kids)
    assert all(before - 1 <= c.started_at <= time.time() + 1 for c in kids)  # wall clock
    assert sup.count_children() == {"specs": 3, "active": 3, "supervisors": 1, "workers": 2}
    sup.stop()


def test_significant_child_needs_auto_shutdown(sup: Any, probe: Any) -> None:
    with pytest.raises(ValueError, match="auto_shutdown"):
        sup.start_child(noexpp.ChildSpec("sig", probe, restart="transient", significant=True))
    assert [c.id for c in sup.which_children()] == ["c1"]


def test_requests_to_a_stopped_supervisor_raise_supervisor_not_running(
    node: noexpp.Node, probe: Any
) -> None:
    sup = node.start_supervisor([noexpp.ChildSpec("c1", probe)])
    sup.stop()
    assert not sup.is_running
    for call in (
        lambda: sup.start_child(noexpp.ChildSpec("c2", probe)),
        lambda: sup.terminate_child("c1"),
        lambda: sup.restart_child("c1"),
        lambda: sup.delete_child("c1"),
        sup.which_children,
        sup.count_children,
    ):
        with pytest.raises(noexpp.SupervisorNotRunning):
            call()
    assert sup.stats()["running"] is False  # stats still answer, from the final record
