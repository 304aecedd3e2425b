"""Behaviors for the cluster integration tests (test_cluster_*.py).

Importable by node OS processes (``--import cluster_test_behaviors`` /
``LocalCluster(modules=["cluster_test_behaviors"])``) as well as by the test
interpreter, so every behavior reports through Refs it is given (location
transparent), never through Python objects of the test.

Names all start with ``cluster_test.``.
"""
from __future__ import annotations

import time
from typing import Any

import noexpp
from helpers import Probe, tell

__all__ = ["BEHAVIORS", "BUSY", "ECHO", "LINKER", "NODE_WATCH", "PROBE", "RELAY", "SEQ", "SLEEPER"]

PROBE = "cluster_test.probe"
ECHO = "cluster_test.echo"
SEQ = "cluster_test.seq"
LINKER = "cluster_test.linker"
RELAY = "cluster_test.relay"
SLEEPER = "cluster_test.sleeper"
BUSY = "cluster_test.busy"
NODE_WATCH = "cluster_test.node_watch"


class Echo(noexpp.GenServer):
    """call x -> x, except ("hold",) which answers later (and sends
    ("held",) to notify): ("release", v) by cast replies v to the held
    caller; ("big", n) -> n bytes; cast "crash" raises. cast/send
    forward ("cast", x) / ("info", x) to ``notify``."""

    def init(self, notify: Any = None) -> None:
        self.notify = notify
        self.held: Any = None

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == ("hold",):
            self.held = caller
            tell(self.notify, ("held",))
            return noexpp.NoReply
        if isinstance(request, tuple) and len(request) == 2 and request[0] == "big":
            return b"x" * request[1]
        return request

    def handle_cast(self, request: Any) -> None:
        if isinstance(request, tuple) and len(request) == 2 and request[0] == "release":
            self.reply(self.held, request[1])
        elif request == "crash":
            raise RuntimeError("crash requested")
        else:
            tell(self.notify, ("cast", request))

    def handle_info(self, message: Any) -> None:
        tell(self.notify, ("info", message))


class SeqChecker(noexpp.GenServer):
    """Receives casts ("seq", n) for n = 0, 1, 2...; keeps the count and the
    first gap (expected, got), or None. call "stats" -> (count, first_gap)."""

    def init(self) -> None:
        self.count = 0
        self.expected = 0
        self.first_gap: Any = None

    def handle_cast(self, request: Any) -> None:
        _, n = request
        if n != self.expected and self.first_gap is None:
            self.first_gap = (self.expected, n)
        self.expected = n + 1
        self.count += 1

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "stats":
            return (self.count, self.first_gap)
        raise ValueError(request)


class Linker(noexpp.GenServer):
    """init(notify=None, trap=False). call ("link", ref), ("monitor", ref),
    "ping"; cast "crash". Forwards Exit / Down as ("exit", ref, str(reason))
    / ("down", ref, str(reason)) to ``notify``; terminate sends
    ("terminated", self, str(reason))."""

    def init(self, notify: Any = None, trap: bool = False) -> None:
        self.notify = notify
        if trap:
            self.trap_exit(True)

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "ping":
            return "pong"
        op, ref = request
        if op == "link":
            self.link(ref)
            return "linked"
        if op == "monitor":
            self.monitor(ref)
            return "monitoring"
        raise ValueError(request)

    def handle_cast(self, request: Any) -> None:
        if request == "crash":
            raise RuntimeError("linker crash requested")

    def handle_info(self, message: Any) -> None:
        if isinstance(message, noexpp.Exit):
            tell(self.notify, ("exit", message.ref, str(message.reason)))
        elif isinstance(message, noexpp.Down):
            tell(self.notify, ("down", message.ref, str(message.reason)))

    def terminate(self, reason: Any) -> None:
        tell(self.notify, ("terminated", self.ref, str(reason)))


class Relay(noexpp.GenServer):
    """Uses Refs that arrive inside messages: call ("call_via", ref, req) ->
    ref.call(req); ("cast_via", ref, req) / ("send_via", ref, msg) -> "ok";
    ("echo_refs", x) -> x (refs inside containers come back)."""

    def handle_call(self, request: Any, caller: Any) -> Any:
        op = request[0]
        if op == "call_via":
            return request[1].call(request[2], timeout=10.0)
        if op == "cast_via":
            request[1].cast(request[2])
            return "ok"
        if op == "send_via":
            request[1].send(request[2])
            return "ok"
        if op == "echo_refs":
            return request[1]
        if op == "types":
            return [type(x).__name__ for x in request[1]]
        raise ValueError(request)


class Sleeper(noexpp.GenServer):
    """cast ("sleep", seconds, notify): blocks its thread in time.sleep (the
    behaviour under test: a Python handler that does not return), then
    sends ("slept", seconds) to notify. call "ping" -> "pong";
    ("hold",) is answered only by a later cast ("release", v)."""

    def init(self) -> None:
        self.held: Any = None

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == ("hold",):
            self.held = caller
            return noexpp.NoReply
        return "pong"

    def handle_cast(self, request: Any) -> None:
        if request[0] == "sleep":
            time.sleep(request[1])
            tell(request[2], ("slept", request[1]))
        elif request[0] == "release":
            self.reply(self.held, request[1])


class Busy(noexpp.GenServer):
    """Keeps a core busy: init(seconds, notify). Each "spin" computes for
    ~20 ms, then casts "spin" to itself again until ``seconds`` have passed;
    then sends ("busy_done", slices) to notify. call "slices" -> count."""

    def init(self, seconds: float, notify: Any = None) -> None:
        self.until = time.monotonic() + seconds
        self.notify = notify
        self.slices = 0
        self.ref.cast("spin")

    def handle_call(self, request: Any, caller: Any) -> Any:
        return self.slices

    def handle_cast(self, request: Any) -> None:
        end = time.monotonic() + 0.02
        x = 0
        while time.monotonic() < end:
            for i in range(2000):
                x += i * i
        self.slices += 1
        if time.monotonic() < self.until:
            self.ref.cast("spin")
        else:
            tell(self.notify, ("busy_done", self.slices))


class NodeWatch(noexpp.GenServer):
    """Reports its node's membership events: init(notify) subscribes to
    node_up / node_down and sends ("node_event", type, node, reason,
    monotonic, observer) to ``notify`` for each; ``monotonic`` is the
    engine's CLOCK_MONOTONIC time of the event, comparable across OS
    processes of one machine. call "ping" -> "pong"."""

    def init(self, notify: Any) -> None:
        node = self.node
        observer = node.id

        def forward(event: dict[str, Any]) -> None:
            notify.send(("node_event", event["type"], event["node"], event.get("reason"),
                         event["monotonic"], observer))

        self.unsubscribe = [node.on("node_up", forward), node.on("node_down", forward)]

    def handle_call(self, request: Any, caller: Any) -> Any:
        return "pong"

    def terminate(self, reason: Any) -> None:
        for unsubscribe in self.unsubscribe:
            unsubscribe()


#: PROBE is the shared Python probe (helpers.Probe), registered by name here.
BEHAVIORS = {PROBE: Probe, ECHO: Echo, SEQ: SeqChecker, LINKER: Linker, RELAY: Relay,
             SLEEPER: Sleeper, BUSY: Busy, NODE_WATCH: NodeWatch}


def _register() -> None:
    registered = set(noexpp.behaviors()) if callable(getattr(noexpp, "behaviors", None)) else set()
    for name, cls in BEHAVIORS.items():
        if name in registered:
            continue
        try:
            noexpp.register_behavior(name, cls)
        except noexpp.DuplicateNameError:
            pass  # imported twice under different module names


_register()
