"""Supervisor strategies: one_for_one, one_for_all, rest_for_one and
simple_one_for_one, over Python and C++ children (the ``probe`` fixture).

Orders and counts are read from the lifecycle events of the supervisor and
from the probes' own ("up", ref) / ("terminated", ref, reason) messages."""

from __future__ import annotations

from typing import Any

import pytest

import noexpp
from helpers import TIMEOUT


def children(probe: Any, collector: Any, ids: list[str], **spec: Any) -> list[noexpp.ChildSpec]:
    return [noexpp.ChildSpec(i, probe, args=(0, collector.ref), **spec) for i in ids]


def refs(sup: noexpp.Supervisor) -> dict[str, Any]:
    return {c.id: c.ref for c in sup.which_children()}


def after(events: list[dict[str, Any]], first: dict[str, Any]) -> list[dict[str, Any]]:
    return events[events.index(first) :]


def steps(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["type"], e.get("child_id", "")) for e in events]


def ups(collector: Any, count: int) -> list[Any]:
    """The refs of the next ``count`` ("up", ref) messages, in order."""
    out = []
    for _ in range(count):
        tag, ref = collector.get()
        assert tag == "up"
        out.append(ref)
    return out


# --- one_for_one ---------------------------------------------------------------


def test_one_for_one_restarts_only_the_failed_child(
    node: noexpp.Node, events: Any, collector: Any, probe: Any
) -> None:
    sup = node.start_supervisor(
        children(probe, collector, ["c1", "c2", "c3"]), strategy="one_for_one", name="sup"
    )
    before = refs(sup)
    assert ups(collector, 3) == [before["c1"], before["c2"], before["c3"]]

    before["c2"].cast("crash")
    restarted = events.wait("child_restarted", supervisor="sup")
    assert restarted[0]["child_id"] == "c2"

    crash = events.select("child_stopped", supervisor="sup")[0]
    assert steps(after(events.select(supervisor="sup"), crash)) == [
        ("child_stopped", "c2"),
        ("child_restarted", "c2"),
    ]
    assert crash["reason"].startswith("error")
    assert "crash requested" in crash["reason"]

    now = refs(sup)
    assert now["c1"] == before["c1"] and now["c3"] == before["c3"]
    assert now["c2"] != before["c2"] and now["c2"] == restarted[0]["pid"]
    assert now["c2"].call("ping", timeout=TIMEOUT) == "pong"
    assert [c.restart_count for c in sup.which_children()] == [0, 1, 0]
    assert sup.stats()["total_restarts"] == 1
    sup.stop()


def test_one_for_one_restarted_child_starts_from_its_spec(
    node: noexpp.Node, events: Any, probe: Any
) -> None:
    sup = node.start_supervisor([noexpp.ChildSpec("c", probe, args=(7,))], name="sup")
    ref = refs(sup)["c"]
    assert ref.call(("add", 5), timeout=TIMEOUT) == 12
    ref.cast("crash")
    new = events.wait("child_restarted", supervisor="sup")[0]["pid"]
    assert new.call("get", timeout=TIMEOUT) == 7
    sup.stop()


# --- one_for_all ---------------------------------------------------------------


def test_one_for_all_restarts_every_child_once_in_start_order(
    node: noexpp.Node, events: Any, collector: Any, probe: Any
) -> None:
    sup = node.start_supervisor(
        children(probe, collector, ["c1", "c2", "c3"]), strategy="one_for_all", name="sup"
    )
    before = refs(sup)
    assert ups(collector, 3) == [before["c1"], before["c2"], before["c3"]]

    before["c2"].cast("crash")
    events.wait("child_restarted", count=3, supervisor="sup")

    crash = events.select("child_stopped", supervisor="sup")[0]
    sequence = after(events.select(supervisor="sup"), crash)
    # The failed child, then the others stopped newest first, then all back in start order.
    assert steps(sequence) == [
        ("child_stopped", "c2"),
        ("child_stopped", "c3"),
        ("child_stopped", "c1"),
        ("child_restarted", "c1"),
        ("child_restarted", "c2"),
        ("child_restarted", "c3"),
    ]
    assert crash["reason"].startswith("error")
    assert [e["reason"] for e in sequence[1:3]] == ["shutdown", "shutdown"]
    assert [e["pid"] for e in sequence[:3]] == [before["c2"], before["c3"], before["c1"]]

    # The probes saw the same: c2 crashed, c3 then c1 shut down, then c1, c2, c3 came up.
    stops = [collector.get() for _ in range(3)]
    assert [(tag, ref) for tag, ref, _ in stops] == [
        ("terminated", before["c2"]),
        ("terminated", before["c3"]),
        ("terminated", before["c1"]),
    ]
    assert [reason for _, _, reason in stops[1:]] == ["shutdown", "shutdown"]
    now = refs(sup)
    assert ups(collector, 3) == [now["c1"], now["c2"], now["c3"]]
    assert all(now[i] != before[i] for i in now)
    assert [c.restart_count for c in sup.which_children()] == [1, 1, 1]
    assert sup.stats()["total_restarts"] == 1  # one failure, one restart of the group
    assert [r.call("get", timeout=TIMEOUT) for r in now.values()] == [0, 0, 0]
    assert collector.until_marker() == []  # nothing else started or stopped
    sup.stop()


def test_one_for_all_does_not_bring_back_temporary_siblings(
    node: noexpp.Node, events: Any, probe: Any
) -> None:
    sup = node.start_supervisor(
        [
            noexpp.ChildSpec("c1", probe),
            noexpp.ChildSpec("tmp", probe, restart="temporary"),
            noexpp.ChildSpec("c3", probe),
        ],
        strategy="one_for_all",
        name="sup",
    )
    refs(sup)["c1"].cast("crash")
    events.wait("child_restarted", count=2, supervisor="sup")
    assert [c.id for c in sup.which_children()] == ["c1", "c3"]
    assert [e["child_id"] for e in events.select("child_restarted", supervisor="sup")] == [
        "c1",
        "c3",
    ]
    sup.stop()


# --- rest_for_one --------------------------------------------------------------


def test_rest_for_one_restarts_the_failed_child_and_those_after_it(
    node: noexpp.Node, events: Any, collector: Any, probe: Any
) -> None:
    sup = node.start_supervisor(
        children(probe, collector, ["c1", "c2", "c3", "c4"]), strategy="rest_for_one", name="sup"
    )
    before = refs(sup)
    ups(collector, 4)

    before["c2"].cast("crash")
    events.wait("child_restarted", count=3, supervisor="sup")

    crash = events.select("child_stopped", supervisor="sup")[0]
    assert steps(after(events.select(supervisor="sup"), crash)) == [
        ("child_stopped", "c2"),
        ("child_stopped", "c4"),
        ("child_stopped", "c3"),
        ("child_restarted", "c2"),
        ("child_restarted", "c3"),
        ("child_restarted", "c4"),
    ]

    stops = [collector.get() for _ in range(3)]
    assert [ref for _, ref, _ in stops] == [before["c2"], before["c4"], before["c3"]]
    now = refs(sup)
    assert ups(collector, 3) == [now["c2"], now["c3"], now["c4"]]
    assert now["c1"] == before["c1"]
    assert all(now[i] != before[i] for i in ("c2", "c3", "c4"))
    assert [c.restart_count for c in sup.which_children()] == [0, 1, 1, 1]
    assert collector.until_marker() == []  # c1 was never stopped or started again
    sup.stop()


def test_rest_for_one_crash_of_the_last_child_restarts_only_it(
    node: noexpp.Node, events: Any, probe: Any
) -> None:
    sup = node.start_supervisor(
        [noexpp.ChildSpec(i, probe) for i in ("c1", "c2", "c3")],
        strategy="rest_for_one",
        name="sup",
    )
    before = refs(sup)
    before["c3"].cast("crash")
    events.wait("child_restarted", supervisor="sup")
    now = refs(sup)
    assert now["c1"] == before["c1"] and now["c2"] == before["c2"] and now["c3"] != before["c3"]
    assert steps(events.select("child_stopped", supervisor="sup")) == [("child_stopped", "c3")]
    sup.stop()


# --- simple_one_for_one ---------------------------------------------------------


def test_simple_one_for_one_appends_start_child_args_to_the_template(
    node: noexpp.Node, collector: Any, probe: Any
) -> None:
    sup = node.start_supervisor(
        strategy="simple_one_for_one", child_template=noexpp.ChildSpec("worker", probe, args=(10,))
    )
    a = sup.start_child((collector.ref,))
    b = sup.start_child([collector.ref])
    assert a != b
    assert collector.get() == ("up", a)  # template value, then start_child's notify target
    assert collector.get() == ("up", b)
    assert a.call("get", timeout=TIMEOUT) == 10
    assert b.call(("add", 1), timeout=TIMEOUT) == 11
    kids = sup.which_children()
    assert [(c.id, c.ref) for c in kids] == [("worker", a), ("worker", b)]
    assert sup.count_children() == {"specs": 1, "active": 2, "supervisors": 0, "workers": 2}
    sup.stop()


def test_simple_one_for_one_restarts_a_crashed_child_with_its_args(
    node: noexpp.Node, events: Any, probe: Any
) -> None:
    sup = node.start_supervisor(
        strategy="simple_one_for_one", name="sup", child_template=noexpp.ChildSpec("worker", probe)
    )
    a = sup.start_child((1,))
    b = sup.start_child((2,))
    b.cast("crash")
    new_b = events.wait("child_restarted", supervisor="sup")[0]["pid"]
    assert new_b.call("get", timeout=TIMEOUT) == 2
    assert [c.ref for c in sup.which_children()] == [a, new_b]
    assert a.call("get", timeout=TIMEOUT) == 1
    sup.stop()


def test_simple_one_for_one_terminate_child_by_ref(
    node: noexpp.Node, events: Any, collector: Any, probe: Any
) -> None:
    sup = node.start_supervisor(
        strategy="simple_one_for_one",
        name="sup",
        child_template=noexpp.ChildSpec("worker", probe, args=(0, collector.ref)),
    )
    a = sup.start_child()
    b = sup.start_child()
    ups(collector, 2)
    sup.terminate_child(b)
    assert collector.get() == ("terminated", b, "shutdown")
    assert not b.alive
    assert [c.ref for c in sup.which_children()] == [a]
    assert sup.count_children()["specs"] == 1
    assert events.select("child_restarted", supervisor="sup") == []
    sup.terminate_child(b)  # as OTP: a process that no longer exists is ok
    stranger = node.spawn(probe, 0, collector.ref)
    with pytest.raises(noexpp.ChildNotFoundError):
        sup.terminate_child(stranger)  # a live process that is not a child is not
    stranger.stop()
    sup.stop()


def test_simple_one_for_one_transient_child_exiting_normally_is_forgotten(
    node: noexpp.Node, events: Any, probe: Any
) -> None:
    sup = node.start_supervisor(
        strategy="simple_one_for_one",
        name="sup",
        child_template=noexpp.ChildSpec("worker", probe, restart="transient"),
    )
    a = sup.start_child()
    a.cast(("stop", "normal"))
    events.wait("child_stopped", supervisor="sup")
    assert sup.which_children() == []
    assert events.select("child_restarted", supervisor="sup") == []
    sup.stop()


def test_simple_one_for_one_rejects_static_children(
    node: noexpp.Node, probe: Any, still_serves: Any
) -> None:
    with pytest.raises(noexpp.InvalidSimpleOneForOneError, match="static children"):
        node.start_supervisor(
            [noexpp.ChildSpec("c", probe)],
            strategy="simple_one_for_one",
            child_template=noexpp.ChildSpec("worker", probe),
        )
    still_serves(node)


def test_simple_one_for_one_needs_a_child_template(node: noexpp.Node, still_serves: Any) -> None:
    with pytest.raises(noexpp.MissingChildTemplateError, match="child_template"):
        node.start_supervisor(strategy="simple_one_for_one")
    still_serves(node)


def test_simple_one_for_one_refuses_operations_by_id(node: noexpp.Node, probe: Any) -> None:
    sup = node.start_supervisor(
        strategy="simple_one_for_one", child_template=noexpp.ChildSpec("worker", probe)
    )
    sup.start_child()
    with pytest.raises(noexpp.InvalidSimpleOneForOneError):
        sup.start_child(noexpp.ChildSpec("other", probe))
    with pytest.raises(noexpp.InvalidSimpleOneForOneError):
        sup.terminate_child("worker")
    with pytest.raises(noexpp.InvalidSimpleOneForOneError):
        sup.restart_child("worker")
    with pytest.raises(noexpp.InvalidSimpleOneForOneError):
        sup.delete_child("worker")
    assert sup.count_children()["active"] == 1
    sup.stop()


def test_start_child_with_args_needs_simple_one_for_one(node: noexpp.Node, probe: Any) -> None:
    sup = node.start_supervisor([noexpp.ChildSpec("c", probe)])
    with pytest.raises(ValueError, match="simple_one_for_one"):
        sup.start_child((1,))
    assert [c.id for c in sup.which_children()] == ["c"]
    sup.stop()
