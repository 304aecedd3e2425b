"""auto_shutdown: never / any_significant / all_significant, with significant
(transient or temporary) children. A significant child that is restarted
does not count as ended."""

from __future__ import annotations

from typing import Any

import pytest

import noexpp


def significant(
    probe: Any, child_id: str, restart: str = "transient", **kw: Any
) -> noexpp.ChildSpec:
    return noexpp.ChildSpec(child_id, probe, restart=restart, significant=True, **kw)


def test_significant_permanent_child_is_rejected(probe: Any) -> None:
    with pytest.raises(ValueError, match=r"significant.*permanent"):
        noexpp.ChildSpec("c", probe, significant=True)


def test_significant_child_with_auto_shutdown_never_is_rejected(
    node: noexpp.Node, probe: Any, still_serves: Any
) -> None:
    with pytest.raises(ValueError, match="auto_shutdown"):
        node.start_supervisor([significant(probe, "c")], auto_shutdown="never")
    still_serves(node)


def test_never_keeps_running_when_every_child_ended(
    node: noexpp.Node, events: Any, probe: Any
) -> None:
    sup = node.start_supervisor(
        [noexpp.ChildSpec("t", probe, restart="transient")], auto_shutdown="never", name="sup"
    )
    sup.which_children()[0].ref.cast(("stop", "normal"))
    events.wait("child_stopped", supervisor="sup")
    assert sup.is_running
    assert sup.which_children()[0].ref is None
    sup.stop()


def test_any_significant_stops_when_one_significant_child_ends(
    node: noexpp.Node, events: Any, collector: Any, probe: Any
) -> None:
    sup = node.start_supervisor(
        [
            noexpp.ChildSpec("worker", probe, args=(0, collector.ref)),
            significant(probe, "job1"),
            significant(probe, "job2", args=(0, collector.ref)),
        ],
        auto_shutdown="any_significant",
        name="sup",
    )
    worker, job1, job2 = (c.ref for c in sup.which_children())
    collector.until_marker()
    job1.cast(("stop", "normal"))
    events.wait("supervisor_stopped", supervisor="sup")
    # The others were stopped in reverse order.
    assert collector.until_marker() == [
        ("terminated", job2, "shutdown"),
        ("terminated", worker, "shutdown"),
    ]
    assert [
        (e["child_id"], e["reason"]) for e in events.select("child_stopped", supervisor="sup")
    ] == [("job1", "normal"), ("job2", "shutdown"), ("worker", "shutdown")]
    stats = sup.stats()
    assert stats["running"] is False and stats["error"] is None
    assert stats["health"] == "stopped"
    assert "any_significant" in stats["stop_reason"]
    assert events.select("supervisor_stopped", supervisor="sup")[0]["error"] is None


def test_any_significant_ignores_a_non_significant_child(
    node: noexpp.Node, events: Any, probe: Any
) -> None:
    sup = node.start_supervisor(
        [noexpp.ChildSpec("plain", probe, restart="transient"), significant(probe, "job")],
        auto_shutdown="any_significant",
        name="sup",
    )
    sup.which_children()[0].ref.cast(("stop", "normal"))
    events.wait("child_stopped", supervisor="sup")
    assert sup.is_running and sup.count_children()["active"] == 1
    sup.stop()


def test_all_significant_stops_when_the_last_significant_child_ends(
    node: noexpp.Node, events: Any, probe: Any
) -> None:
    sup = node.start_supervisor(
        [
            noexpp.ChildSpec("worker", probe),
            significant(probe, "job1"),
            significant(probe, "job2", restart="temporary"),
        ],
        auto_shutdown="all_significant",
        name="sup",
    )
    worker, job1, job2 = (c.ref for c in sup.which_children())
    job1.cast(("stop", "normal"))
    events.wait("child_stopped", supervisor="sup", child_id="job1")
    assert sup.is_running  # job2 still runs
    assert [c.id for c in sup.which_children() if c.ref is not None] == ["worker", "job2"]
    job2.cast(("stop", "normal"))
    events.wait("supervisor_stopped", supervisor="sup")
    assert not worker.alive
    assert "all_significant" in sup.stats()["stop_reason"]


def test_significant_transient_child_that_crashes_is_restarted_not_ended(
    node: noexpp.Node, events: Any, probe: Any
) -> None:
    sup = node.start_supervisor(
        [significant(probe, "job")], auto_shutdown="any_significant", name="sup"
    )
    sup.which_children()[0].ref.cast("crash")
    new = events.wait("child_restarted", supervisor="sup")[0]["pid"]
    assert sup.is_running
    new.cast(("stop", "normal"))  # now it ends: the supervisor goes with it
    events.wait("supervisor_stopped", supervisor="sup")
    assert sup.stats()["error"] is None


def test_significant_temporary_child_ends_with_any_exit(
    node: noexpp.Node, events: Any, probe: Any
) -> None:
    sup = node.start_supervisor(
        [noexpp.ChildSpec("worker", probe), significant(probe, "job", restart="temporary")],
        auto_shutdown="any_significant",
        name="sup",
    )
    sup.which_children()[1].ref.cast("crash")
    events.wait("supervisor_stopped", supervisor="sup")
    assert events.select("child_restarted", supervisor="sup") == []
    assert sup.stats()["error"] is None


def test_auto_shutdown_of_a_nested_supervisor_is_seen_by_its_parent(
    node: noexpp.Node, events: Any, probe: Any
) -> None:
    """A supervisor that shuts itself down exits with reason shutdown: a
    transient parent entry does not restart it."""
    inner = noexpp.SupervisorSpec(
        [significant(probe, "job", name="job")], auto_shutdown="any_significant", name="inner"
    )
    outer = node.start_supervisor(
        [noexpp.ChildSpec("inner", inner, restart="transient")], name="outer"
    )
    node.whereis("job").cast(("stop", "normal"))
    stopped = events.wait("child_stopped", supervisor="outer", child_id="inner")[0]
    assert stopped["reason"] == "shutdown"
    assert outer.which_children()[0].ref is None
    assert outer.is_running and outer.stats()["total_restarts"] == 0
    outer.stop()


def test_simple_one_for_one_template_cannot_be_significant(node: noexpp.Node, probe: Any) -> None:
    with pytest.raises(ValueError, match="significant"):
        node.start_supervisor(
            strategy="simple_one_for_one",
            auto_shutdown="any_significant",
            child_template=significant(probe, "w"),
        )


def test_terminating_a_significant_child_does_not_shut_down(
    node: noexpp.Node, events: Any, probe: Any
) -> None:
    """Only a significant child ending by itself counts, not one its
    supervisor was asked to stop."""
    sup = node.start_supervisor(
        [noexpp.ChildSpec("worker", probe), significant(probe, "job")],
        auto_shutdown="any_significant",
        name="sup",
    )
    sup.terminate_child("job")
    assert sup.is_running
    assert [(c.id, c.ref is None) for c in sup.which_children()] == [
        ("worker", False),
        ("job", True),
    ]
    sup.stop()
