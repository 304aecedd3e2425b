"""Nested supervisors: a tree of depth 3 starts depth first in list order,
restarts only the failed branch, and stops in reverse, depth first.

    top (one_for_one)
      w1
      mid (one_for_one)
        w2
        leaf (one_for_all)
          w3
          w4
      w5
"""

from __future__ import annotations

from typing import Any

import pytest

import noexpp
from helpers import TIMEOUT


def tree(probe: Any, collector: Any) -> list[noexpp.ChildSpec]:
    def worker(i: str) -> noexpp.ChildSpec:
        return noexpp.ChildSpec(i, probe, args=(0, collector.ref), name=i)

    leaf = noexpp.SupervisorSpec([worker("w3"), worker("w4")], strategy="one_for_all", name="leaf")
    mid = noexpp.SupervisorSpec([worker("w2"), noexpp.ChildSpec("leaf", leaf)], name="mid")
    return [worker("w1"), noexpp.ChildSpec("mid", mid), worker("w5")]


def where(e: dict[str, Any]) -> tuple[str, str]:
    return (e["supervisor"], e.get("child_id", ""))


START_ORDER = [
    ("top", "w1"),
    ("mid", "w2"),
    ("leaf", "w3"),
    ("leaf", "w4"),
    ("mid", "leaf"),
    ("top", "mid"),
    ("top", "w5"),
]


def test_tree_of_depth_3_starts_depth_first_in_list_order(
    node: noexpp.Node, events: Any, collector: Any, probe: Any
) -> None:
    top = node.start_supervisor(tree(probe, collector), name="top")
    assert [where(e) for e in events.wait("child_started", count=7)] == START_ORDER
    assert [e["supervisor"] for e in events.select("supervisor_started")] == ["top", "mid", "leaf"]
    workers = ["w1", "w2", "w3", "w4", "w5"]
    assert collector.until_marker() == [("up", node.whereis(w)) for w in workers]
    assert all(node.whereis(w).call("ping", timeout=TIMEOUT) == "pong" for w in workers)
    kids = top.which_children()
    assert [(c.id, c.is_supervisor, c.behavior) for c in kids] == [
        ("w1", False, probe if isinstance(probe, str) else probe.__name__),
        ("mid", True, "supervisor"),
        ("w5", False, probe if isinstance(probe, str) else probe.__name__),
    ]
    assert kids[1].ref == node.whereis("mid")
    assert top.count_children() == {"specs": 3, "active": 3, "supervisors": 1, "workers": 2}
    top.stop()


def test_tree_restarts_only_the_failed_branch(
    node: noexpp.Node, events: Any, collector: Any, probe: Any
) -> None:
    top = node.start_supervisor(tree(probe, collector), name="top")
    events.wait("child_started", count=7)
    collector.until_marker()
    before = {w: node.whereis(w) for w in ("w1", "w2", "w3", "w4", "w5")}
    mid, leaf = node.whereis("mid"), node.whereis("leaf")

    before["w4"].cast("crash")  # leaf is one_for_all: w3 and w4 come back
    events.wait("child_restarted", count=2, supervisor="leaf")
    assert [where(e) for e in events.select("child_restarted")] == [("leaf", "w3"), ("leaf", "w4")]
    assert [(where(e), e["reason"][:5]) for e in events.select("child_stopped")] == [
        (("leaf", "w4"), "error"),
        (("leaf", "w3"), "shutd"),
    ]
    after = {w: node.whereis(w) for w in before}
    assert [w for w in before if after[w] != before[w]] == ["w3", "w4"]
    assert (node.whereis("mid"), node.whereis("leaf")) == (mid, leaf)
    assert collector.until_marker()[-2:] == [("up", after["w3"]), ("up", after["w4"])]
    assert top.stats()["total_restarts"] == 0
    top.stop()


def test_tree_restarts_a_failed_middle_supervisor_with_its_subtree(
    node: noexpp.Node, events: Any, collector: Any, probe: Any
) -> None:
    top = node.start_supervisor(tree(probe, collector), name="top")
    events.wait("child_started", count=7)
    collector.until_marker()
    old = {w: node.whereis(w) for w in ("w1", "w2", "w3", "w4", "w5")}
    old_mid = node.whereis("mid")

    old_mid.stop(reason="boom")  # abnormal: top restarts it; mid stops its own subtree first
    restarted = events.wait("child_restarted", supervisor="top")[0]
    assert restarted["child_id"] == "mid" and restarted["pid"] != old_mid

    # mid went down newest first (leaf, itself w4 then w3; then w2), top saw 'boom'...
    assert [where(e) for e in events.select("child_stopped")] == [
        ("leaf", "w4"),
        ("leaf", "w3"),
        ("mid", "leaf"),
        ("mid", "w2"),
        ("top", "mid"),
    ]
    assert events.select("child_stopped", supervisor="top")[0]["reason"] == "'boom'"
    # ...and the new mid started its subtree again in order.
    assert [where(e) for e in events.select("child_started")][7:] == [
        ("mid", "w2"),
        ("leaf", "w3"),
        ("leaf", "w4"),
        ("mid", "leaf"),
    ]
    new = {w: node.whereis(w) for w in old}
    assert new["w1"] == old["w1"] and new["w5"] == old["w5"]
    assert all(new[w] != old[w] for w in ("w2", "w3", "w4"))
    assert all(new[w].call("ping", timeout=TIMEOUT) == "pong" for w in new)
    messages = collector.until_marker()
    assert [m[0] for m in messages] == ["terminated"] * 3 + ["up"] * 3
    assert [m[1] for m in messages[3:]] == [new["w2"], new["w3"], new["w4"]]
    assert top.which_children()[1].restart_count == 1
    top.stop()


def test_tree_stops_in_reverse_depth_first(
    node: noexpp.Node, events: Any, collector: Any, probe: Any
) -> None:
    before = node.process_count()
    top = node.start_supervisor(tree(probe, collector), name="top")
    events.wait("child_started", count=7)
    refs = {w: node.whereis(w) for w in ("w1", "w2", "w3", "w4", "w5")}
    collector.until_marker()
    top.stop()
    events.wait("supervisor_stopped", count=3)
    assert [
        (e["type"], where(e))
        for e in events.select()
        if e["type"] in ("child_stopped", "supervisor_stopped")
    ] == [
        ("child_stopped", ("top", "w5")),
        ("child_stopped", ("leaf", "w4")),
        ("child_stopped", ("leaf", "w3")),
        ("supervisor_stopped", ("leaf", "")),
        ("child_stopped", ("mid", "leaf")),
        ("child_stopped", ("mid", "w2")),
        ("supervisor_stopped", ("mid", "")),
        ("child_stopped", ("top", "mid")),
        ("child_stopped", ("top", "w1")),
        ("supervisor_stopped", ("top", "")),
    ]
    assert all(e["reason"] == "shutdown" for e in events.select("child_stopped"))
    assert collector.until_marker() == [
        ("terminated", refs[w], "shutdown") for w in ("w5", "w4", "w3", "w2", "w1")
    ]
    assert node.process_count() == before
    assert all(node.whereis(n) is None for n in ("mid", "leaf", "w1", "w3"))


def test_child_supervisor_gives_a_handle_on_a_nested_supervisor(
    node: noexpp.Node, collector: Any, probe: Any
) -> None:
    top = node.start_supervisor(tree(probe, collector), name="top")
    mid = top.child_supervisor("mid")
    assert mid.name == "mid" and mid.is_running
    assert [c.id for c in mid.which_children()] == ["w2", "leaf"]
    leaf = mid.child_supervisor("leaf")
    assert [c.id for c in leaf.which_children()] == ["w3", "w4"]
    leaf.terminate_child("w4")  # managed through the handle like a top-level one
    assert [c.ref is None for c in leaf.which_children()] == [False, True]
    with pytest.raises(ValueError, match="worker, not a supervisor"):
        top.child_supervisor("w1")
    with pytest.raises(noexpp.ChildNotFoundError):
        top.child_supervisor("nope")
    top.terminate_child("mid")
    assert not mid.is_running
    with pytest.raises(noexpp.SupervisorNotRunning):
        mid.which_children()
    with pytest.raises(noexpp.SupervisorNotRunning):
        top.child_supervisor("mid")  # terminated: no running supervisor to hand out
