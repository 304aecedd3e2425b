"""Starting and stopping a supervisor: children start in list order, a child
whose init fails undoes the start, children stop in reverse order, each gets
its `shutdown` time and is then killed (0 = brutal kill, terminate not run)."""

from __future__ import annotations

import time
from typing import Any

import pytest

import noexpp


class FailingInit(noexpp.GenServer):
    def init(self, *args: Any) -> None:
        raise RuntimeError("no database")


def test_children_start_in_list_order(
    node: noexpp.Node, events: Any, collector: Any, probe: Any
) -> None:
    ids = ["c1", "c2", "c3", "c4"]
    sup = node.start_supervisor(
        [noexpp.ChildSpec(i, probe, args=(0, collector.ref)) for i in ids], name="sup"
    )
    kids = sup.which_children()
    assert [c.id for c in kids] == ids
    # Each init has returned when start_supervisor returns.
    assert collector.until_marker() == [("up", c.ref) for c in kids]
    started = events.wait("child_started", count=4, supervisor="sup")
    assert [(e["child_id"], e["pid"]) for e in started] == [(c.id, c.ref) for c in kids]
    assert events.select(supervisor="sup")[0]["type"] == "supervisor_started"
    assert all(c.started_at > 0 for c in kids)
    assert [c.started_at for c in kids] == sorted(c.started_at for c in kids)
    sup.stop()


def test_child_init_failure_fails_the_start_and_stops_started_children(
    node: noexpp.Node, events: Any, collector: Any, probe: Any, still_serves: Any
) -> None:
    before = node.process_count()
    specs = [
        noexpp.ChildSpec("c1", probe, args=(0, collector.ref)),
        noexpp.ChildSpec("c2", probe, args=(0, collector.ref)),
        noexpp.ChildSpec("db", FailingInit),
        noexpp.ChildSpec("c4", probe, args=(0, collector.ref)),
    ]
    with pytest.raises(noexpp.InitError, match="'db'") as err:
        node.start_supervisor(specs, name="sup")
    assert "no database" in str(err.value)

    messages = collector.until_marker()
    c1, c2 = messages[0][1], messages[1][1]
    # c1 and c2 came up, were stopped newest first; c4 never started.
    assert messages == [
        ("up", c1),
        ("up", c2),
        ("terminated", c2, "shutdown"),
        ("terminated", c1, "shutdown"),
    ]
    events.wait("supervisor_stopped", supervisor="sup")
    assert [(e["type"], e.get("child_id")) for e in events.select(supervisor="sup")] == [
        ("supervisor_started", None),
        ("child_started", "c1"),
        ("child_started", "c2"),
        ("child_stopped", "c2"),
        ("child_stopped", "c1"),
        ("supervisor_stopped", None),
    ]
    assert "'db'" in events.select("supervisor_stopped", supervisor="sup")[0]["reason"]
    assert node.whereis("sup") is None
    assert node.process_count() == before
    still_serves(node)


def test_stop_stops_children_in_reverse_order(
    node: noexpp.Node, events: Any, collector: Any, probe: Any
) -> None:
    sup = node.start_supervisor(
        [noexpp.ChildSpec(i, probe, args=(0, collector.ref)) for i in ("c1", "c2", "c3")],
        name="sup",
    )
    kids = sup.which_children()
    collector.until_marker()
    sup.stop()
    assert not sup.is_running
    assert all(not c.ref.alive for c in kids)
    assert collector.until_marker() == [("terminated", c.ref, "shutdown") for c in reversed(kids)]
    events.wait("supervisor_stopped", supervisor="sup")
    tail = events.select(supervisor="sup")[-4:]
    assert [(e["type"], e.get("child_id"), e.get("reason")) for e in tail] == [
        ("child_stopped", "c3", "shutdown"),
        ("child_stopped", "c2", "shutdown"),
        ("child_stopped", "c1", "shutdown"),
        ("supervisor_stopped", None, "shutdown"),
    ]
    stats = sup.stats()
    assert (stats["running"], stats["health"], stats["stop_reason"], stats["error"]) == (
        False,
        "stopped",
        "shutdown",
        None,
    )
    sup.stop()  # idempotent


def test_brutal_kill_does_not_run_terminate(
    node: noexpp.Node, events: Any, collector: Any, probe: Any
) -> None:
    sup = node.start_supervisor(
        [
            noexpp.ChildSpec("orderly", probe, args=(0, collector.ref)),
            noexpp.ChildSpec("brutal", probe, args=(0, collector.ref), shutdown=0),
        ],
        name="sup",
    )
    orderly = sup.which_children()[0].ref
    collector.until_marker()
    sup.stop()
    # Only the orderly child ran terminate.
    assert collector.until_marker() == [("terminated", orderly, "shutdown")]
    stopped = events.wait("child_stopped", count=2, supervisor="sup")
    assert [(e["child_id"], e["reason"]) for e in stopped] == [
        ("brutal", "killed"),
        ("orderly", "shutdown"),
    ]


def test_brutal_kill_spelling(probe: Any) -> None:
    assert noexpp.ChildSpec("c", probe, shutdown="brutal_kill").shutdown == 0.0
    assert noexpp.ChildSpec("c", probe, shutdown="infinity").shutdown is None
    assert noexpp.ChildSpec("c", probe).shutdown == 5.0
    assert noexpp.ChildSpec("s", noexpp.SupervisorSpec()).shutdown is None


def test_child_ignoring_shutdown_is_killed_after_its_shutdown_time(
    node: noexpp.Node, events: Any, collector: Any, probe: Any
) -> None:
    shutdown = 0.4
    sup = node.start_supervisor(
        [noexpp.ChildSpec("stubborn", probe, args=(0, collector.ref, True), shutdown=shutdown)],
        name="sup",
    )
    child = sup.which_children()[0].ref
    collector.until_marker()
    began = time.monotonic()
    sup.stop()
    took = time.monotonic() - began
    assert took >= shutdown * 0.9
    stopped = events.wait("child_stopped", supervisor="sup")[0]
    assert (stopped["child_id"], stopped["pid"], stopped["reason"]) == ("stubborn", child, "killed")
    assert not child.alive
    assert collector.until_marker() == []  # killed: terminate did not run


def test_each_child_gets_its_own_shutdown_time_in_reverse_order(
    node: noexpp.Node, events: Any, collector: Any, probe: Any
) -> None:
    sup = node.start_supervisor(
        [
            noexpp.ChildSpec("a", probe, args=(0, collector.ref, True), shutdown=0.25),
            noexpp.ChildSpec("quick", probe, args=(0, collector.ref)),
            noexpp.ChildSpec("b", probe, args=(0, collector.ref, True), shutdown=0.25),
        ],
        name="sup",
    )
    quick = sup.which_children()[1].ref
    collector.until_marker()
    began = time.monotonic()
    sup.stop()
    assert time.monotonic() - began >= 0.5 * 0.9  # b's time, then a's: one after the other
    stopped = events.wait("child_stopped", count=3, supervisor="sup")
    assert [(e["child_id"], e["reason"]) for e in stopped] == [
        ("b", "killed"),
        ("quick", "shutdown"),
        ("a", "killed"),
    ]
    assert stopped[2]["monotonic"] - stopped[0]["monotonic"] >= 0.25 * 0.9
    assert collector.until_marker() == [("terminated", quick, "shutdown")]


def test_terminate_child_also_kills_after_the_shutdown_time(
    node: noexpp.Node, events: Any, probe: Any
) -> None:
    sup = node.start_supervisor(
        [noexpp.ChildSpec("stubborn", probe, args=(0, None, True), shutdown=0.3)], name="sup"
    )
    began = time.monotonic()
    sup.terminate_child("stubborn")
    assert time.monotonic() - began >= 0.3 * 0.9
    assert events.wait("child_stopped", supervisor="sup")[0]["reason"] == "killed"
    assert sup.which_children()[0].ref is None
    assert sup.is_running
    sup.stop()


_log: dict[str, list[tuple[str, ...]]] = {}


class Logged(noexpp.GenServer):
    """Writes its init and terminate straight into ``_log[key]``: visible
    also when the node (and every process) has stopped."""

    def init(self, key: str, child_id: str) -> None:
        self.key, self.child_id = key, child_id
        _log.setdefault(key, []).append(("init", child_id))

    def terminate(self, reason: Any) -> None:
        _log[self.key].append(("terminate", self.child_id, str(reason)))


def test_stopping_the_node_stops_children_through_their_supervisor(
    make_node: Any, unique: Any
) -> None:
    """Node.stop leaves the children to their supervisor: reverse order, none restarted."""
    n = make_node()
    key = unique("log")
    sup = n.start_supervisor(
        [noexpp.ChildSpec(i, Logged, args=(key, i)) for i in ("c1", "c2", "c3")], name="sup"
    )
    kids = sup.which_children()
    n.stop()
    assert not sup.is_running
    assert all(not c.ref.alive for c in kids)
    assert _log.pop(key) == [
        ("init", "c1"),
        ("init", "c2"),
        ("init", "c3"),
        ("terminate", "c3", "shutdown"),
        ("terminate", "c2", "shutdown"),
        ("terminate", "c1", "shutdown"),
    ]
    assert sup.stats()["total_restarts"] == 0
