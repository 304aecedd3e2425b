"""The distributed supervisor from Python (DESIGN §7,
docs/distributed-supervision.md), over real TCP on 127.0.0.1.

``node.start_distributed_supervisor(...)`` places each child, a behavior
registered by name, on the node its selector picks and supervises it across
the network as a local supervisor does. Covered here: every selector, the
strategies and restart types across nodes, args across restarts,
simple_one_for_one, terminate/stop leaving no process anywhere, a node lost
(abort in threads mode, SIGKILL of a node process) bringing its children
back on a live node once and uncounted, the supervisor's own node lost
stopping its children within the lease, a partition and its heal leaving
one copy of each child, typed errors, events and stats.

Threads-mode clusters (LocalCluster, nodes in this interpreter) unless a
test needs a node process to SIGKILL. A lease of 0.5 s keeps the waits for
a lost node short; every wait is bounded by TIMEOUT or a multiple of it.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import noexpp
import pytest
from dsup_behaviors import WORKER
from helpers import TIMEOUT, Collector, EventRecorder, close_cluster, closing_factory, wait_for

#: A short lease: a lost node's children come back after about 0.8 s.
LEASE = 0.5
#: Bound for anything that waits for a lease to run out (sanitizer builds, a loaded machine).
LEASE_BOUND = TIMEOUT + 4 * LEASE
MODULES = ["dsup_behaviors"]


@pytest.fixture
def cluster() -> Iterator[Callable[..., noexpp.LocalCluster]]:
    """``cluster(n, mode="threads")`` -> a started LocalCluster whose nodes
    import dsup_behaviors; closed at teardown (node processes checked gone)."""
    def make(n: int = 3, mode: str = "threads") -> noexpp.LocalCluster:
        return noexpp.LocalCluster(n, mode=mode, modules=MODULES)

    def close(c: noexpp.LocalCluster) -> None:
        if c.mode == "processes":
            close_cluster(c)
        else:
            c.close()

    with closing_factory(make, close) as make_one:
        yield make_one


@pytest.fixture
def events() -> Iterator[Callable[[noexpp.Node], EventRecorder]]:
    with closing_factory(EventRecorder, EventRecorder.close) as make:
        yield make


def _specs(n: int, report: noexpp.Ref | None = None,
           **options: Any) -> list[noexpp.DistributedChildSpec]:
    return [noexpp.DistributedChildSpec(f"w{i}", WORKER, args=(f"w{i}", report), **options)
            for i in range(n)]


def _nodes(c: noexpp.LocalCluster) -> list[noexpp.Node]:
    nodes = c.nodes
    assert all(isinstance(n, noexpp.Node) for n in nodes)
    return nodes  # type: ignore[return-value]


def _census(dsup: noexpp.DistributedSupervisor) -> dict[str, str]:
    """child id -> the node it answers from, asked of every running child."""
    out = {}
    for child in dsup.children():
        assert child.ref is not None, f"{child.id} is not running: {child}"
        tag, node_id, _pid = child.ref.call("whoami", timeout=TIMEOUT)
        assert tag == child.id
        assert node_id == child.node_id == child.ref.node_id
        out[child.id] = node_id
    return out


def _worker_count(node: noexpp.Node) -> int:
    return sum(1 for p in node.processes() if p.behavior.endswith("Worker"))


def _all_running(dsup: noexpp.DistributedSupervisor, away_from: str | None = None) -> bool:
    kids = dsup.children()
    return all(k.ref is not None and k.status == "running" and k.node_id != away_from for k in kids)


class CopyCensus:
    """Counts the live Worker processes of each tag on every node every few
    milliseconds, on a thread, until stopped: the most copies of a child
    ever seen at once (threads mode: every node is in this interpreter, so
    one sample sees the whole cluster at one time)."""

    def __init__(self, nodes: list[noexpp.Node]) -> None:
        self.nodes = nodes
        self.most = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.003):
            count = sum(_worker_count(n) for n in self.nodes if n.running)
            self.most = max(self.most, count)
            self.samples += 1

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(TIMEOUT)
        return self.most


# --- placement -----------------------------------------------------------------------

def test_round_robin_places_children_on_every_node_in_turn(cluster: Any) -> None:
    c = cluster(3)
    a, b, d = _nodes(c)
    with a.start_distributed_supervisor(_specs(6), node_selector="round_robin",
                                        lease=LEASE) as dsup:
        placed = [child.node_id for child in dsup.children()]
        assert sorted(set(placed)) == sorted([a.id, b.id, d.id])
        assert all(placed.count(n) == 2 for n in set(placed))
        assert placed[:3] == placed[3:]                      # in turn, the same order again
        assert _census(dsup) == {f"w{i}": placed[i] for i in range(6)}


def test_local_first_keeps_children_on_the_supervisors_node(cluster: Any) -> None:
    a, b, _ = _nodes(cluster(3))
    with a.start_distributed_supervisor(_specs(3), lease=LEASE) as dsup:
        assert {child.node_id for child in dsup.children()} == {a.id}
        assert _worker_count(b) == 0


def test_a_node_pinned_child_runs_there_and_a_child_selector_overrides_the_supervisors(
        cluster: Any) -> None:
    a, b, d = _nodes(cluster(3))
    pinned = noexpp.DistributedChildSpec("pinned", WORKER, args=("pinned",),
                                         node_selector={"node": d.id})
    with a.start_distributed_supervisor([pinned], node_selector={"node": b.id},
                                        lease=LEASE) as dsup:
        dsup.start_child(noexpp.DistributedChildSpec("other", WORKER, args=("other",)))
        assert _census(dsup) == {"pinned": d.id, "other": b.id}


def test_a_callable_selector_gets_the_live_nodes_and_the_child_id(cluster: Any) -> None:
    a, b, d = _nodes(cluster(3))
    offered: list[tuple[list[str], str]] = []

    def choose(nodes: list[noexpp.NodeInfo], child_id: str) -> str:
        offered.append(([n.id for n in nodes], child_id))
        assert all(isinstance(n, noexpp.NodeInfo) and n.process_count >= 0 for n in nodes)
        return d.id if child_id == "w1" else b.id

    with a.start_distributed_supervisor(_specs(2), node_selector=choose, lease=LEASE) as dsup:
        assert _census(dsup) == {"w0": b.id, "w1": d.id}
    assert [child for _, child in offered] == ["w0", "w1"]
    assert all(set(ids) == {a.id, b.id, d.id} for ids, _ in offered)


def test_least_loaded_picks_the_node_with_fewest_processes(cluster: Any) -> None:
    a, b, d = _nodes(cluster(3))
    for node in (a, b):                                # d has the fewest processes
        for _ in range(20):
            node.spawn(noexpp.GenServer)

    def loads_seen() -> bool:                          # counts travel with heartbeats
        seen = {n.id: n.process_count for n in a.nodes()}
        return seen[b.id] >= 20 and seen[d.id] < 20
    wait_for(loads_seen, what="b's process count in a's view")
    with a.start_distributed_supervisor(_specs(1), node_selector="least_loaded",
                                        lease=LEASE) as dsup:
        assert dsup.child("w0").node_id == d.id


def test_random_places_every_child_on_some_member(cluster: Any) -> None:
    c = cluster(3)
    with _nodes(c)[0].start_distributed_supervisor(_specs(6), node_selector="random",
                                                   lease=LEASE) as dsup:
        assert set(_census(dsup).values()) <= set(c.ids)


# --- crashes on other nodes ------------------------------------------------------------

def test_a_crash_on_another_node_is_restarted_by_its_selector_with_the_same_args_and_counted(
        cluster: Any) -> None:
    a, b, _ = _nodes(cluster(3))
    with a.start_distributed_supervisor(_specs(1), node_selector={"node": b.id},
                                        lease=LEASE) as dsup:
        first = dsup.child("w0")
        assert first.ref is not None and first.node_id == b.id
        first.ref.cast("crash")
        wait_for(lambda: dsup.child("w0").restart_count == 1 and dsup.child("w0").ref is not None
                 and dsup.child("w0").ref != first.ref, what="w0 restarted")
        again = dsup.child("w0")
        assert again.node_id == b.id
        assert again.ref is not None and again.ref.call("args", timeout=TIMEOUT) == ("w0", None)
        stats = dsup.stats()
        assert stats["total_restarts"] == 1
        assert stats["node_failure_restarts"] == 0
        assert "ZeroDivisionError" in str(stats["last_error"])


def test_a_cpp_child_and_a_python_child_share_one_tree_across_nodes(cluster: Any) -> None:
    a, b, d = _nodes(cluster(3))
    probe = noexpp.DistributedChildSpec("probe", "noexpp.probe", args=(41,),
                                        node_selector={"node": b.id})
    worker = noexpp.DistributedChildSpec("py", WORKER, args=("py",),
                                         node_selector={"node": d.id})
    with a.start_distributed_supervisor([probe, worker], lease=LEASE) as dsup:
        first = dsup.child("probe")
        assert first.behavior == "noexpp.probe" and first.node_id == b.id
        assert first.ref is not None and first.ref.call(("add", 1), timeout=TIMEOUT) == 42
        first.ref.cast("crash")                          # std::runtime_error in C++
        wait_for(lambda: dsup.child("probe").ref not in (None, first.ref), what="probe restarted")
        again = dsup.child("probe")
        assert again.ref is not None and again.ref.call("get", timeout=TIMEOUT) == 41  # args again
        assert again.node_id == b.id and again.restart_count == 1
        assert "crash requested" in str(dsup.stats()["last_error"])
        assert dsup.child("py").restart_count == 0


@pytest.mark.parametrize(("strategy", "restarted"), [
    ("one_for_all", {"w0", "w1", "w2"}),          # every child, on every node
    ("rest_for_one", {"w1", "w2"}),               # the crashed one and those started after it
])
def test_a_group_strategy_restarts_its_group_across_nodes_and_leaves_the_others(
        cluster: Any, strategy: str, restarted: set[str]) -> None:
    a, _, _ = _nodes(cluster(3))
    with a.start_distributed_supervisor(_specs(3), strategy=strategy,
                                        node_selector="round_robin", lease=LEASE) as dsup:
        before = {k.id: k.ref for k in dsup.children()}
        assert before["w1"] is not None
        before["w1"].cast("crash")
        wait_for(lambda: all(k.ref is not None and k.ref != before[k.id]
                             for k in dsup.children() if k.id in restarted),
                 what=f"{sorted(restarted)} restarted")
        after = {k.id: k for k in dsup.children()}
        assert {cid for cid, k in after.items() if k.ref == before[cid]} == \
            {"w0", "w1", "w2"} - restarted
        assert after["w1"].restart_count == 1
        assert len(_census(dsup)) == 3


def test_exceeding_the_restart_intensity_stops_the_supervisor_and_its_remote_children(
        cluster: Any) -> None:
    a, b, _ = _nodes(cluster(3))
    dsup = a.start_distributed_supervisor(_specs(2), node_selector={"node": b.id},
                                          max_restarts=0, lease=LEASE)
    try:
        ref = dsup.child("w0").ref
        assert ref is not None
        ref.cast("crash")
        wait_for(lambda: not dsup.is_running, what="the supervisor to give up")
        assert "more than 0 restarts" in str(dsup.stats()["stop_reason"])
        wait_for(lambda: _worker_count(b) == 0, what="no worker left on b")
    finally:
        dsup.stop()


def test_a_transient_child_that_stops_normally_is_not_restarted_and_a_temporary_never(
        cluster: Any) -> None:
    a, b, _ = _nodes(cluster(3))
    transient = noexpp.DistributedChildSpec("t", WORKER, args=("t",), restart="transient")
    temporary = noexpp.DistributedChildSpec("tmp", WORKER, args=("tmp",), restart="temporary")
    with a.start_distributed_supervisor([transient, temporary], node_selector={"node": b.id},
                                        lease=LEASE) as dsup:
        t_ref, tmp_ref = dsup.child("t").ref, dsup.child("tmp").ref
        assert t_ref is not None and tmp_ref is not None
        t_ref.stop()                                  # reason normal: not restarted
        tmp_ref.cast("crash")
        wait_for(lambda: _worker_count(b) == 0, what="both children gone from b")
        assert dsup.child("t").ref is None
        assert [k.id for k in dsup.children()] == ["t"]       # a temporary child is forgotten
        assert dsup.stats()["total_restarts"] == 0


def test_a_nested_distributed_supervisor_that_gives_up_escalates_to_its_local_parent(
        cluster: Any) -> None:
    a, b, _ = _nodes(cluster(3))
    inner = noexpp.DistributedSupervisorSpec(_specs(1), node_selector={"node": b.id},
                                             max_restarts=0, lease=LEASE)
    parent = a.start_supervisor([noexpp.ChildSpec("placed", inner)], max_restarts=1)
    try:
        def crash_the_worker() -> noexpp.DistributedSupervisor:
            dsup = parent.child_supervisor("placed")
            assert isinstance(dsup, noexpp.DistributedSupervisor)
            ref = dsup.child("w0").ref
            assert ref is not None and ref.node_id == b.id
            ref.cast("crash")
            return dsup

        first = crash_the_worker()                 # the inner supervisor gives up ...
        wait_for(lambda: parent.which_children()[0].restart_count == 1
                 and parent.which_children()[0].ref is not None, what="the parent's restart")
        assert not first.is_running                # ... and the parent started a new one
        wait_for(lambda: _worker_count(b) == 1, what="the new inner supervisor's worker on b")
        crash_the_worker()
        wait_for(lambda: not parent.is_running, what="the parent to give up in turn")
        assert parent.stats()["error"] is not None
        wait_for(lambda: _worker_count(b) == 0, what="no worker left on b")
    finally:
        parent.stop()


# --- simple_one_for_one, terminate, stop -----------------------------------------------

def test_simple_one_for_one_starts_templates_with_extra_args_on_the_selected_nodes(
        cluster: Any) -> None:
    c = cluster(3)
    a = _nodes(c)[0]
    template = noexpp.DistributedChildSpec("job", WORKER, args=("job",))
    with a.start_distributed_supervisor(strategy="simple_one_for_one", child_template=template,
                                        node_selector="round_robin", lease=LEASE) as dsup:
        refs = [dsup.start_child((None, i)) for i in range(3)]
        assert all(isinstance(r, noexpp.Ref) for r in refs)
        assert {r.node_id for r in refs if r is not None} == set(c.ids)
        for i, r in enumerate(refs):
            assert r is not None and r.call("args", timeout=TIMEOUT) == ("job", None, i)
        assert dsup.count_children()["active"] == 3
        dsup.terminate_child(refs[1])
        assert dsup.count_children()["active"] == 2


def test_terminate_child_and_stop_leave_no_process_on_any_node(cluster: Any) -> None:
    a, b, d = _nodes(cluster(3))
    dsup = a.start_distributed_supervisor(_specs(6), node_selector="round_robin", lease=LEASE)
    assert [_worker_count(n) for n in (a, b, d)] == [2, 2, 2]
    on_b = next(k for k in dsup.children() if k.node_id == b.id)
    dsup.terminate_child(on_b.id)
    assert _worker_count(b) == 1                  # gone when terminate_child returns
    assert dsup.child(on_b.id).ref is None
    assert dsup.restart_child(on_b.id) is not None
    dsup.stop()
    assert not dsup.is_running
    assert [_worker_count(n) for n in (a, b, d)] == [0, 0, 0]
    dsup.stop()                                   # idempotent


# --- a node lost -----------------------------------------------------------------------

def test_a_lost_nodes_children_come_back_on_a_live_node_uncounted_with_events(
        cluster: Any, events: Any) -> None:
    c = cluster(3)
    a, b, d = _nodes(c)
    log = events(a)
    with a.start_distributed_supervisor(_specs(3), node_selector="round_robin", max_restarts=0,
                                        lease=LEASE) as dsup:
        lost = [k.id for k in dsup.children() if k.node_id == b.id]
        assert lost
        c.kill(b)
        wait_for(lambda: _all_running(dsup, away_from=b.id), timeout=LEASE_BOUND,
                 what="b's children running elsewhere")
        census = _census(dsup)
        assert set(census.values()) <= {a.id, d.id}
        stats = dsup.stats()
        assert dsup.is_running                        # node loss is not counted (max_restarts=0)
        assert stats["node_failure_restarts"] == len(lost)
        assert b.id not in stats["children_by_node"]
        for child_id in lost:
            migrated = log.wait("child_migrated", child_id=child_id, timeout=LEASE_BOUND)[0]
            assert migrated["from_node"] == b.id and migrated["to_node"] == census[child_id]
        types = [e["type"] for e in log.all() if e.get("child_id") == lost[0]]
        assert types.index("child_stopped") < types.index("child_migrated")
        assert log.count("node_failure_detected") >= 1


def _members_only(members: list[str]) -> Callable[[list[noexpp.NodeInfo], str], str]:
    """A selector that spreads children w0, w1, ... over the live ``members``
    in turn (never the controller node of a processes-mode cluster)."""
    def select(nodes: list[noexpp.NodeInfo], child_id: str) -> str:
        live = sorted(n.id for n in nodes if n.id in members and n.status == "up")
        return live[int(child_id[1:]) % len(live)]
    return select


def _process_count(controller: noexpp.Node, node_id: str) -> int | None:
    """The node process's process count, or None while it cannot answer."""
    try:
        return int(controller._request(node_id, ("process_count",), timeout=TIMEOUT))
    except (noexpp.NodeDown, noexpp.CallTimeout):
        return None


def test_a_sigkilled_node_process_has_its_children_started_once_on_the_survivors(
        cluster: Any) -> None:
    c = cluster(3, "processes")
    controller = c.controller
    assert controller is not None
    members = c.ids
    with controller.start_distributed_supervisor(_specs(6), node_selector=_members_only(members),
                                                 lease=LEASE) as dsup:
        before = _census(dsup)
        assert set(before.values()) == set(members)
        victim = members[0]
        c.kill(victim)
        wait_for(lambda: _all_running(dsup, away_from=victim), timeout=LEASE_BOUND,
                 what="the victim's children running on the survivors")
        after = _census(dsup)
        assert victim not in after.values()
        assert {k: v for k, v in after.items() if before[k] != victim} == \
            {k: v for k, v in before.items() if v != victim}       # the others were not moved
        pids = {k.ref.call("whoami", timeout=TIMEOUT)[2] for k in dsup.children() if k.ref}
        assert len(pids) == 2                                        # two survivor processes
        assert dsup.stats()["total_restarts"] == sum(1 for v in before.values() if v == victim)


def test_a_silent_node_process_has_its_children_restarted_and_its_old_copies_stop(
        cluster: Any) -> None:
    c = cluster(3, "processes")
    controller = c.controller
    assert controller is not None
    members = c.ids
    baseline = {m: _process_count(controller, m) for m in members}
    victim = c.nodes[0]
    with controller.start_distributed_supervisor(_specs(6), node_selector=_members_only(members),
                                                 lease=LEASE) as dsup:
        assert _process_count(controller, victim.id) == (baseline[victim.id] or 0) + 2
        victim.suspend()                                   # SIGSTOP: silent, sockets open
        try:
            wait_for(lambda: _all_running(dsup, away_from=victim.id), timeout=2 * LEASE_BOUND,
                     what="the silent node's children running on the survivors")
        finally:
            victim.resume()
        # Its copies saw their supervisor's connection silent past the lease: stopped.
        wait_for(lambda: _process_count(controller, victim.id) == baseline[victim.id],
                 timeout=LEASE_BOUND, what="the resumed node's old copies gone")
        survivors = [m for m in members if m != victim.id]
        added = sum((_process_count(controller, m) or 0) - (baseline[m] or 0) for m in survivors)
        assert added == 6
        assert victim.id not in _census(dsup).values()


def test_the_children_stop_within_the_lease_when_the_supervisors_node_dies(cluster: Any) -> None:
    c = cluster(3)
    a, b, d = _nodes(c)
    dsup = a.start_distributed_supervisor(_specs(4), node_selector="round_robin", lease=LEASE)
    assert _worker_count(b) + _worker_count(d) >= 2
    c.kill(a)
    wait_for(lambda: _worker_count(b) + _worker_count(d) == 0, timeout=LEASE_BOUND,
             what="the orphaned children to stop")
    del dsup


def test_a_partitioned_child_stops_within_the_lease_and_runs_once_after_the_heal(
        cluster: Any) -> None:
    c = cluster(3)
    a, b, d = _nodes(c)
    with a.start_distributed_supervisor(_specs(1), node_selector={"node": b.id},
                                        lease=LEASE) as dsup:
        census = CopyCensus([a, b, d])
        c.partition([a, d], [b])
        wait_for(lambda: _worker_count(b) == 0, timeout=LEASE_BOUND,
                 what="b to stop the child whose supervisor it cannot reach")
        c.heal()
        wait_for(lambda: _all_running(dsup), timeout=LEASE_BOUND, what="w0 running again")
        wait_for(lambda: sum(_worker_count(n) for n in (a, b, d)) == 1, timeout=LEASE_BOUND,
                 what="exactly one copy of w0")
        assert census.stop() == 1 and census.samples > 10
        assert len(_census(dsup)) == 1


def test_a_partition_isolating_the_supervisor_never_runs_a_child_twice(cluster: Any) -> None:
    c = cluster(3)
    a, b, d = _nodes(c)

    def others_first(nodes: list[noexpp.NodeInfo], child_id: str) -> str:
        away = sorted(n.id for n in nodes if n.id != a.id)
        return away[int(child_id[1:]) % len(away)] if away else a.id

    with a.start_distributed_supervisor(_specs(4), node_selector=others_first,
                                        lease=LEASE) as dsup:
        assert _worker_count(a) == 0
        census = CopyCensus([a, b, d])
        c.partition([a], [b, d])
        # Cut off, b and d stop the children; a restarts them where it can: on itself.
        wait_for(lambda: _worker_count(b) + _worker_count(d) == 0, timeout=LEASE_BOUND,
                 what="b and d to stop the children of the unreachable supervisor")
        wait_for(lambda: _all_running(dsup) and _worker_count(a) == 4, timeout=LEASE_BOUND,
                 what="the children running on a")
        c.heal()
        wait_for(lambda: len(a.nodes()) == 3 and all(n.status in ("up", "self") for n in a.nodes()),
                 what="the cluster healed")
        assert sum(_worker_count(n) for n in (a, b, d)) == 4
        assert census.stop() == 4
        assert len(_census(dsup)) == 4
        assert dsup.stats()["node_failure_restarts"] == 4


def test_any_significant_child_exiting_on_another_node_shuts_the_supervisor_down(
        cluster: Any) -> None:
    a, b, _ = _nodes(cluster(3))
    keeper = noexpp.DistributedChildSpec("keeper", WORKER, args=("keeper",))
    done = noexpp.DistributedChildSpec("done", WORKER, args=("done",), restart="transient",
                                       significant=True)
    dsup = a.start_distributed_supervisor([keeper, done], node_selector={"node": b.id},
                                          auto_shutdown="any_significant", lease=LEASE)
    try:
        ref = dsup.child("done").ref
        assert ref is not None
        ref.stop()
        wait_for(lambda: not dsup.is_running, what="auto_shutdown to stop the supervisor")
        wait_for(lambda: _worker_count(b) == 0, what="keeper stopped on b")
        assert dsup.stats()["stop_reason"] is not None
    finally:
        dsup.stop()


def test_all_significant_waits_for_the_last_significant_child_on_any_node(cluster: Any) -> None:
    a, b, d = _nodes(cluster(3))
    one = noexpp.DistributedChildSpec("one", WORKER, args=("one",), restart="temporary",
                                      significant=True, node_selector={"node": b.id})
    two = noexpp.DistributedChildSpec("two", WORKER, args=("two",), restart="temporary",
                                      significant=True, node_selector={"node": d.id})
    dsup = a.start_distributed_supervisor([one, two], auto_shutdown="all_significant",
                                          lease=LEASE)
    try:
        first, second = dsup.child("one").ref, dsup.child("two").ref
        assert first is not None and second is not None
        first.stop()
        wait_for(lambda: [k.id for k in dsup.children()] == ["two"], what="one forgotten")
        assert dsup.is_running
        second.stop()
        wait_for(lambda: not dsup.is_running, what="the last significant child to end it")
    finally:
        dsup.stop()


# --- errors ----------------------------------------------------------------------------

def test_a_behavior_missing_on_the_chosen_node_is_a_typed_error_naming_it(cluster: Any) -> None:
    a, b, _ = _nodes(cluster(3))
    spec = noexpp.DistributedChildSpec("x", "dsup_test.no_such_behavior")
    with pytest.raises(noexpp.BehaviorNotFoundError, match="dsup_test.no_such_behavior"):
        a.start_distributed_supervisor([spec], node_selector={"node": b.id}, lease=LEASE)
    assert _worker_count(b) == 0


def test_a_failed_start_child_leaves_the_supervisor_and_its_children_as_they_were(
        cluster: Any) -> None:
    a, b, _ = _nodes(cluster(3))
    with a.start_distributed_supervisor(_specs(2), node_selector={"node": b.id},
                                        lease=LEASE) as dsup:
        before = dsup.children()
        missing = noexpp.DistributedChildSpec("x", "dsup_test.no_such_behavior")
        with pytest.raises(noexpp.BehaviorNotFoundError, match=b.id):
            dsup.start_child(missing)
        with pytest.raises(noexpp.DuplicateChildError, match="w0"):
            dsup.start_child(noexpp.DistributedChildSpec("w0", WORKER, args=("w0",)))
        with pytest.raises(noexpp.ChildNotFoundError):
            dsup.terminate_child("nobody")
        with pytest.raises(TypeError, match="DistributedChildSpec"):
            dsup.start_child(5)  # type: ignore[arg-type]
        assert dsup.is_running and dsup.children() == before
        assert _worker_count(b) == 2


def test_a_child_pinned_to_an_unknown_node_raises_no_available_node(cluster: Any) -> None:
    a, _, _ = _nodes(cluster(3))
    spec = noexpp.DistributedChildSpec("x", WORKER, args=("x",),
                                       node_selector={"node": "nobody@127.0.0.1:1"})
    with pytest.raises(noexpp.NoAvailableNodeError, match="child 'x'.*nobody@127.0.0.1:1"):
        a.start_distributed_supervisor([spec], lease=LEASE)


def test_a_node_without_a_cluster_cannot_start_one() -> None:
    with noexpp.Node("solo", listen=None) as node, pytest.raises(ValueError, match="no cluster"):
        node.start_distributed_supervisor([])


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"strategy": "one_for_most"}, ValueError, "strategy"),
    ({"node_selector": "nearest"}, ValueError, "node_selector"),
    ({"node_selector": {"host": "x"}}, ValueError, "node_selector"),
    ({"node_selector": 3}, TypeError, "node_selector"),
    ({"lease": 0}, ValueError, "lease"),
    ({"max_restarts": -1}, ValueError, "max_restarts"),
    ({"children": ["w"]}, TypeError, "DistributedChildSpec"),
    ({"auto_shutdown": "sometimes"}, ValueError, "auto_shutdown"),
])
def test_bad_supervisor_arguments_are_typed_errors_naming_the_argument(
        kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        noexpp.DistributedSupervisorSpec(**kwargs)


@pytest.mark.parametrize(("args", "kwargs", "error", "match"), [
    (("", WORKER), {}, ValueError, "id"),
    (("x", noexpp.GenServer), {}, TypeError, "behavior_name"),
    (("x", WORKER), {"args": 5}, TypeError, "args"),
    (("x", WORKER), {"restart": "sometimes"}, ValueError, "restart"),
    (("x", WORKER), {"shutdown": float("inf")}, ValueError, "shutdown"),
    (("x", WORKER), {"significant": True}, ValueError, "significant"),
])
def test_bad_child_arguments_are_typed_errors_naming_the_argument(
        args: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        noexpp.DistributedChildSpec(*args, **kwargs)


# --- events, stats, notebook -----------------------------------------------------------

def test_child_started_events_name_the_node_and_stats_group_children_by_node(
        cluster: Any, events: Any) -> None:
    a, b, d = _nodes(cluster(3))
    log = events(a)
    report = Collector(a)
    with a.start_distributed_supervisor(_specs(3, report.ref), node_selector="round_robin",
                                        name="jobs", lease=LEASE) as dsup:
        ups = [report.get() for _ in range(3)]
        assert sorted(u[1] for u in ups) == ["w0", "w1", "w2"]
        assert {u[3] for u in ups} == {a.id, b.id, d.id}
        started = log.wait("child_started", count=3)
        assert {e["child_id"]: e["node_id"] for e in started} == \
            {k.id: k.node_id for k in dsup.children()}
        stats = dsup.stats()
        assert stats["running"] is True
        assert stats["children_by_node"] == {a.id: 1, b.id: 1, d.id: 1}
        assert all(ch["node_id"] for ch in stats["children"])
        assert "jobs" in repr(dsup)
        table = dsup._repr_html_()
        assert "<table>" in table and b.id in table
    assert "stopped" in repr(dsup)

