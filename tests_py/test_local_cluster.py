"""noexpp.LocalCluster: real nodes on 127.0.0.1 over real TCP, in threads
and in OS processes; kills, partitions and heals seen through node_up /
node_down events. Every cluster is closed by its fixture or ``with``."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import cluster_behaviors
import noexpp
import pytest
from helpers import TIMEOUT, MembershipEvents, wait_for
from noexpp import _cluster_startup

pytest_plugins = ["cluster_fixtures"]

#: Detection of a silent peer (phi-accrual) takes ~1.5 s with the defaults;
#: waits for node_down/node_up after a fault get this bound.
FAULT_TIMEOUT = 15.0


@pytest.fixture
def threads_cluster() -> Iterator[noexpp.LocalCluster]:
    with noexpp.LocalCluster(3, mode="threads", modules=["cluster_behaviors"]) as cluster:
        yield cluster


@pytest.fixture
def processes_cluster(process_cluster: Callable[..., noexpp.LocalCluster]) -> noexpp.LocalCluster:
    """Three node processes, stopped (and checked gone) at teardown."""
    return process_cluster(3, modules=["cluster_behaviors"])


def _down(log: MembershipEvents, node_id: str, n: int = 0) -> dict[str, Any]:
    """The n-th (from 0) node_down about ``node_id``, waited for with the fault bound."""
    return log.wait("node_down", count=n + 1, node=node_id, timeout=FAULT_TIMEOUT)[n]


def _up_ids(node: noexpp.Node) -> set[str]:
    return {info.id for info in node.nodes() if info.status == "up"}


def _node(x: noexpp.Node | noexpp.NodeHandle) -> noexpp.Node:
    assert isinstance(x, noexpp.Node)
    return x


def _handle(x: noexpp.Node | noexpp.NodeHandle) -> noexpp.NodeHandle:
    assert isinstance(x, noexpp.NodeHandle)
    return x


# --- threads mode -----------------------------------------------------------------

def test_threads_mode_every_node_sees_the_others_up(threads_cluster: noexpp.LocalCluster) -> None:
    nodes = [_node(x) for x in threads_cluster.nodes]
    assert len(nodes) == 3 == len(threads_cluster)
    assert threads_cluster.mode == "threads"
    assert threads_cluster.controller is None
    assert [n.id.split("@")[0] for n in nodes] == ["node1", "node2", "node3"]
    assert threads_cluster.ids == [n.id for n in nodes]
    for n in nodes:
        assert _up_ids(n) == {m.id for m in nodes if m is not n}, n.nodes()
    # A remote spawn by behavior name works between the nodes.
    ref = nodes[0].spawn_remote(nodes[2].id, "lc_counter", 5)
    assert ref.node_id == nodes[2].id
    assert ref.call(("add", 2), timeout=TIMEOUT) == 7


def test_threads_mode_outside_node_joins_with_the_cookie(
        threads_cluster: noexpp.LocalCluster, make_node: Callable[..., noexpp.Node]) -> None:
    a = _node(threads_cluster.nodes[0])
    assert isinstance(threads_cluster.cookie, str) and len(threads_cluster.cookie) >= 32
    outsider = make_node("outsider", cookie=threads_cluster.cookie, seeds=[a.id])
    wait_for(lambda: _up_ids(outsider) >= set(threads_cluster.ids), what="outsider joined")


def test_threads_mode_kill_reports_noconnection(
        threads_cluster: noexpp.LocalCluster,
        membership: Callable[[noexpp.Node], MembershipEvents]) -> None:
    a, b, c = (_node(x) for x in threads_cluster.nodes)
    log_a, log_c = membership(a), membership(c)
    threads_cluster.kill(b)
    for log in (log_a, log_c):
        event = _down(log, b.id)
        assert event["reason"] == "noconnection", event
    assert not b.running
    assert "stopped" in repr(threads_cluster)


def test_threads_mode_partition_then_heal(
        threads_cluster: noexpp.LocalCluster,
        membership: Callable[[noexpp.Node], MembershipEvents]) -> None:
    a, b, c = (_node(x) for x in threads_cluster.nodes)
    logs = {n.id: membership(n) for n in (a, b, c)}
    ups = {(x.id, y.id): logs[x.id].count("node_up", node=y.id)
           for x in (a, b, c) for y in (a, b, c)}
    threads_cluster.partition([a], [b, c])
    for x, y in ((a, b), (a, c), (b, a), (c, a)):
        event = _down(logs[x.id], y.id)
        assert event["reason"] == "noconnection", event
    assert logs[b.id].count("node_down", node=c.id) == 0  # same side: untouched
    threads_cluster.heal()
    for x, y in ((a, b), (a, c), (b, a), (c, a)):
        logs[x.id].wait("node_up", count=ups[(x.id, y.id)] + 1, node=y.id,
                        timeout=FAULT_TIMEOUT)
    wait_for(lambda: all(len(_up_ids(n)) == 2 for n in (a, b, c)), what="all up after heal")


def test_delay_slows_calls_between_the_groups_until_heal(threads_cluster: noexpp.LocalCluster) -> None:
    a, b, _ = (_node(x) for x in threads_cluster.nodes)
    target = a.spawn_remote(b.id, "lc_echo")
    threads_cluster.delay([a], [b], seconds=0.15)
    target.call("sync")  # frames sent from here on are held in each direction
    started = time.monotonic()
    assert target.call("hello") == "hello"
    assert time.monotonic() - started >= 0.3  # 0.15 s out, 0.15 s back
    threads_cluster.heal()
    target.call("drain")  # what was queued before the heal arrives first
    started = time.monotonic()
    target.call("fast")
    assert time.monotonic() - started < 0.3
    with pytest.raises(ValueError):
        threads_cluster.delay([a], [b], seconds=-1)


def test_kill_and_partition_accept_node_ids(threads_cluster: noexpp.LocalCluster,
                                             membership: Callable[[noexpp.Node],
                                                                  MembershipEvents]) -> None:
    a, b, c = (_node(x) for x in threads_cluster.nodes)
    log_b = membership(b)
    threads_cluster.partition(a.id, [b.id])  # a bare member is a one-member group
    assert _down(log_b, a.id)["reason"] == "noconnection"
    threads_cluster.kill(c.id)
    assert _down(log_b, c.id)["reason"] == "noconnection"


def test_partition_argument_errors(threads_cluster: noexpp.LocalCluster) -> None:
    a, b, c = threads_cluster.nodes
    with pytest.raises(ValueError, match="at least two groups"):
        threads_cluster.partition([a, b, c])
    with pytest.raises(ValueError, match="partition groups 1 and 2"):
        threads_cluster.partition([a, b], [b, c])
    with pytest.raises(ValueError, match="not a member"):
        threads_cluster.partition([a], ["ghost@127.0.0.1:1"])
    with pytest.raises(TypeError, match="partition group 2"):
        threads_cluster.partition([a], 42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="is empty"):
        threads_cluster.partition([a], [])
    with pytest.raises(TypeError, match="node must be"):
        threads_cluster.kill(3.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a member"):
        threads_cluster.kill("ghost@127.0.0.1:1")


def test_threads_mode_close_stops_every_node_and_is_idempotent() -> None:
    cluster = noexpp.LocalCluster(2, mode="threads", name="solo")
    nodes = [_node(x) for x in cluster.nodes]
    assert [n.id.split("@")[0] for n in nodes] == ["solo1", "solo2"]
    cluster.close()
    cluster.close()
    assert cluster.closed and not any(n.running for n in nodes)
    assert "closed" in repr(cluster)
    with pytest.raises(RuntimeError, match="closed"):
        cluster.heal()


def test_threads_mode_single_node() -> None:
    with noexpp.LocalCluster(1, cookie="given-cookie") as cluster:
        assert cluster.cookie == "given-cookie"
        (only,) = cluster.nodes
        assert _node(only).nodes()[0].status == "self"


def test_threads_mode_missing_module_raises_import_error() -> None:
    with pytest.raises(ImportError, match="no_such_module_for_lc"):
        noexpp.LocalCluster(2, modules=["no_such_module_for_lc"])


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"n": 0}, ValueError, "n must be at least 1"),
    ({"n": "3"}, TypeError, "n must be an int"),
    ({"n": True}, TypeError, "n must be an int"),
    ({"mode": "fibers"}, ValueError, "mode must be 'threads' or 'processes'"),
    ({"mode": None}, TypeError, "mode must be a str"),
    ({"modules": "cluster_behaviors"}, TypeError, "modules must be a list or tuple"),
    ({"modules": [1]}, TypeError, "each of modules must be a str"),
    ({"cookie": 7}, TypeError, "cookie must be a str"),
    ({"cookie": ""}, ValueError, "cookie must not be empty"),
    ({"cookie": "secret\n"}, ValueError, "cookie must not end with whitespace"),
    ({"name": "a@b"}, ValueError, "name must be 1 to 255 characters"),
    ({"name": 3}, TypeError, "name must be a str"),
    ({"threads": 0}, ValueError, "threads must be between"),
    ({"heartbeat_interval": "fast"}, TypeError, "heartbeat_interval must be a number"),
    ({"phi_threshold": 0}, ValueError, "phi_threshold must be positive"),
    ({"startup_timeout": 0}, ValueError, "startup_timeout must be positive"),
    ({"startup_timeout": None}, TypeError, "startup_timeout must be a number"),
])
def test_constructor_argument_errors(kwargs: dict[str, Any], error: type[Exception],
                                     match: str) -> None:
    options: dict[str, Any] = {"n": 2, "mode": "processes"}
    options.update(kwargs)
    with pytest.raises(error, match=match):
        noexpp.LocalCluster(**options)


# --- processes mode ---------------------------------------------------------------

def test_processes_mode_members_spawn_and_call(processes_cluster: noexpp.LocalCluster) -> None:
    handles = [_handle(x) for x in processes_cluster.nodes]
    ids = [h.id for h in handles]
    assert processes_cluster.mode == "processes"
    assert len({h.os_pid for h in handles}) == 3 and os.getpid() not in {h.os_pid for h in handles}
    for h in handles:
        assert h.alive and h.status == "running"
        members = h.members()
        assert members[0] == h.id and sorted(members) == sorted(ids), members
        assert h.id in repr(h)
    controller = processes_cluster.controller
    assert controller is not None and controller.id not in handles[0].members()

    echo = handles[1].spawn("lc_echo", name="echo")
    assert echo.node_id == ids[1]
    assert echo.call(("hello", [1, 2.5, "x"]), timeout=TIMEOUT) == ("hello", [1, 2.5, "x"])
    assert echo.call("os_pid", timeout=TIMEOUT) == handles[1].os_pid
    assert handles[1].whereis("echo") == echo
    assert handles[0].whereis("echo") is None

    counter = handles[2].spawn("lc_counter", 10)
    counter.cast("inc")
    assert counter.call(("add", 5), timeout=TIMEOUT) == 16
    with pytest.raises(noexpp.BehaviorNotFoundError):
        handles[0].spawn("lc_no_such_behavior")

    html = processes_cluster._repr_html_()
    assert all(i in html for i in ids) and "running" in html


def test_processes_mode_kill_reports_noconnection(
        processes_cluster: noexpp.LocalCluster,
        membership: Callable[[noexpp.Node], MembershipEvents]) -> None:
    a, b, c = (_handle(x) for x in processes_cluster.nodes)
    controller = processes_cluster.controller
    assert controller is not None
    log = membership(controller)
    processes_cluster.kill(b)
    assert not b.alive and b.process.poll() is not None
    assert b.status.startswith("exited")
    assert _down(log, b.id)["reason"] == "noconnection"
    # The surviving members see it gone as well.
    wait_for(lambda: sorted(a.members()) == sorted([a.id, c.id]), timeout=FAULT_TIMEOUT,
              what=f"{a.id} to drop {b.id}")
    wait_for(lambda: sorted(c.members()) == sorted([a.id, c.id]), timeout=FAULT_TIMEOUT,
              what=f"{c.id} to drop {b.id}")
    b.kill()  # idempotent on an exited node
    with pytest.raises(RuntimeError, match="exited"):
        b.suspend()


def test_processes_mode_partition_then_heal(processes_cluster: noexpp.LocalCluster) -> None:
    a, b, c = (_handle(x) for x in processes_cluster.nodes)
    processes_cluster.partition([a], [b, c])
    # The controller is in no group: it still reaches both sides.
    wait_for(lambda: a.members() == [a.id], timeout=FAULT_TIMEOUT, what="a alone")
    wait_for(lambda: sorted(b.members()) == sorted([b.id, c.id]), timeout=FAULT_TIMEOUT,
              what="b without a")
    wait_for(lambda: sorted(c.members()) == sorted([b.id, c.id]), timeout=FAULT_TIMEOUT,
              what="c without a")
    processes_cluster.heal()
    everyone = sorted([a.id, b.id, c.id])
    wait_for(lambda: all(sorted(h.members()) == everyone for h in (a, b, c)),
              timeout=FAULT_TIMEOUT, what="everyone to see everyone after heal")


def test_processes_mode_suspend_resume_and_graceful_stop(
        membership: Callable[[noexpp.Node], MembershipEvents]) -> None:
    with noexpp.LocalCluster(2, mode="processes") as cluster:
        a, b = (_handle(x) for x in cluster.nodes)
        controller = cluster.controller
        assert controller is not None
        log = membership(controller)
        ups = log.count("node_up", node=b.id)
        b.suspend()
        assert b.suspended and b.status == "suspended"
        assert _down(log, b.id)["reason"] == "noconnection"
        b.resume()
        log.wait("node_up", count=ups + 1, node=b.id, timeout=FAULT_TIMEOUT)
        wait_for(lambda: sorted(b.members()) == sorted([a.id, b.id]), timeout=FAULT_TIMEOUT,
                  what="b back in the cluster")
        b.stop()
        assert b.process.returncode == 0
        assert _down(log, b.id, 1)["reason"] == "shutdown"


def test_processes_mode_close_leaves_no_process() -> None:
    cluster = noexpp.LocalCluster(2, mode="processes", name="closing")
    handles = [_handle(x) for x in cluster.nodes]
    controller = cluster.controller
    tmpdir = cluster._state.tmpdir
    assert tmpdir is not None and os.path.isdir(tmpdir)
    cookie_file = os.path.join(tmpdir, "cookie")
    assert os.stat(cookie_file).st_mode & 0o777 == 0o600
    assert handles[1].id in handles[0].log()  # the engine log of node 1 names node 2
    handles[0].suspend()  # close() must also stop a frozen node
    cluster.close()
    cluster.close()
    for h in handles:
        assert h.process.poll() is not None and not h.alive
    assert handles[1].process.returncode == 0  # SIGTERM: a graceful stop
    assert controller is not None and not controller.running
    assert not os.path.exists(tmpdir)


def test_processes_mode_node_failing_at_import_raises_with_stderr() -> None:
    with pytest.raises(RuntimeError, match="no_such_module_for_lc") as info:
        noexpp.LocalCluster(2, mode="processes", modules=["no_such_module_for_lc"])
    assert "exited with code 2" in str(info.value)


def test_processes_mode_startup_timeout_names_the_node_and_cleans_up(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cluster_behaviors.BLOCK_IMPORT_ENV, "1")  # the children hang at import
    started: list[noexpp.NodeHandle] = []
    real_start = _cluster_startup.start_node_process

    def spy(*args: Any, **kwargs: Any) -> noexpp.NodeHandle:
        handle = real_start(*args, **kwargs)
        started.append(handle)
        return handle

    monkeypatch.setattr(_cluster_startup, "start_node_process", spy)
    with pytest.raises(TimeoutError, match=r"hang1 .*did not report running within 1 s"):
        noexpp.LocalCluster(2, mode="processes", name="hang", modules=["cluster_behaviors"],
                            startup_timeout=1.0)
    assert len(started) == 1 and started[0].process.poll() is not None


def test_unclosed_cluster_is_closed_when_collected() -> None:
    cluster = noexpp.LocalCluster(1, mode="processes", name="forgotten")
    process = _handle(cluster.nodes[0]).process
    del cluster  # the finalizer stops the node process
    assert process.poll() is not None
