"""Cluster-wide names (DESIGN §6): ``node.global_registry.register(name,
ref)``, ``whereis``, ``unregister``, ``names()``, over real TCP on 127.0.0.1.

A change is visible on every member within about one round trip (measured
and printed below); a name resolves to a usable Ref on every node; it goes
away everywhere when its process dies or its node goes down; a node that
joins later receives the table. Of concurrent registrations of one name
exactly one wins, the same on every node. After a partition heals with the
name registered on both sides, every node keeps the same owner (the smaller
pid: node id first, so a process on "alpha@..." beats one on "beta@...");
the loser receives ("name_conflict", name, winner_ref) and then is stopped
(default), keeps running without the name (on_conflict="keep"), or the
registering node calls ``on_conflict(name, loser_ref, winner_ref)``."""
from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import dist_test_behaviors as dtb
import noexpp
import pytest
from cluster_support import member_status, wait_members_up
from helpers import TIMEOUT, Collector, Inbox, pause, wait_for

pytest_plugins = ["cluster_fixtures"]

#: Runs of the concurrent registration test.
RACE_RUNS = 20


@pytest.fixture
def trio(make_cluster_node: Any) -> tuple[noexpp.Node, noexpp.Node, noexpp.Node]:
    """alpha, beta, gamma: a full mesh (alpha has the smallest id: it decides)."""
    a = make_cluster_node("alpha")
    b = make_cluster_node("beta", seeds=[a.id])
    c = make_cluster_node("gamma", seeds=[a.id])
    wait_members_up([a, b, c])
    return a, b, c


def _everywhere(nodes: list[noexpp.Node], name: str, ref: Any) -> Callable[[], bool]:
    """A predicate: every node's replica maps ``name`` to ``ref`` (None: absent)."""
    def check() -> bool:
        return all(n.global_registry.whereis(name) == ref for n in nodes)
    return check


def _replicas(nodes: list[noexpp.Node], name: str) -> list[Any]:
    return [n.global_registry.whereis(name) for n in nodes]


def _named(node: noexpp.Node, notify: Any = None, tag: Any = None) -> Any:
    return node.spawn(dtb.NAMED, notify, tag)


def _wait_each_visible(nodes: list[noexpp.Node], name: str, ref: Any, since: float) -> dict[str, float]:
    """Polls (finely, bounded) until each node sees ``name`` -> ``ref``;
    returns each node's delay from ``since`` in seconds."""
    seen: dict[str, float] = {}

    def all_seen() -> bool:
        for n in nodes:
            if n.id not in seen and n.global_registry.whereis(name) == ref:
                seen[n.id] = time.monotonic() - since
        return len(seen) == len(nodes)

    wait_for(all_seen, interval=0.0001, what=f"'{name}' visible on every node")
    return seen


# --- register, whereis, unregister, names ------------------------------------------------

def test_a_name_is_visible_and_usable_on_every_node_within_a_round_trip(trio: Any, unique: Any) -> None:
    a, b, c = trio
    nodes = [a, b, c]
    owner = _named(b, tag="owner")
    # a call's round trip beta -> alpha, for scale
    far = b.spawn_remote(a.id, dtb.NAMED)
    rtts = []
    for _ in range(20):
        t = time.monotonic()
        far.call("ping", timeout=TIMEOUT)
        rtts.append(time.monotonic() - t)
    rtt = statistics.median(rtts)

    delays = []
    for i in range(5):
        name = unique(f"visible{i}")
        start = time.monotonic()
        b.global_registry.register(name, owner)    # beta asks alpha, which decides and replicates
        returned = time.monotonic() - start
        seen = _wait_each_visible(nodes, name, owner, start)
        delays.append((returned, seen))
    worst = max(max(s.values()) for _, s in delays)
    print(f"\nglobal name visibility (register on beta, decided by alpha): call rtt {rtt * 1e3:.3f} ms; "
          + "; ".join(f"register {r * 1e3:.3f} ms, visible " +
                      ", ".join(f"{nid.split('@')[0]} {d * 1e3:.3f} ms" for nid, d in s.items())
                      for r, s in delays))
    assert worst < 1.0, delays

    name = unique("usable")
    b.global_registry.register(name, owner)
    wait_for(_everywhere(nodes, name, owner), what="the name on every node")
    for n in nodes:
        ref = n.global_registry.whereis(name)
        assert isinstance(ref, noexpp.Ref)
        assert ref.node_id == b.id
        # a usable Ref from each node
        assert ref.call("tag", timeout=TIMEOUT) == "owner"
        assert ref.call("node", timeout=TIMEOUT) == b.id
        assert name in n.global_registry.names()
        assert n.global_registry.names() == sorted(n.global_registry.names())


def test_unregister_from_any_node_removes_the_name_everywhere(trio: Any, unique: Any) -> None:
    a, b, c = trio
    nodes = [a, b, c]
    owner = _named(b)
    name = unique("unreg")
    b.global_registry.register(name, owner)
    wait_for(_everywhere(nodes, name, owner), what="the name everywhere")
    # registering it again for the same process is accepted
    b.global_registry.register(name, owner)
    c.global_registry.register(name, owner)
    assert c.global_registry.unregister(name) is True      # from a node that is neither owner nor leader
    wait_for(_everywhere(nodes, name, None), what="the name gone everywhere")
    for n in nodes:
        assert name not in n.global_registry.names()
    assert c.global_registry.unregister(name) is False
    assert a.global_registry.unregister(name) is False
    assert owner.call("ping", timeout=TIMEOUT) == "pong"   # the process itself is untouched
    # the name is free again, for another process
    other = _named(c)
    a.global_registry.register(name, other)
    wait_for(_everywhere(nodes, name, other), what="the name re-registered everywhere")


def test_a_taken_name_raises_duplicate_name_from_every_node(trio: Any, unique: Any) -> None:
    a, b, c = trio
    owner = _named(a)
    name = unique("taken")
    a.global_registry.register(name, owner)
    wait_for(_everywhere([a, b, c], name, owner), what="the name everywhere")
    for n in (a, b, c):
        with pytest.raises(noexpp.DuplicateNameError) as info:
            n.global_registry.register(name, _named(n))
        assert name in str(info.value)
    assert _replicas([a, b, c], name) == [owner] * 3


def test_registration_errors(trio: Any, unique: Any) -> None:
    a, b, _ = trio
    ref = _named(a)
    dead = _named(a)
    dead.stop()
    with pytest.raises(noexpp.NoProcess):
        a.global_registry.register(unique("dead"), dead)
    with pytest.raises(TypeError):
        a.global_registry.register("", ref)
    with pytest.raises(TypeError):
        a.global_registry.register(unique("notref"), "not a ref")
    with pytest.raises(ValueError):
        a.global_registry.register(unique("mode"), ref, on_conflict="explode")
    with pytest.raises(TypeError):
        a.global_registry.whereis(42)
    assert a.global_registry.whereis(unique("never")) is None
    assert b.global_registry.names() == a.global_registry.names() == []
    # a node that does not listen has no cluster, hence no global names
    local_only = noexpp.Node("local-only", listen=None)
    try:
        with pytest.raises(noexpp.NodeDown):
            local_only.global_registry.register(unique("x"), local_only.spawn(dtb.NAMED))
    finally:
        local_only.stop()


def test_a_name_goes_away_everywhere_when_its_process_dies(trio: Any, unique: Any) -> None:
    a, b, c = trio
    nodes = [a, b, c]
    stopped, crashed, remote_owner = _named(b), _named(b), _named(c)
    n_stop, n_crash, n_remote = unique("stop"), unique("crash"), unique("remote")
    b.global_registry.register(n_stop, stopped)
    a.global_registry.register(n_crash, crashed)         # registered by another node
    a.global_registry.register(n_remote, remote_owner)   # alpha names a process of gamma
    for name, ref in ((n_stop, stopped), (n_crash, crashed), (n_remote, remote_owner)):
        wait_for(_everywhere(nodes, name, ref), what=f"{name} everywhere")

    stopped.stop()
    wait_for(_everywhere(nodes, n_stop, None), what="the stopped process's name gone everywhere")
    crashed.cast("crash")
    wait_for(_everywhere(nodes, n_crash, None), what="the crashed process's name gone everywhere")
    remote_owner.stop()
    wait_for(_everywhere(nodes, n_remote, None), what="gamma's process's name gone everywhere")
    for n in nodes:
        assert n.global_registry.names() == []


def test_names_of_a_node_that_goes_down_go_away_everywhere(
        trio: Any, unique: Any, make_cluster_node: Any) -> None:
    a, b, c = trio
    on_c1, on_c2, on_b = _named(c), _named(c), _named(b)
    names = {unique("c1"): on_c1, unique("c2"): on_c2, unique("b"): on_b}
    for name, ref in names.items():
        a.global_registry.register(name, ref)
    for name, ref in names.items():
        wait_for(_everywhere([a, b, c], name, ref), what=f"{name} everywhere")

    c._abort()                                              # gamma crashes
    survivors = [a, b]
    for name, ref in names.items():
        expected = ref if ref is on_b else None
        wait_for(_everywhere(survivors, name, expected), what=f"{name} after gamma went down")
    assert sorted(a.global_registry.names()) == sorted(b.global_registry.names()) == \
        [n for n, r in names.items() if r is on_b]

    # the leader goes down: the next smallest member (beta) decides from now on
    a._abort()
    b_names = [n for n, r in names.items() if r is on_b]
    wait_for(lambda: member_status(b, a.id) != "up", what="beta to see alpha down")
    assert b.global_registry.names() == b_names          # beta's own name stays
    d = make_cluster_node("delta", seeds=[b.id])
    wait_members_up([b, d])
    later = unique("after-leader-down")
    owner = _named(d)
    d.global_registry.register(later, owner)
    wait_for(_everywhere([b, d], later, owner), what="a registration decided by beta")
    with pytest.raises(noexpp.DuplicateNameError):
        b.global_registry.register(later, _named(b))


def test_a_node_that_joins_later_receives_the_table(trio: Any, unique: Any, make_cluster_node: Any) -> None:
    a, b, c = trio
    owners = {unique("on-a"): _named(a, tag="a"), unique("on-b"): _named(b, tag="b"),
              unique("on-c"): _named(c, tag="c")}
    for name, ref in owners.items():
        c.global_registry.register(name, ref)
    for name, ref in owners.items():
        wait_for(_everywhere([a, b, c], name, ref), what=f"{name} everywhere")

    d = make_cluster_node("delta", seeds=[c.id])
    wait_members_up([a, b, c, d])
    for name, ref in owners.items():
        wait_for(_everywhere([d], name, ref), what=f"{name} synced to delta")
        assert d.global_registry.whereis(name).call("tag", timeout=TIMEOUT) == ref.call("tag", timeout=TIMEOUT)
    assert d.global_registry.names() == sorted(owners)
    # and delta takes part from now on
    mine = unique("on-d")
    owner = _named(d)
    d.global_registry.register(mine, owner)
    wait_for(_everywhere([a, b, c, d], mine, owner), what="delta's name everywhere")


def test_a_hidden_node_resolves_names_through_a_member(
        trio: Any, unique: Any, make_cluster_node: Any) -> None:
    # A tool's node (LocalCluster's controller) is no member and holds no
    # replica: it asks a member, so what it sees is the cluster's table.
    a, b, c = trio
    tool = make_cluster_node("tool", hidden=True)
    for n in (a, b, c):
        tool.connect(n.id, timeout=TIMEOUT)
    owner = _named(b, tag="owner")
    name = unique("seen-by-tool")
    b.global_registry.register(name, owner)
    wait_for(lambda: tool.global_registry.whereis(name) == owner, what="the tool to resolve the name")
    assert name in tool.global_registry.names()
    assert tool.global_registry.whereis(name).call("tag", timeout=TIMEOUT) == "owner"
    # a registration made by the tool is decided by the members' leader
    remote = tool.spawn_remote(c.id, dtb.NAMED, None, "by-tool")
    mine = unique("by-tool")
    tool.global_registry.register(mine, remote)
    wait_for(_everywhere([a, b, c], mine, remote), what="the tool's name on every member")
    with pytest.raises(noexpp.DuplicateNameError):
        tool.global_registry.register(name, remote)
    # and what the tool sees follows the cluster: the process exits, the name goes
    remote.stop()
    wait_for(_everywhere([a, b, c], mine, None), what="the tool's name gone from the members")
    wait_for(lambda: tool.global_registry.whereis(mine) is None, what="the tool to see it gone")
    assert tool.global_registry.unregister(name) is True
    wait_for(_everywhere([a, b, c], name, None), what="the name the tool unregistered gone")
    assert tool.global_registry.names() == []
    # the tool is never the leader: registrations still go to alpha
    assert member_status(a, tool.id) is None


def test_global_names_across_node_processes(process_cluster: Any, unique: Any) -> None:
    cluster = process_cluster(3, modules=["dist_test_behaviors"])
    n1, n2, n3 = cluster.nodes
    owner = n1.spawn(dtb.NAMED, None, "owner")
    probes = {h.id: h.spawn(dtb.NAMED) for h in (n1, n2, n3)}  # ask each node's replica
    name = unique("proc-name")
    assert owner.call(("register", name, "stop"), timeout=TIMEOUT) == "ok"

    def resolved(expected: Any) -> bool:
        return all(p.call(("whereis", name), timeout=TIMEOUT) == expected for p in probes.values())

    wait_for(lambda: resolved(owner), what="the name in every node process")
    for p in probes.values():
        ref = p.call(("whereis", name), timeout=TIMEOUT)
        assert ref.call("tag", timeout=TIMEOUT) == "owner"
    err = probes[n2.id].call(("register", name, "stop"), timeout=TIMEOUT)
    assert err[:2] == ("error", "DuplicateNameError"), err
    # the owner's process dies: its name goes from every node process
    short_lived = n2.spawn(dtb.NAMED)
    other = unique("short-lived")
    assert short_lived.call(("register", other, "keep"), timeout=TIMEOUT) == "ok"
    wait_for(lambda: all(p.call(("whereis", other), timeout=TIMEOUT) == short_lived
                           for p in probes.values()), what="the second name everywhere")
    short_lived.stop()
    wait_for(lambda: all(p.call(("whereis", other), timeout=TIMEOUT) is None for p in probes.values()),
               what="the second name gone with its process")
    n1.kill()                                                   # SIGKILL the owner's node
    del probes[n1.id]
    wait_for(lambda: resolved(None), what="the name gone from the surviving node processes")


# --- concurrent registrations ------------------------------------------------------------

def test_concurrent_registrations_from_three_nodes_have_exactly_one_winner(trio: Any, unique: Any) -> None:
    nodes = list(trio)
    owners = [_named(n) for n in nodes]
    wins: dict[str, int] = {n.id.split("@")[0]: 0 for n in nodes}
    for run in range(RACE_RUNS):
        name = unique(f"race{run}")
        barrier = threading.Barrier(len(nodes))
        outcomes: list[Any] = [None] * len(nodes)

        def register(i: int, name: str = name, barrier: threading.Barrier = barrier,
                     outcomes: list[Any] = outcomes) -> None:
            barrier.wait(TIMEOUT)
            try:
                nodes[i].global_registry.register(name, owners[i])
                outcomes[i] = "ok"
            except noexpp.DuplicateNameError as e:
                outcomes[i] = e
            except BaseException as e:  # noqa: BLE001 - reported by the assertion below
                outcomes[i] = ("unexpected", e)

        # the thread that arrives last at a barrier goes first: rotate who that is
        order = [(run + k) % len(nodes) for k in range(len(nodes))]
        threads = [threading.Thread(target=register, args=(i,)) for i in order]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT)
        assert not any(t.is_alive() for t in threads), f"run {run}: a registration hung"
        assert outcomes.count("ok") == 1, (run, outcomes)
        assert sum(isinstance(o, noexpp.DuplicateNameError) for o in outcomes) == len(nodes) - 1, \
            (run, outcomes)
        winner = owners[outcomes.index("ok")]
        wins[nodes[outcomes.index("ok")].id.split("@")[0]] += 1
        wait_for(_everywhere(nodes, name, winner),
                   what=f"run {run}: every replica to agree on the winner ({_replicas(nodes, name)})")
    print(f"\nconcurrent registrations, {RACE_RUNS} runs: winners by node {wins}")


def _settle(leader: noexpp.Node, pings: list[Any]) -> None:
    """A round trip from the leader to a process on each other node: every
    frame the leader sent them before (its replication) has been applied."""
    for p in pings:
        assert p.call("ping", timeout=TIMEOUT) == "pong"


@pytest.mark.parametrize("racing", ["unregister_then_register", "register_then_unregister"])
def test_replicas_agree_after_a_registration_racing_an_unregistration(
        trio: Any, unique: Any, racing: str) -> None:
    """A non-leader's register / unregister racing another decision of the
    leader on the same name: once the leader's replication has been applied
    everywhere, every replica must hold the leader's final decision.

    unregister_then_register: gamma unregisters the name while alpha (the
    leader) registers it again as soon as it is free. register_then_unregister:
    gamma registers it while alpha unregisters it as soon as it is taken."""
    a, b, c = trio
    nodes = [a, b, c]
    on_a, on_c = _named(a), _named(c)
    pings = [a.spawn_remote(b.id, dtb.NAMED), a.spawn_remote(c.id, dtb.NAMED)]
    runs = 300
    for run in range(runs):
        name = unique(f"churn{run}")
        if racing == "unregister_then_register":
            c.global_registry.register(name, on_c)
            _settle(a, pings)
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def leader_side(name: str = name, barrier: threading.Barrier = barrier,
                        errors: list[BaseException] = errors) -> None:
            try:
                barrier.wait(TIMEOUT)
                deadline = time.monotonic() + TIMEOUT
                while time.monotonic() < deadline:
                    if racing == "unregister_then_register":
                        try:
                            a.global_registry.register(name, on_a)
                            return
                        except noexpp.DuplicateNameError:
                            continue
                    elif a.global_registry.unregister(name):
                        return
                raise AssertionError("the leader's operation never succeeded")
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        t = threading.Thread(target=leader_side)
        t.start()
        barrier.wait(TIMEOUT)
        if racing == "unregister_then_register":
            assert c.global_registry.unregister(name) is True
            expected = on_a
        else:
            c.global_registry.register(name, on_c)
            expected = None
        t.join(TIMEOUT)
        assert not t.is_alive() and not errors, errors
        _settle(a, pings)
        replicas = _replicas(nodes, name)
        assert replicas == [expected] * 3, (
            f"run {run}: replicas diverged after the leader's last decision "
            f"({'registered' if expected else 'unregistered'}): alpha, beta, gamma = {replicas}")
        if expected is not None:
            a.global_registry.unregister(name)


# --- partition and heal -------------------------------------------------------------------

def _split(a: noexpp.Node, others: list[noexpp.Node], membership: Any) -> None:
    """Partitions [a] | others and waits until both sides saw node_down."""
    recs = {n.id: membership(n) for n in [a, *others]}
    for o in others:
        a._partition(o.id)
        o._partition(a.id)
    for o in others:
        recs[a.id].wait("node_down", node=o.id)
        recs[o.id].wait("node_down", node=a.id)


def _heal(nodes: list[noexpp.Node]) -> None:
    for n in nodes:
        n._heal()
    wait_members_up(nodes)


@pytest.mark.parametrize("on_conflict, registered_by", [
    ("stop", "beta"), ("stop", "gamma"), ("keep", "beta"), ("callable", "beta"), ("callable", "gamma"),
])
def test_partition_heal_with_a_name_on_both_sides_keeps_one_owner_and_tells_the_loser(
        trio: Any, unique: Any, membership: Any, on_conflict: str, registered_by: str) -> None:
    a, b, c = trio
    nodes = [a, b, c]
    collector = Collector(b)             # the loser's messages, forwarded by its handle_info
    name = unique("split")
    callbacks = Inbox()

    def handler(n: str, loser: Any, winner: Any) -> None:
        callbacks.put((n, loser, winner, threading.current_thread().name))

    mode: Any = handler if on_conflict == "callable" else on_conflict

    _split(a, [b, c], membership)      # alpha | beta, gamma
    # one side: a process on alpha, registered by alpha (alone, it decides)
    winner = _named(a, tag="winner")
    a.global_registry.register(name, winner)
    # the other side: a process on beta, registered by beta or by gamma (beta decides there)
    loser = _named(b, collector.ref, "loser")
    registrar = b if registered_by == "beta" else c
    registrar.global_registry.register(name, loser, on_conflict=mode)
    assert a.global_registry.whereis(name) == winner
    wait_for(_everywhere([b, c], name, loser), what="the name on the beta-gamma side")

    start = time.monotonic()
    _heal(nodes)
    wait_for(lambda: all(n.global_registry.whereis(name) is not None and
                           n.global_registry.whereis(name).node_id == a.id for n in nodes),
               what=f"every node to keep alpha's process ({_replicas(nodes, name)})")
    print(f"\npartition heal ({on_conflict}, registered by {registered_by}): one owner everywhere "
          f"{(time.monotonic() - start) * 1e3:.1f} ms after heal")
    for n in nodes:
        ref = n.global_registry.whereis(name)
        assert ref == winner
        assert ref.call("tag", timeout=TIMEOUT) == "winner"
        assert n.global_registry.names() == [name]

    # the loser is told, with the winner's Ref
    msg = collector.get_match(lambda m: m[0] == "info")
    assert msg == ("info", loser, "loser", ("name_conflict", name, winner)), msg
    assert msg[3][2].call("tag", timeout=TIMEOUT) == "winner"     # a usable Ref
    if on_conflict == "stop":
        term = collector.get()
        assert term[:3] == ("terminated", loser, "loser"), term
        assert "name_conflict" in term[3] and name in term[3], term
        wait_for(lambda: not loser.alive, what="the loser to be stopped")
        assert callbacks.drain() == []
    else:
        assert loser.call("ping", timeout=TIMEOUT) == "pong"      # it keeps running
        if on_conflict == "callable":
            called = callbacks.get()
            assert called[:3] == (name, loser, winner), called
            assert called[1].node_id == b.id and called[2].node_id == a.id
        else:
            assert callbacks.drain() == []
    # told once; no other message; the winner was never told anything
    pause(0.3)
    assert [m for m in collector.inbox.drain() if m[0] == "info"] == []
    assert callbacks.drain() == []
    assert winner.alive and winner.call("ping", timeout=TIMEOUT) == "pong"
    # the name follows the winner from now on (and never falls back to the loser)
    winner.stop()
    wait_for(_everywhere(nodes, name, None), what="the name gone with the winner")
    if on_conflict != "stop":
        assert loser.alive
