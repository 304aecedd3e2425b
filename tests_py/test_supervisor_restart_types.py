"""Restart types (OTP's table): permanent always comes back, transient only
after an abnormal exit, temporary never (and is forgotten). Run over Python
and C++ children.

A restart happens while the supervisor handles the child's EXIT, so a
request to the supervisor made after the child_stopped event sees the final
state: whether a restart happened or not is then certain."""

from __future__ import annotations

from typing import Any

import pytest

import noexpp
from helpers import TIMEOUT

NORMAL_EXITS = [
    pytest.param(("stop", "normal"), "normal", id="normal"),
    pytest.param(("stop", "shutdown"), "shutdown", id="shutdown"),
    pytest.param(("stop", ("shutdown", "done")), "{shutdown,", id="shutdown_term"),
]
ABNORMAL_EXITS = [
    pytest.param("crash", "error", id="crash"),
    pytest.param(("stop", "boom"), "'boom'", id="stop_boom"),
]


def start(node: noexpp.Node, probe: Any, restart: str) -> tuple[noexpp.Supervisor, Any]:
    sup = node.start_supervisor(
        [
            noexpp.ChildSpec("other", probe),
            noexpp.ChildSpec("child", probe, args=(3,), restart=restart),
        ],
        max_restarts=10,
        name="sup",
    )
    return sup, sup.which_children()[1].ref


def stopped(events: Any) -> dict[str, Any]:
    return events.wait("child_stopped", supervisor="sup", child_id="child")[0]


def assert_restarted(sup: noexpp.Supervisor, events: Any, old: Any) -> None:
    new = events.wait("child_restarted", supervisor="sup", child_id="child")[0]["pid"]
    assert new != old
    assert new.call("get", timeout=TIMEOUT) == 3
    child = sup.which_children()[1]
    assert (child.id, child.ref, child.restart_count) == ("child", new, 1)
    assert sup.stats()["total_restarts"] == 1


def assert_not_restarted(sup: noexpp.Supervisor, events: Any, kept: bool) -> None:
    kids = sup.which_children()  # served after the EXIT: any restart would show
    if kept:
        assert [(c.id, c.ref, c.restart_count) for c in kids[1:]] == [("child", None, 0)]
        assert sup.count_children() == {"specs": 2, "active": 1, "supervisors": 0, "workers": 2}
    else:
        assert [c.id for c in kids] == ["other"]
        assert sup.count_children() == {"specs": 1, "active": 1, "supervisors": 0, "workers": 1}
    assert events.select("child_restarted", supervisor="sup") == []
    assert sup.stats()["total_restarts"] == 0
    assert kids[0].ref.call("ping", timeout=TIMEOUT) == "pong"  # the sibling is untouched
    assert sup.is_running


@pytest.mark.parametrize("how, reason", NORMAL_EXITS + ABNORMAL_EXITS)
def test_permanent_child_is_always_restarted(
    node: noexpp.Node, events: Any, probe: Any, how: Any, reason: str
) -> None:
    sup, ref = start(node, probe, "permanent")
    ref.cast(how)
    assert stopped(events)["reason"].startswith(reason)
    assert_restarted(sup, events, ref)
    sup.stop()


@pytest.mark.parametrize("how, reason", NORMAL_EXITS)
def test_transient_normal(
    node: noexpp.Node, events: Any, probe: Any, how: Any, reason: str
) -> None:
    """A transient child that exits normally (normal, shutdown, {shutdown, _})
    stays down; its spec stays."""
    sup, ref = start(node, probe, "transient")
    ref.cast(how)
    assert stopped(events)["reason"].startswith(reason)
    assert_not_restarted(sup, events, kept=True)
    # Its spec is kept, so it can be started again by hand.
    again = sup.restart_child("child")
    assert again.call("get", timeout=TIMEOUT) == 3
    sup.stop()


@pytest.mark.parametrize("how, reason", ABNORMAL_EXITS)
def test_transient_abnormal(
    node: noexpp.Node, events: Any, probe: Any, how: Any, reason: str
) -> None:
    sup, ref = start(node, probe, "transient")
    ref.cast(how)
    assert stopped(events)["reason"].startswith(reason)
    assert_restarted(sup, events, ref)
    sup.stop()


@pytest.mark.parametrize("how, reason", NORMAL_EXITS + ABNORMAL_EXITS)
def test_temporary_child_is_never_restarted(
    node: noexpp.Node, events: Any, probe: Any, how: Any, reason: str
) -> None:
    sup, ref = start(node, probe, "temporary")
    ref.cast(how)
    assert stopped(events)["reason"].startswith(reason)
    assert_not_restarted(sup, events, kept=False)  # OTP forgets a temporary child once it exits
    with pytest.raises(noexpp.ChildNotFoundError):
        sup.restart_child("child")
    sup.stop()


def test_abnormal_exit_is_recorded_as_last_error(
    node: noexpp.Node, events: Any, probe: Any
) -> None:
    sup, ref = start(node, probe, "permanent")
    ref.cast("crash")
    events.wait("child_restarted", supervisor="sup")
    child = sup.stats()["children"][1]
    assert child["id"] == "child"
    assert child["restart_count"] == 1
    assert child["last_error"].startswith("error") and "crash requested" in child["last_error"]
    assert sup.stats()["children"][0]["last_error"] is None
    sup.stop()
