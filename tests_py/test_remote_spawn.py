"""Remote spawn by behavior name (DESIGN §6), over real TCP on 127.0.0.1:
``node.spawn_remote(node_id, behavior, *args, name=None, timeout=10.0)``
starts the process on that node from the behavior registered there and
returns its Ref; args travel as Terms. Python behaviors and the C++
"noexpp.probe", between in-process nodes and between node OS processes
(LocalCluster mode="processes").

Errors, each typed: BehaviorNotFoundError (naming the behavior and the
node), InitError (the remote init's exception type and text), NodeDown (the
node is not connected, or goes down during the spawn: promptly, not at the
timeout), CallTimeout (a frozen node, an init longer than the timeout),
DuplicateNameError (a taken name). A spawn whose reply comes after its
timeout leaves no orphan: the late child is stopped."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import dist_test_behaviors as dtb
import noexpp
import pytest
from cluster_support import wait_members_up
from helpers import TIMEOUT, Collector, InThread, close_cluster, wait_for

pytest_plugins = ["cluster_fixtures"]

#: A closed connection (SIGKILL, abort) fails a spawn within this.
CLOSED_BOUND = 1.0
#: Slack over a spawn's own timeout before CallTimeout must have been raised.
TIMEOUT_SLACK = 1.0
MODULES = ["dist_test_behaviors", "cluster_test_behaviors"]


@pytest.fixture(scope="module")
def shared_cluster() -> Iterator[noexpp.LocalCluster]:
    """Two node processes for the tests that leave them running (closed at
    the end of the module, also on failure)."""
    cluster = noexpp.LocalCluster(2, mode="processes", modules=MODULES)
    try:
        yield cluster
    finally:
        close_cluster(cluster)


def _process_count(controller: noexpp.Node, node_id: str) -> int:
    return int(controller._request(node_id, ("process_count",), timeout=TIMEOUT))


# --- in-process nodes ------------------------------------------------------------------

def test_remote_spawn_runs_the_behavior_on_the_target_node(pair: Any, remote_probe: str) -> None:
    a, b = pair
    collector = Collector(a)
    ref = a.spawn_remote(b.id, remote_probe, 5, collector.ref)
    assert collector.get() == ("up", ref)          # init ran, with both args
    assert isinstance(ref, noexpp.Ref)
    assert ref.node_id == b.id
    assert [p.ref for p in b.processes()] == [ref]
    assert a.process_count() == 1                  # only the collector here
    assert ref.call("ping", timeout=TIMEOUT) == "pong"
    assert ref.call(("add", 2), timeout=TIMEOUT) == 7
    # and the other way round, from b to a
    back = b.spawn_remote(a.id, remote_probe, 1)
    assert back.node_id == a.id
    assert back.call("get", timeout=TIMEOUT) == 1
    ref.stop()
    assert collector.get() == ("terminated", ref, "normal")


def test_args_travel_as_terms(pair: Any) -> None:
    a, b = pair
    collector = Collector(a)
    args = (7, collector.ref, None, True, 2.5, "ünï", b"\x00\xff", [1, [2]], (3, ("x",)),
            {"k": [1, 2], 5: None}, -(2**63))
    ref = a.spawn_remote(b.id, dtb.ARGS, *args)
    assert collector.get() == ("up", ref)
    got = ref.call("args", timeout=TIMEOUT)
    assert got == args
    assert [type(x) for x in got] == [type(x) for x in args]
    assert ref.call("node", timeout=TIMEOUT) == b.id
    # a Ref among the args arrives as a usable Ref
    assert isinstance(got[1], noexpp.Ref) and got[1].node_id == a.id
    # no args at all
    assert a.spawn_remote(b.id, dtb.ARGS).call("args", timeout=TIMEOUT) == ()
    # an argument that is not a Term is refused here, before anything starts there
    count = b.process_count()
    with pytest.raises(TypeError):
        a.spawn_remote(b.id, dtb.ARGS, object())
    assert b.process_count() == count


def test_name_registers_the_process_on_the_target_node(pair: Any, remote_probe: str, unique: Any) -> None:
    a, b = pair
    name = unique("spawned")
    ref = a.spawn_remote(b.id, remote_probe, 3, name=name)
    assert b.whereis(name) == ref
    assert a._request(b.id, ("whereis", name), timeout=TIMEOUT) == ref
    assert a.whereis(name) is None                 # a local name there, not here
    ref.stop()
    wait_for(lambda: b.whereis(name) is None, what="the name to go with its process")


def test_spawn_remote_to_the_own_id_spawns_locally(pair: Any, remote_probe: str) -> None:
    a, _ = pair
    ref = a.spawn_remote(a.id, remote_probe, 2)
    assert ref.node_id == a.id
    assert [p.ref for p in a.processes()] == [ref]
    assert ref.call("get", timeout=TIMEOUT) == 2


def test_unknown_behavior_raises_behavior_not_found_naming_behavior_and_node(
        pair: Any, unique: Any) -> None:
    a, b = pair
    missing = unique("no.such.behavior")
    with pytest.raises(noexpp.BehaviorNotFoundError) as info:
        a.spawn_remote(b.id, missing)
    message = str(info.value)
    assert missing in message and b.id in message, message
    assert b.process_count() == 0


def test_failing_init_raises_init_error_with_the_remote_exception_type_and_text(pair: Any) -> None:
    a, b = pair
    with pytest.raises(noexpp.InitError) as info:
        a.spawn_remote(b.id, dtb.FAILING, "bad-arg-42")
    message = str(info.value)
    assert "ValueError" in message, message
    assert f"{dtb.FAILING_MESSAGE} 'bad-arg-42'" in message, message
    assert b.process_count() == 0                  # nothing left behind
    # the node goes on serving spawns
    assert a.spawn_remote(b.id, dtb.ARGS, 1).call(("add", 1), timeout=TIMEOUT) == 2


def test_taken_name_raises_duplicate_name_and_starts_nothing(
        pair: Any, remote_probe: str, unique: Any) -> None:
    a, b = pair
    name = unique("taken")
    first = a.spawn_remote(b.id, remote_probe, name=name)
    with pytest.raises(noexpp.DuplicateNameError) as info:
        a.spawn_remote(b.id, remote_probe, name=name)
    assert name in str(info.value)
    assert [p.ref for p in b.processes()] == [first]
    assert b.whereis(name) == first
    # a name taken by a local spawn there counts too
    local_name = unique("local")
    b.spawn(dtb.ARGS, name=local_name)
    with pytest.raises(noexpp.DuplicateNameError):
        a.spawn_remote(b.id, dtb.ARGS, name=local_name)


def test_spawn_to_a_node_not_connected_raises_node_down_at_once(pair: Any, make_cluster_node: Any) -> None:
    a, _ = pair
    start = time.monotonic()
    with pytest.raises(noexpp.NodeDown) as info:
        a.spawn_remote("ghost@127.0.0.1:1", dtb.ARGS, timeout=30.0)
    assert "ghost@127.0.0.1:1" in str(info.value)
    assert time.monotonic() - start < CLOSED_BOUND
    # a node that was a member and left
    c = make_cluster_node("gamma", seeds=[a.id])
    wait_members_up([a, c])
    c_id = c.id
    c.stop()
    wait_for(lambda: all(i.id != c_id or i.status != "up" for i in a.nodes()), what="gamma to be down")
    start = time.monotonic()
    with pytest.raises(noexpp.NodeDown):
        a.spawn_remote(c_id, dtb.ARGS, timeout=30.0)
    assert time.monotonic() - start < CLOSED_BOUND


def test_spawn_to_a_stopped_local_node_raises_node_stopped(pair: Any) -> None:
    a, b = pair
    a.stop()
    with pytest.raises(noexpp.NodeStopped):
        a.spawn_remote(b.id, dtb.ARGS)


def test_init_longer_than_the_timeout_raises_call_timeout_and_the_child_is_killed(
        pair: Any, unique: Any) -> None:
    # As OTP's proc_lib:start: a child whose init outlives the timeout is
    # killed, in the middle of its init, and its name is free again.
    a, b = pair
    collector = Collector(a)
    token, name = unique("gate"), unique("late")
    before = b.process_count()
    start = time.monotonic()
    try:
        with pytest.raises(noexpp.CallTimeout):
            a.spawn_remote(b.id, dtb.GATED, token, collector.ref, name=name, timeout=0.5)
        elapsed = time.monotonic() - start
        assert 0.5 <= elapsed < 0.5 + TIMEOUT_SLACK, elapsed
        started = collector.get()
        assert started[0] == "init_started"
        child = started[1]
        # dead when the error comes, while its init is still gated
        assert b.process_count() == before and b.whereis(name) is None
        assert a._request(b.id, ("alive", child), timeout=TIMEOUT) is False
        again = a.spawn_remote(b.id, dtb.ARGS, 1, name=name)
        assert b.whereis(name) == again
    finally:
        dtb.release_gate(token)
    again.stop()


def test_spawn_while_the_target_node_aborts_raises_node_down_promptly(pair: Any, unique: Any) -> None:
    a, b = pair
    collector = Collector(a)
    token = unique("gate")
    spawn = InThread(a.spawn_remote, b.id, dtb.GATED, token, collector.ref, timeout=30.0)
    aborting: threading.Thread | None = None
    try:
        assert collector.get()[0] == "init_started"
        start = time.monotonic()
        # abort stops b's processes after closing its connections; the gated
        # init holds one of them, so abort runs in a thread
        aborting = threading.Thread(target=b._abort, daemon=True)
        aborting.start()
        spawn.wait()
        assert isinstance(spawn.error, noexpp.NodeDown), spawn.error
        assert spawn.ended_at - start < CLOSED_BOUND, spawn.ended_at - start
    finally:
        dtb.release_gate(token)
        if aborting is not None:
            aborting.join(TIMEOUT)
    assert aborting is not None and not aborting.is_alive()


# --- node OS processes ------------------------------------------------------------------

def test_remote_spawn_of_python_and_cpp_behaviors_across_os_processes(
        shared_cluster: noexpp.LocalCluster, remote_probe: str) -> None:
    n1, n2 = shared_cluster.nodes
    ctl = shared_cluster.controller
    collector = Collector(ctl)
    # controller (this interpreter) -> node process
    ref = n1.spawn(remote_probe, 5, collector.ref)
    assert collector.get() == ("up", ref)
    assert ref.node_id == n1.id
    assert ref.call(("add", 1), timeout=TIMEOUT) == 6
    # node process -> node process: a spawner inside n1 starts it on n2
    spawner = n1.spawn(dtb.SPAWNER)
    status, child = spawner.call(("spawn_remote", n2.id, remote_probe, (9, collector.ref), None, 10.0),
                                 timeout=TIMEOUT)
    assert status == "ok", child
    assert collector.get() == ("up", child)
    assert child.node_id == n2.id
    assert child.call("get", timeout=TIMEOUT) == 9
    # a Python behavior from the --import module runs in the other OS process
    args_ref = spawner.call(("spawn_remote", n2.id, dtb.ARGS, (1, None, "x"), None, 10.0),
                            timeout=TIMEOUT)[1]
    assert args_ref.call("pid", timeout=TIMEOUT) == n2.os_pid
    assert args_ref.call("args", timeout=TIMEOUT) == (1, None, "x")
    for r in (ref, child, args_ref):
        r.stop()


def test_remote_spawn_errors_across_os_processes(shared_cluster: noexpp.LocalCluster, unique: Any) -> None:
    n1, n2 = shared_cluster.nodes
    ctl = shared_cluster.controller
    spawner = n1.spawn(dtb.SPAWNER)
    missing = unique("no.such.behavior")
    # from the controller
    with pytest.raises(noexpp.BehaviorNotFoundError) as info:
        n2.spawn(missing)
    assert missing in str(info.value) and n2.id in str(info.value)
    with pytest.raises(noexpp.InitError) as info:
        n2.spawn(dtb.FAILING, 17)
    assert "ValueError" in str(info.value) and f"{dtb.FAILING_MESSAGE} 17" in str(info.value)
    name = unique("taken")
    first = n2.spawn(dtb.ARGS, name=name)
    with pytest.raises(noexpp.DuplicateNameError):
        n2.spawn(dtb.ARGS, name=name)
    assert n2.whereis(name) == first
    # and from another node process: same types, same messages
    err = spawner.call(("spawn_remote", n2.id, missing, (), None, 10.0), timeout=TIMEOUT)
    assert err[:2] == ("error", "BehaviorNotFoundError") and missing in err[2] and n2.id in err[2], err
    err = spawner.call(("spawn_remote", n2.id, dtb.FAILING, ("x",), None, 10.0), timeout=TIMEOUT)
    assert err[:2] == ("error", "InitError") and "ValueError" in err[2], err
    err = spawner.call(("spawn_remote", n2.id, dtb.ARGS, (), name, 10.0), timeout=TIMEOUT)
    assert err[:2] == ("error", "DuplicateNameError"), err
    err = spawner.call(("spawn_remote", "ghost@127.0.0.1:1", dtb.ARGS, (), None, 10.0), timeout=TIMEOUT)
    assert err[:2] == ("error", "NodeDown"), err
    first.stop()
    spawner.stop()
    assert ctl.running


def test_timed_out_spawn_leaves_no_orphan_in_a_node_process(
        shared_cluster: noexpp.LocalCluster, unique: Any) -> None:
    _, n2 = shared_cluster.nodes
    ctl = shared_cluster.controller
    collector = Collector(ctl)
    name = unique("slow")
    before = _process_count(ctl, n2.id)
    start = time.monotonic()
    with pytest.raises(noexpp.CallTimeout):
        n2.spawn(dtb.SLOW, 2.0, collector.ref, name=name, timeout=0.5)
    elapsed = time.monotonic() - start
    assert 0.5 <= elapsed < 0.5 + TIMEOUT_SLACK, elapsed
    assert collector.get()[0] == "init_started"
    # killed in the middle of its init's sleep, before the error came
    assert _process_count(ctl, n2.id) == before and n2.whereis(name) is None


def test_spawn_to_a_frozen_node_process_raises_call_timeout_and_leaves_no_orphan(
        process_cluster: Any, unique: Any) -> None:
    # No side may call the other down over the freeze (the test is about the
    # spawn's timeout, not failure detection).
    cluster = process_cluster(2, modules=MODULES, acceptable_pause=10.0)
    _, n2 = cluster.nodes
    ctl = cluster.controller
    collector = Collector(ctl)
    name = unique("frozen")
    before = _process_count(ctl, n2.id)
    n2.suspend()
    try:
        start = time.monotonic()
        with pytest.raises(noexpp.CallTimeout):
            n2.spawn(dtb.ARGS, 1, collector.ref, name=name, timeout=0.3)
        elapsed = time.monotonic() - start
        # its timeout, then as long again waiting for the kill (the grace is at
        # most the timeout)
        assert 0.3 <= elapsed < 0.6 + TIMEOUT_SLACK, elapsed
    finally:
        n2.resume()
    # Continued: the queued spawn and the cancel behind it are handled. Either
    # the spawn ran first (its child came up, and the cancel kills it) or, on
    # a busy node, the cancel overtook it (the spawn never starts): in both
    # cases no child is left.
    wait_for(lambda: _process_count(ctl, n2.id) == before and n2.whereis(name) is None,
             what="no child of the cancelled spawn left on the continued node")
    assert n2.spawn(dtb.ARGS, 3).call(("add", 1), timeout=TIMEOUT) == 4
    # a node request behind the spawn and its cancel: still no child left
    assert _process_count(ctl, n2.id) == before + 1 and n2.whereis(name) is None
    for message in collector.inbox.drain():
        assert message[0] == "up", message
        assert ctl._request(n2.id, ("alive", message[1]), timeout=TIMEOUT) is False


def test_spawn_racing_a_sigkill_of_the_target_raises_node_down_promptly(process_cluster: Any) -> None:
    cluster = process_cluster(2, modules=MODULES)
    n1, n2 = cluster.nodes
    ctl = cluster.controller
    collector = Collector(ctl)
    spawn = InThread(ctl.spawn_remote, n2.id, dtb.SLOW, 30.0, collector.ref, timeout=30.0)
    started = collector.get()
    assert started[:3] == ("init_started", n2.id, n2.os_pid)
    start = time.monotonic()
    n2.kill()
    spawn.wait()
    took = spawn.ended_at - start
    print(f"\nspawn racing SIGKILL: NodeDown {took * 1000:.1f} ms after the kill (timeout 30 s)")
    assert isinstance(spawn.error, noexpp.NodeDown), spawn.error
    assert took < CLOSED_BOUND, took
    # the node is gone: a new spawn fails at once with NodeDown
    with pytest.raises(noexpp.NodeDown):
        n2.spawn(dtb.ARGS, timeout=30.0)
    # and a spawn from the surviving node process to it too
    spawner = n1.spawn(dtb.SPAWNER)
    wait_for(lambda: n1.members() == [n1.id], what="n1 to see n2 down")
    err = spawner.call(("spawn_remote", n2.id, dtb.ARGS, (), None, 30.0), timeout=TIMEOUT)
    assert err[:2] == ("error", "NodeDown"), err
