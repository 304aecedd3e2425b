"""``python -m noexpp demo``: a short tour of one node, then of a cluster.

A few GenServers, calls and casts, a deferred reply, a timer, a crash seen
through a monitor, and a supervisor that brings crashed children back (a
Python one and the built-in C++ "noexpp.probe"). Then three nodes in this
interpreter (LocalCluster, threads mode): a remote call, a node killed, the
node_down it causes and a call to it failing fast with NodeDown; and a
distributed supervisor whose children on a killed node come back on the
survivors.
"""
from __future__ import annotations

import contextlib
import queue
import time
from typing import Any

from .distributed_supervisor import DistributedChildSpec
from .errors import NodeDown, ProcessCrashed
from .gen_server import GenServer, NoReply, register_behavior
from .local_cluster import LocalCluster
from .node import Node
from .supervisor import ChildSpec

__all__ = ["run"]


class Counter(GenServer):
    """Counts casts; answers "get"."""

    def init(self, start: int = 0) -> None:
        self.value = start

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "get":
            return self.value
        raise ValueError(f"unknown request {request!r}")

    def handle_cast(self, request: Any) -> None:
        self.value += 1


class Greeter(GenServer):
    """Replies later: handle_call returns NoReply and a timer sends the answer."""

    def handle_call(self, request: Any, caller: Any) -> Any:
        self.send_after(0.05, ("answer", caller, f"hello, {request}"))
        return NoReply

    def handle_info(self, message: Any) -> None:
        _, caller, text = message
        self.reply(caller, text)


def run(out: Any = print) -> int:
    """Runs the demo; returns 0 when every step behaved as expected."""
    with Node("demo", threads=2) as node:
        out(f"node {node.id} started")
        counter = node.spawn(Counter, 40, name="counter")
        counter.cast("inc")
        counter.cast("inc")
        out(f"counter after two casts: {counter.call('get')}")
        assert node.whereis("counter") == counter

        greeter = node.spawn(Greeter)
        out(f"greeter (deferred reply via a timer): {greeter.call('world')}")

        downs: queue.Queue[tuple[Any, Any]] = queue.Queue()
        node.monitor(counter, lambda ref, reason: downs.put((ref, reason)))
        out("asking the counter something it does not understand...")
        try:
            counter.call("explode")
        except Exception as exc:  # noqa: BLE001 - ProcessCrashed; the demo shows what it got
            out(f"  the call failed: {type(exc).__name__}: {exc}")
        ref, reason = downs.get(timeout=5)
        out(f"  monitor saw {ref!r} exit: {reason} ({reason.error_type}: {reason.message})")
        out(f"  name 'counter' released: whereis -> {node.whereis('counter')}")
        out(f"processes still running: {[p.behavior for p in node.processes()]}")

        out("a one_for_one supervisor with a Python and a C++ child:")
        restarted: queue.Queue[dict[str, Any]] = queue.Queue()
        unsubscribe = node.on_lifecycle_event(
            lambda e: restarted.put(e) if e["type"] == "child_restarted" else None)
        sup = node.start_supervisor([ChildSpec("py", Counter, args=(1,), name="py_counter"),
                                     ChildSpec("cpp", "noexpp.probe", args=(2,), name="cpp_probe")],
                                    strategy="one_for_one", max_restarts=3, within=5.0)
        for child_id, name in (("py", "py_counter"), ("cpp", "cpp_probe")):
            before = node.whereis(name)
            assert before is not None
            if child_id == "py":
                # Counter raises ValueError: the process crashes.
                with contextlib.suppress(ProcessCrashed):
                    before.call("explode")
            else:
                before.cast("crash")  # the C++ probe throws std::runtime_error
            event = restarted.get(timeout=5)
            after = node.whereis(name)
            out(f"  child {event['child_id']!r} crashed and was restarted "
                f"(attempt {event['attempt']}): {before!r} -> {after!r}, "
                f"answers get -> {after.call('get') if after else None}")
        unsubscribe()
        stats = sup.stats()
        out(f"  supervisor health {stats['health']}, total restarts {stats['total_restarts']}")
        sup.stop()
    out("node stopped")
    if _cluster(out) != 0:
        return 1
    out("demo done")
    return 0


def _short(node_id: str) -> str:
    return node_id.split("@", 1)[0]


def _cluster(out: Any) -> int:
    """Three nodes: a remote call, a crashed node, a call that fails fast."""
    out("a cluster of three nodes (LocalCluster, threads mode, TCP on 127.0.0.1):")
    register_behavior("noexpp.demo.counter", Counter)  # remote spawn names a registered behavior
    with LocalCluster(3, mode="threads") as cluster:
        a, b, _ = [n for n in cluster.nodes if isinstance(n, Node)]  # threads mode: Nodes
        out(f"  members: {', '.join(cluster.ids)}")
        remote = a.spawn_remote(b.id, "noexpp.demo.counter", 7)
        remote.cast("inc")
        value = remote.call("get")
        out(f"  {_short(a.id)} -> counter on {_short(b.id)}: cast inc, call get -> {value}")
        if value != 8:
            out("  unexpected: the remote counter should answer 8")
            return 1

        downs: queue.Queue[dict[str, Any]] = queue.Queue()
        a.on("node_down", downs.put)
        start = time.monotonic()
        cluster.kill(b)  # an abrupt stop: no goodbye, its connections just close
        try:
            down = downs.get(timeout=5)
        except queue.Empty:
            out(f"  unexpected: no node_down for {_short(b.id)} within 5 s")
            return 1
        detected = (down["monotonic"] - start) * 1000
        out(f"  killed {_short(b.id)}: {_short(a.id)} got node_down {_short(down['node'])} "
            f"({down['reason']}: {down['detail']}) after {detected:.1f} ms")
        if down["node"] != b.id or down["reason"] != "noconnection":
            out("  unexpected: expected node_down of the killed node with reason noconnection")
            return 1

        start = time.monotonic()
        try:
            remote.call("get", timeout=30.0)
        except NodeDown as exc:
            out(f"  call to the counter on {_short(b.id)}: NodeDown after "
                f"{(time.monotonic() - start) * 1000:.1f} ms, not at its 30 s timeout ({exc})")
        else:
            out("  unexpected: the call to a dead node answered")
            return 1
    return _distributed_supervisor(out)


def _distributed_supervisor(out: Any) -> int:
    """Three nodes, four counters placed round robin; a node killed and its
    counters back on the survivors, once each, uncounted."""
    out("a distributed supervisor over three nodes (children placed round robin):")
    with LocalCluster(3, mode="threads") as cluster:
        a, b, _ = [n for n in cluster.nodes if isinstance(n, Node)]
        migrated: queue.Queue[dict[str, Any]] = queue.Queue()
        a.on_lifecycle_event(lambda e: migrated.put(e) if e["type"] == "child_migrated" else None)
        children = [DistributedChildSpec(f"c{i}", "noexpp.demo.counter", args=(i,))
                    for i in range(4)]
        with a.start_distributed_supervisor(children, node_selector="round_robin",
                                            lease=0.5) as dsup:
            out("  placed: " + ", ".join(f"{c.id}@{_short(c.node_id)}" for c in dsup.children()))
            lost = [c.id for c in dsup.children() if c.node_id == b.id]
            start = time.monotonic()
            cluster.kill(b)
            try:
                moves = [migrated.get(timeout=10) for _ in lost]
            except queue.Empty:
                out(f"  unexpected: {lost} not restarted within 10 s of the node loss")
                return 1
            out(f"  killed {_short(b.id)}: " + ", ".join(
                f"{m['child_id']} -> {_short(m['to_node'])}" for m in moves) +
                f" after {(time.monotonic() - start) * 1000:.0f} ms (the lease, then a restart)")
            answers = {c.id: c.ref.call("get") for c in dsup.children() if c.ref is not None}
            stats = dsup.stats()
            out(f"  every counter answers, none on {_short(b.id)}: {answers}; "
                f"node_failure_restarts {stats['node_failure_restarts']} (not counted toward "
                f"max_restarts)")
            if len(answers) != 4 or b.id in stats["children_by_node"]:
                out("  unexpected: every counter should run once on a survivor")
                return 1
    return 0
