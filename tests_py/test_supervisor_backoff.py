"""Backoff between consecutive restarts of a child: the n-th waits
min(max, initial * factor**(n-1)) (jitter 0 here); the supervisor keeps
serving while a child waits; a child that stayed up reset_after starts again
from initial.

Intervals are read from the events' "monotonic" timestamps (child_stopped ->
child_restarted of the same child). Only lower bounds and loose upper bounds
are asserted: a loaded machine may be late, never early."""

from __future__ import annotations

import time
from typing import Any

import pytest

import noexpp
from helpers import TIMEOUT

PROBE = "noexpp.probe"  # the timing is the supervisor's; one child language is enough
EARLY = 0.95  # tolerance for clock granularity: a restart is never meaningfully early


def crash_and_interval(events: Any, ref: Any, n: int) -> tuple[Any, float, int]:
    """Crashes ``ref`` (the child "c"); waits for its n-th restart; returns
    the new ref, the stop->restart interval and the event's attempt."""
    ref.cast("crash")
    restarted = events.wait("child_restarted", count=n, supervisor="sup", child_id="c")[n - 1]
    stopped = events.select("child_stopped", supervisor="sup", child_id="c")[n - 1]
    assert stopped["pid"] == ref
    return restarted["pid"], restarted["monotonic"] - stopped["monotonic"], restarted["attempt"]


def test_backoff_intervals_grow_by_the_factor(node: noexpp.Node, events: Any) -> None:
    sup = node.start_supervisor(
        [noexpp.ChildSpec("c", PROBE)],
        max_restarts=10,
        name="sup",
        backoff=noexpp.Backoff(initial=0.05, max=2.0, factor=2.0, jitter=0),
    )
    ref = sup.which_children()[0].ref
    intervals, attempts = [], []
    for n in (1, 2, 3, 4):
        ref, interval, attempt = crash_and_interval(events, ref, n)
        intervals.append(interval)
        attempts.append(attempt)
    assert attempts == [1, 2, 3, 4]
    # Each wait is initial * factor**(n-1): never shorter, and not far longer
    # (a late timer adds a little, it does not double anything).
    for expected, got in zip([0.05, 0.1, 0.2, 0.4], intervals):
        assert expected * EARLY <= got < expected + 0.5, intervals
    sup.stop()


def test_backoff_is_capped_at_max(node: noexpp.Node, events: Any) -> None:
    sup = node.start_supervisor(
        [noexpp.ChildSpec("c", PROBE)],
        max_restarts=10,
        name="sup",
        backoff=noexpp.Backoff(initial=0.05, max=0.15, factor=10.0, jitter=0),
    )
    ref = sup.which_children()[0].ref
    intervals = []
    for n in (1, 2, 3):
        ref, interval, _ = crash_and_interval(events, ref, n)
        intervals.append(interval)
    assert intervals[0] >= 0.05 * EARLY
    assert intervals[1] >= 0.15 * EARLY and intervals[2] >= 0.15 * EARLY
    assert intervals[2] < 2.0, intervals  # uncapped it would be 5 s
    sup.stop()


def test_jitter_stays_within_its_band(node: noexpp.Node, events: Any, py_probe: Any) -> None:
    sup = node.start_supervisor(
        [noexpp.ChildSpec("c", py_probe)],
        max_restarts=10,
        name="sup",
        backoff=noexpp.Backoff(initial=0.1, max=0.1, factor=1.0, jitter=0.5),
    )
    ref = sup.which_children()[0].ref
    for n in (1, 2, 3):
        ref, interval, _ = crash_and_interval(events, ref, n)
        assert interval >= 0.1 * 0.5 * EARLY
    sup.stop()


def test_supervisor_serves_requests_and_other_children_while_a_child_waits(
    node: noexpp.Node, events: Any, probe: Any
) -> None:
    delay = 0.8  # room for the requests below, also on a loaded machine
    sup = node.start_supervisor(
        [noexpp.ChildSpec("c", probe), noexpp.ChildSpec("other", probe)],
        max_restarts=10,
        name="sup",
        backoff=noexpp.Backoff(initial=delay, max=delay, factor=2.0, jitter=0),
    )
    ref, other = (c.ref for c in sup.which_children())
    ref.cast("crash")
    stopped = events.wait("child_stopped", supervisor="sup", child_id="c")[0]

    # While "c" waits: requests are answered, "c" shows no ref, others work.
    kids = sup.which_children()
    assert [(c.id, c.ref) for c in kids] == [("c", None), ("other", other)]
    assert sup.stats()["health"] == "restarting"
    assert sup.count_children()["active"] == 1
    added = sup.start_child(noexpp.ChildSpec("added", probe))
    assert added.call("ping", timeout=TIMEOUT) == "pong"
    sup.terminate_child("added")
    assert other.call("ping", timeout=TIMEOUT) == "pong"
    assert events.select("child_restarted", supervisor="sup") == []

    restarted = events.wait("child_restarted", supervisor="sup", child_id="c")[0]
    assert restarted["monotonic"] - stopped["monotonic"] >= delay * EARLY
    assert sup.which_children()[0].ref == restarted["pid"]
    sup.stop()


def test_stop_while_a_child_waits_cancels_its_restart(node: noexpp.Node, events: Any) -> None:
    sup = node.start_supervisor(
        [noexpp.ChildSpec("c", PROBE)],
        max_restarts=10,
        name="sup",
        backoff=noexpp.Backoff(initial=5.0, max=5.0, jitter=0),
    )
    sup.which_children()[0].ref.cast("crash")
    events.wait("child_stopped", supervisor="sup", child_id="c")
    began = time.monotonic()
    sup.stop()
    assert time.monotonic() - began < 4.0  # did not wait out the 5 s backoff
    events.wait("supervisor_stopped", supervisor="sup")
    assert events.select("child_restarted", supervisor="sup") == []


@pytest.mark.parametrize(
    "backoff",
    [
        pytest.param(
            noexpp.Backoff(initial=0.05, max=1.0, factor=2.0, jitter=0, reset_after=0.3),
            id="reset_after",
        ),
        pytest.param(
            noexpp.Backoff(initial=0.05, max=0.3, factor=2.0, jitter=0), id="default_is_max"
        ),
    ],
)
def test_backoff_resets_after_the_child_stayed_up(
    node: noexpp.Node, events: Any, wait_for: Any, backoff: noexpp.Backoff
) -> None:
    reset_after = backoff.reset_after if backoff.reset_after is not None else backoff.max
    sup = node.start_supervisor(
        [noexpp.ChildSpec("c", PROBE)], max_restarts=10, name="sup", backoff=backoff
    )
    ref = sup.which_children()[0].ref
    ref, _, attempt1 = crash_and_interval(events, ref, 1)
    ref, second, attempt2 = crash_and_interval(events, ref, 2)  # at once: the wait doubles
    assert (attempt1, attempt2) == (1, 2)
    assert second >= 0.1 * EARLY
    # The child now stays up longer than reset_after (time passing is what is tested).
    up_since = time.monotonic()
    wait_for(lambda: time.monotonic() - up_since > reset_after * 1.5, what="reset_after to pass")
    ref, third, attempt3 = crash_and_interval(events, ref, 3)
    assert attempt3 == 1  # back to the first step
    assert third >= 0.05 * EARLY
    sup.stop()


def test_backoff_applies_to_the_whole_one_for_all_group(node: noexpp.Node, events: Any) -> None:
    delay = 0.2
    sup = node.start_supervisor(
        [noexpp.ChildSpec("a", PROBE), noexpp.ChildSpec("c", PROBE)],
        strategy="one_for_all",
        max_restarts=10,
        name="sup",
        backoff=noexpp.Backoff(initial=delay, max=delay, jitter=0),
    )
    sup.which_children()[1].ref.cast("crash")
    restarted = events.wait("child_restarted", count=2, supervisor="sup")
    first_stop = events.select("child_stopped", supervisor="sup")[0]
    assert [e["child_id"] for e in restarted] == ["a", "c"]
    assert restarted[0]["monotonic"] - first_stop["monotonic"] >= delay * EARLY
    sup.stop()


def test_terminate_child_while_it_waits_cancels_its_restart(node: noexpp.Node, events: Any) -> None:
    delay = 0.6
    sup = node.start_supervisor(
        [noexpp.ChildSpec("c", PROBE), noexpp.ChildSpec("other", PROBE)],
        max_restarts=10,
        name="sup",
        backoff=noexpp.Backoff(initial=delay, max=delay, jitter=0),
    )
    sup.which_children()[0].ref.cast("crash")
    events.wait("child_stopped", supervisor="sup", child_id="c")
    with pytest.raises(noexpp.ChildRunningError):  # waiting to restart counts as running
        sup.delete_child("c")
    sup.terminate_child("c")
    # Past the backoff, a restart (if any) would have happened: let the
    # other child's restart, scheduled later with the same delay, show it.
    sup.which_children()[1].ref.cast("crash")
    events.wait("child_restarted", supervisor="sup", child_id="other")
    assert [e["child_id"] for e in events.select("child_restarted", supervisor="sup")] == ["other"]
    assert sup.which_children()[0].ref is None
    assert sup.restart_child("c").call("ping", timeout=TIMEOUT) == "pong"
    sup.stop()
