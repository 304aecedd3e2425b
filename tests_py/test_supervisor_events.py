"""Lifecycle events (in order, with timestamps) and supervisor stats."""

from __future__ import annotations

import sys
import time
from typing import Any

import pytest

import noexpp


def test_lifecycle_events_arrive_in_order_with_timestamps(
    node: noexpp.Node, events: Any, probe: Any
) -> None:
    wall_before = time.time()
    sup = node.start_supervisor(
        [noexpp.ChildSpec("c1", probe), noexpp.ChildSpec("c2", probe)],
        max_restarts=1,
        within=5.0,
        name="sup",
    )
    c1, c2 = (c.ref for c in sup.which_children())
    c1.cast("crash")
    new_c1 = events.wait("child_restarted", supervisor="sup")[0]["pid"]
    new_c1.cast("crash")
    events.wait("supervisor_stopped", supervisor="sup")

    evs = events.select(supervisor="sup")
    assert [(e["type"], e.get("child_id")) for e in evs] == [
        ("supervisor_started", None),
        ("child_started", "c1"),
        ("child_started", "c2"),
        ("child_stopped", "c1"),
        ("child_restarted", "c1"),
        ("child_stopped", "c1"),
        ("restart_intensity_exceeded", "c1"),
        ("child_stopped", "c2"),
        ("supervisor_stopped", None),
    ]
    assert all(e["supervisor_pid"] == sup.ref for e in evs)
    assert evs[0]["strategy"] == "one_for_one"
    assert [e["pid"] for e in evs[1:3]] == [c1, c2]
    assert (
        evs[3]["pid"] == c1
        and evs[3]["reason"].startswith("error")
        and "crash requested" in evs[3]["reason"]
    )
    assert (evs[4]["pid"], evs[4]["attempt"], evs[4]["restart_count"]) == (new_c1, 1, 1)
    assert evs[5]["pid"] == new_c1
    assert (evs[6]["max_restarts"], evs[6]["within"]) == (1, 5.0)
    assert (evs[7]["pid"], evs[7]["reason"]) == (c2, "shutdown")
    assert isinstance(evs[8]["error"], noexpp.MaxRestartsExceededError)
    assert "more than 1 restarts" in evs[8]["reason"]

    monotonic = [e["monotonic"] for e in evs]
    wall = [e["timestamp"] for e in evs]
    assert monotonic == sorted(monotonic)
    assert wall_before - 1 <= wall[0] and wall[-1] <= time.time() + 1
    assert (
        wall == sorted(wall) or max(wall) - min(wall) < 60
    )  # wall clock may step; it is the wall clock


def test_every_subscriber_sees_the_same_sequence(
    node: noexpp.Node, events: Any, make_recorder: Any, probe: Any
) -> None:
    other = make_recorder(node)
    sup = node.start_supervisor(
        [noexpp.ChildSpec(i, probe) for i in ("a", "b", "c")], strategy="one_for_all", name="sup"
    )
    sup.which_children()[0].ref.cast("crash")
    events.wait("child_restarted", count=3, supervisor="sup")
    other.wait("child_restarted", count=3, supervisor="sup")
    sup.stop()
    events.wait("supervisor_stopped", supervisor="sup")
    other.wait("supervisor_stopped", supervisor="sup")
    assert [(e["type"], e["monotonic"]) for e in events.select(supervisor="sup")] == [
        (e["type"], e["monotonic"]) for e in other.select(supervisor="sup")
    ]


def test_unsubscribe_stops_delivery(node: noexpp.Node, events: Any, probe: Any) -> None:
    seen: list[dict[str, Any]] = []
    unsubscribe = node.on_lifecycle_event(seen.append)
    unsubscribe()
    sup = node.start_supervisor([noexpp.ChildSpec("c", probe)], name="sup")
    sup.stop()
    events.wait("supervisor_stopped", supervisor="sup")
    assert seen == []


def test_a_failing_subscriber_does_not_stop_delivery(
    node: noexpp.Node,
    make_recorder: Any,
    probe: Any,
    monkeypatch: pytest.MonkeyPatch,
    still_serves: Any,
) -> None:
    errors: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: errors.append(u.exc_type))

    def broken(event: dict[str, Any]) -> None:
        raise RuntimeError("subscriber bug")

    unsubscribe = node.on_lifecycle_event(broken)
    after = make_recorder(node)  # subscribed after `broken`: sees each event once `broken` has
    try:
        sup = node.start_supervisor([noexpp.ChildSpec("c", probe)], name="sup")
        sup.which_children()[0].ref.cast("crash")
        after.wait("child_restarted", supervisor="sup")
        sup.stop()
        after.wait("supervisor_stopped", supervisor="sup")
    finally:
        unsubscribe()
    assert [e["type"] for e in after.select(supervisor="sup")] == [
        "supervisor_started",
        "child_started",
        "child_stopped",
        "child_restarted",
        "child_stopped",
        "supervisor_stopped",
    ]
    assert errors == [RuntimeError] * 6
    still_serves(node)


def test_on_lifecycle_event_needs_a_callable(node: noexpp.Node) -> None:
    with pytest.raises(TypeError, match="callable"):
        node.on_lifecycle_event("not callable")  # type: ignore[arg-type]


def test_stats_report_counts_health_and_children(
    node: noexpp.Node, events: Any, probe: Any, wait_for: Any
) -> None:
    sup = node.start_supervisor(
        [noexpp.ChildSpec("c1", probe), noexpp.ChildSpec("c2", probe)],
        max_restarts=5,
        within=0.5,
        name="sup",
    )
    stats = sup.stats()
    assert stats["running"] is True
    assert stats["health"] == "healthy"
    assert (stats["child_count"], stats["total_restarts"]) == (2, 0)
    assert stats["stop_reason"] is None and stats["error"] is None
    assert stats["uptime"] >= 0
    c2 = stats["children"][1]["ref"]
    assert [c["id"] for c in stats["children"]] == ["c1", "c2"]
    assert [c["ref"] for c in stats["children"]] == [c.ref for c in sup.which_children()]
    assert all(c["restart_count"] == 0 and c["last_error"] is None for c in stats["children"])

    c2.cast("crash")
    events.wait("child_restarted", supervisor="sup")
    later = sup.stats()
    assert later["total_restarts"] == 1
    assert later["health"] == "degraded"  # a restart within the intensity window
    assert later["uptime"] >= stats["uptime"]
    assert [c["restart_count"] for c in later["children"]] == [0, 1]
    assert later["children"][1]["last_error"].startswith("error")
    assert "crash requested" in later["children"][1]["last_error"]
    assert (
        later["children"][0]["uptime"] >= later["children"][1]["uptime"]
    )  # c2 started again later
    # Once the restart leaves the window, it is healthy again.
    wait_for(lambda: sup.stats()["health"] == "healthy", what="health back to healthy")

    sup.stop()
    final = sup.stats()
    assert (final["running"], final["health"], final["stop_reason"], final["error"]) == (
        False,
        "stopped",
        "shutdown",
        None,
    )
    assert final["total_restarts"] == 1
    assert [c["ref"] for c in final["children"]] == [None, None]
    assert [c["uptime"] for c in final["children"]] == [0.0, 0.0]


def test_supervisor_repr_and_ref(node: noexpp.Node, probe: Any) -> None:
    sup = node.start_supervisor([noexpp.ChildSpec("c", probe)], name="sup")
    assert node.whereis("sup") == sup.ref
    assert sup.name == "sup"
    assert "running" in repr(sup) and "sup" in repr(sup)
    assert "<table>" in sup._repr_html_()
    with sup:
        pass
    assert "stopped" in repr(sup)
    assert node.whereis("sup") is None


def test_events_emitted_while_the_node_stops_reach_subscribers(make_node: Any) -> None:
    lost = 0
    for _ in range(200):
        n = make_node()
        seen: list[str] = []
        n.on_lifecycle_event(lambda e, seen=seen: seen.append(e["type"]))
        n.start_supervisor(
            [noexpp.ChildSpec(i, "noexpp.probe") for i in ("a", "b", "c")], name="sup"
        )
        n.stop()
        # The engine threads have been joined: whatever was delivered, was.
        if "supervisor_stopped" not in seen:
            lost += 1
    assert lost == 0, f"supervisor_stopped lost in {lost} of 200 node stops"
