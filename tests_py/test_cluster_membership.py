"""Cluster membership over real TCP on 127.0.0.1 (DESIGN §6): a mesh formed
by gossip from one seed, cookie authentication, graceful leave, and a node
restarted under the same name and port (a new incarnation)."""
from __future__ import annotations

import threading
from typing import Any

import noexpp
import pytest
from cluster_support import WatchedEvents, wait_members_up
from cluster_test_behaviors import ECHO, PROBE
from helpers import TIMEOUT, Collector, MonitorRecorder, pause, wait_for

pytest_plugins = ["cluster_fixtures"]


def _members(node: noexpp.Node) -> dict[str, noexpp.NodeInfo]:
    return {i.id: i for i in node.nodes()[1:]}


def member_is_up(node: noexpp.Node, peer_id: str) -> bool:
    return any(i.id == peer_id and i.status == "up" for i in node.nodes()[1:])


def test_three_nodes_form_a_full_mesh_from_one_seed(make_cluster_node: Any, membership: Any) -> None:
    a = make_cluster_node("alpha")
    rec_a = membership(a)
    b = make_cluster_node("beta", seeds=[a.id])
    rec_b = membership(b)
    c = make_cluster_node("gamma", seeds=[a.id])
    rec_c = membership(c)
    nodes = [a, b, c]

    # b and c only know a: they find each other through gossip.
    wait_members_up(nodes)
    for n in nodes:
        infos = n.nodes()
        assert infos[0].id == n.id and infos[0].status == "self"
        others = infos[1:]
        assert sorted(i.id for i in others) == sorted(m.id for m in nodes if m is not n)
        assert all(i.status == "up" for i in others), infos

    # Heartbeats fill in the process count (exactly what the peer runs) and a round trip.
    b.spawn(noexpp.GenServer)
    b.spawn(noexpp.GenServer)
    c.spawn(noexpp.GenServer)
    expected = {b.id: 2, c.id: 1, a.id: 0}

    def heartbeat_figures_known() -> bool:
        for n in nodes:
            for peer_id, info in _members(n).items():
                if info.process_count != expected[peer_id] or info.rtt is None:
                    return False
                if info.last_heartbeat is None:
                    return False
        return True

    wait_for(heartbeat_figures_known, what="process counts and rtt from heartbeats")
    for n in nodes:
        for info in _members(n).values():
            assert info.rtt is not None and 0 < info.rtt < 1.0, info
            assert info.last_heartbeat is not None and 0 <= info.last_heartbeat < 2.0, info

    # Exactly one node_up per peer on each node, and no node_down.
    for rec, n in ((rec_b, b), (rec_c, c)):
        for peer in nodes:
            if peer is not n:
                rec.wait("node_up", node=peer.id)
    pause(0.5)
    for rec, n in ((rec_a, a), (rec_b, b), (rec_c, c)):
        ups = rec.select("node_up")
        assert sorted(e["node"] for e in ups) == sorted(p.id for p in nodes if p is not n), ups
        assert rec.select("node_down") == []
        for e in ups:
            assert isinstance(e["creation"], int)


def test_wrong_cookie_connect_raises_authentication_error_and_adds_no_member(
        make_cluster_node: Any, membership: Any) -> None:
    a = make_cluster_node("alpha", cookie="cookie-one")
    b = make_cluster_node("beta", cookie="cookie-two")
    rec_a, rec_b = membership(a), membership(b)

    with pytest.raises(noexpp.AuthenticationError):
        a.connect(b.id, timeout=TIMEOUT)
    with pytest.raises(noexpp.AuthenticationError):
        b.connect(a.id, timeout=TIMEOUT)

    # b still accepts a peer with its own cookie: so the handshakes above
    # were complete (not still pending) when the members are compared.
    c = make_cluster_node("gamma", cookie="cookie-two")
    c.connect(b.id, timeout=TIMEOUT)
    wait_members_up([b, c])
    assert [i.id for i in a.nodes()] == [a.id]
    assert [i.id for i in b.nodes()] == [b.id, c.id]
    assert rec_a.select() == []
    rec_b.wait("node_up")  # delivered after the mesh is seen, on another thread
    assert [e["node"] for e in rec_b.select("node_up")] == [c.id]
    # and a does not keep retrying a peer it cannot authenticate with
    pause(0.5)
    assert rec_a.select() == []
    assert [i.id for i in b.nodes()] == [b.id, c.id]


def test_wrong_cookie_seed_never_joins(make_cluster_node: Any, membership: Any) -> None:
    a = make_cluster_node("alpha", cookie="cookie-one")
    rec_a = membership(a)
    b = make_cluster_node("beta", cookie="cookie-two", seeds=[a.id])
    rec_b = membership(b)
    c = make_cluster_node("gamma", cookie="cookie-one", seeds=[a.id])
    wait_members_up([a, c])
    rec_a.wait("node_up", node=c.id)
    pause(0.5)
    assert rec_b.select() == []
    assert [e["node"] for e in rec_a.select("node_up")] == [c.id]
    assert b.id not in {i.id for i in a.nodes()}
    assert [i.status for i in b.nodes()[1:] if i.status == "up"] == []


def test_graceful_stop_reports_node_down_shutdown_exactly_once(make_cluster_node: Any, membership: Any) -> None:
    a = make_cluster_node("alpha")
    b = make_cluster_node("beta", seeds=[a.id])
    c = make_cluster_node("gamma", seeds=[a.id])
    wait_members_up([a, b, c])
    rec_a, rec_c = membership(a), membership(c)
    remote = a.spawn_remote(b.id, PROBE)
    monitor = MonitorRecorder()
    a.monitor(remote, monitor.callback)
    assert remote.call("ping", timeout=TIMEOUT) == "pong"   # (behind the monitor on the wire)

    b.stop()

    for rec in (rec_a, rec_c):
        down = rec.wait("node_down", node=b.id)
        assert down[0]["reason"] == "shutdown", down
        assert isinstance(down[0]["detail"], str)
    # Its processes were stopped (reason shutdown) before it said goodbye,
    # so the monitor reports that, not the connection's end.
    monitor.wait(1)
    assert [str(r) for r in monitor.reasons()] == ["shutdown"]
    # Once per incident: nothing more arrives (a second report would come
    # from the heartbeat detector, which needs about 1.6 s).
    pause(2.0)
    for rec in (rec_a, rec_c):
        assert len(rec.select("node_down", node=b.id)) == 1, rec.all()
        assert rec.select("node_up", node=b.id) == []
    assert len(monitor.reasons()) == 1
    # A node that left is not redialled: it stays down.
    assert all(i.status == "down" for i in a.nodes()[1:] if i.id == b.id)
    with pytest.raises(noexpp.NodeDown):
        remote.call("ping", timeout=TIMEOUT)


def test_restart_with_same_name_and_port_is_a_new_incarnation(
        make_cluster_node: Any, membership: Any) -> None:
    a = make_cluster_node("alpha")
    rec_a = membership(a)
    b1 = make_cluster_node("beta", seeds=[a.id])
    first_up = rec_a.wait("node_up", node=b1.id)[0]
    old = a.spawn_remote(b1.id, ECHO)
    assert old.call("hello", timeout=TIMEOUT) == "hello"
    port = b1.id.rpartition(":")[2]

    b1.stop()
    rec_a.wait("node_down", node=b1.id, reason="shutdown")
    with pytest.raises(noexpp.NodeDown):
        old.call("hello", timeout=TIMEOUT)

    b2 = make_cluster_node("beta", listen=f"127.0.0.1:{port}", seeds=[a.id])
    assert b2.id == b1.id
    ups = rec_a.wait("node_up", node=b2.id, count=2)
    assert ups[1]["creation"] != first_up["creation"], ups

    # The new incarnation's first process has the same serial as the old
    # one, so only the incarnation tells them apart.
    new = a.spawn_remote(b2.id, ECHO)
    assert repr(new) == repr(old), (new, old)
    assert new.call("new", timeout=TIMEOUT) == "new"
    with pytest.raises(noexpp.NoProcess):
        old.call("stale", timeout=TIMEOUT)
    assert old.alive is False
    assert new.alive is True
    assert old != new
    assert a._request(b2.id, ("alive", old)) is False
    assert a._request(b2.id, ("alive", new)) is True
    # Exactly one node_up per incarnation, one node_down for the first.
    assert len(rec_a.select("node_up", node=b1.id)) == 2
    assert len(rec_a.select("node_down", node=b1.id)) == 1


def test_casts_to_a_ref_of_the_old_incarnation_never_reach_the_new_one(
        make_cluster_node: Any, membership: Any) -> None:
    a = make_cluster_node("alpha")
    rec_a = membership(a)
    collector = Collector(a)
    b1 = make_cluster_node("beta", seeds=[a.id])
    rec_a.wait("node_up", node=b1.id)
    old = a.spawn_remote(b1.id, ECHO, collector.ref)
    old.cast("first")
    assert collector.get() == ("cast", "first")
    port = b1.id.rpartition(":")[2]
    b1.stop()
    rec_a.wait("node_down", node=b1.id)

    b2 = make_cluster_node("beta", listen=f"127.0.0.1:{port}", seeds=[a.id])
    rec_a.wait("node_up", node=b2.id, count=2)
    new = a.spawn_remote(b2.id, ECHO, collector.ref)
    assert repr(new) == repr(old)
    old.cast("stale-cast")
    old.send("stale-send")
    new.cast("fresh")
    # Per-pair ordering: had the stale messages reached the new process,
    # they would arrive before "fresh".
    assert collector.get() == ("cast", "fresh")
    assert new.call("sync", timeout=TIMEOUT) == "sync"
    assert collector.inbox.drain() == []


def test_members_and_process_count_node_requests(make_cluster_node: Any) -> None:
    a = make_cluster_node("alpha")
    b = make_cluster_node("beta", seeds=[a.id])
    c = make_cluster_node("gamma", seeds=[b.id])
    wait_members_up([a, b, c])
    members = a._request(b.id, ("members",), timeout=TIMEOUT)
    assert members[0] == b.id
    assert sorted(members) == sorted([a.id, b.id, c.id])
    ref = b.spawn(noexpp.GenServer, name="registered-here")
    assert a._request(b.id, ("process_count",), timeout=TIMEOUT) == b.process_count() == 1
    assert a._request(b.id, ("whereis", "registered-here"), timeout=TIMEOUT) == ref
    assert a._request(b.id, ("whereis", "nobody"), timeout=TIMEOUT) is None
    assert a._request(b.id, ("alive", ref), timeout=TIMEOUT) is True


def test_hidden_node_is_not_a_member(make_cluster_node: Any, membership: Any) -> None:
    a = make_cluster_node("alpha")
    b = make_cluster_node("beta", seeds=[a.id])
    wait_members_up([a, b])
    rec_a = membership(a)
    tool = make_cluster_node("tool", hidden=True)
    tool.connect(a.id, timeout=TIMEOUT)
    # The hidden node can reach a's processes...
    ref = tool.spawn_remote(a.id, PROBE)
    assert ref.call("ping", timeout=TIMEOUT) == "pong"
    # ...but is never announced: no node_up, not in anyone's members, and
    # b never hears of it.
    pause(0.5)
    assert rec_a.select() == []
    assert tool.id not in {i.id for i in a.nodes()}
    assert tool.id not in {i.id for i in b.nodes()}
    assert b.id not in {i.id for i in tool.nodes() if i.status == "up"}


def test_simultaneous_connects_keep_exactly_one_connection(make_cluster_node: Any, membership: Any) -> None:
    for trial in range(3):
        a = make_cluster_node(f"alpha{trial}")
        b = make_cluster_node(f"beta{trial}")
        rec_a, rec_b = membership(a), membership(b)
        errors: list[BaseException] = []
        go = threading.Barrier(2)

        def dial(src: noexpp.Node, dst: noexpp.Node, go: threading.Barrier,
                 errors: list[BaseException]) -> None:
            try:
                go.wait(TIMEOUT)
                src.connect(dst.id, timeout=TIMEOUT)
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        threads = [threading.Thread(target=dial, args=(a, b, go, errors)),
                   threading.Thread(target=dial, args=(b, a, go, errors))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT)
        assert errors == []
        wait_members_up([a, b])
        ref = a.spawn_remote(b.id, PROBE)
        assert ref.call("ping", timeout=TIMEOUT) == "pong"
        rec_a.wait("node_up")
        rec_b.wait("node_up")
        pause(0.3)
        assert len(rec_a.select("node_up")) == 1 and len(rec_b.select("node_up")) == 1
        assert rec_a.select("node_down") == [] and rec_b.select("node_down") == []


def test_crashed_node_restarted_on_the_same_port_is_redialled_as_a_new_incarnation(
        make_cluster_node: Any, membership: Any) -> None:
    a = make_cluster_node("alpha")
    b1 = make_cluster_node("beta")
    rec_a = membership(a)
    a.connect(b1.id, timeout=TIMEOUT)
    first = rec_a.wait("node_up", node=b1.id)[0]
    old = a.spawn_remote(b1.id, ECHO)
    port = b1.id.rpartition(":")[2]

    b1._abort()
    rec_a.wait("node_down", node=b1.id, reason="noconnection")
    b1.stop()
    # a crashed peer stays a member that a keeps redialling: the new
    # incarnation is found without anyone calling connect.
    b2 = make_cluster_node("beta", listen=f"127.0.0.1:{port}")
    second = rec_a.wait("node_up", node=b2.id, count=2)[1]
    assert second["creation"] != first["creation"]
    assert member_is_up(a, b2.id)
    new = a.spawn_remote(b2.id, ECHO)
    assert repr(new) == repr(old)
    assert new.call("fresh", timeout=TIMEOUT) == "fresh"
    with pytest.raises(noexpp.NoProcess):
        old.call("stale", timeout=TIMEOUT)


def test_sigterm_of_a_node_process_is_node_down_shutdown_exactly_once(
        process_cluster: Any, membership: Any) -> None:
    cluster = process_cluster(3)
    n1, n2, n3 = cluster.nodes
    rec_ctl = membership(cluster.controller)
    watched = WatchedEvents(cluster.controller, [n1, n3])
    n2.stop()
    assert n2.process.returncode == 0
    for observer in (n1.id, n3.id):
        down = watched.wait("node_down", node=n2.id, observer=observer)[0]
        assert down["reason"] == "shutdown"
    assert rec_ctl.wait("node_down", node=n2.id)[0]["reason"] == "shutdown"
    pause(2.0)
    assert len(watched.select("node_down")) == 2
    assert watched.select("node_up") == []
    assert len(rec_ctl.select("node_down")) == 1
    assert sorted(n1.members()) == sorted([n1.id, n3.id])
