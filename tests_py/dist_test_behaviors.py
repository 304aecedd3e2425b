"""Behaviors for the remote spawn, behavior registry and global registry
suites (test_remote_spawn.py, test_behavior_registry.py,
test_global_registry.py).

Importable by node OS processes (``LocalCluster(modules=["dist_test_behaviors"])``
runs ``python -m noexpp node --import dist_test_behaviors``) as well as by
the test interpreter. The behaviors register themselves at import, some with
``noexpp.register_behavior`` and some with ``@noexpp.behavior``, and report
through Refs they are given (location transparent), never through Python
objects of the test. Names all start with ``dist_test.``.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Any

import noexpp
from helpers import tell

__all__ = [
    "ARGS", "BEHAVIORS", "FAILING", "GATED", "INTROSPECT", "NAMED", "SLOW", "SPAWNER",
    "gate", "release_gate",
]

ARGS = "dist_test.args"
FAILING = "dist_test.failing"
SLOW = "dist_test.slow_init"
GATED = "dist_test.gated_init"
NAMED = "dist_test.named"
SPAWNER = "dist_test.spawner"
INTROSPECT = "dist_test.introspect"

#: init's error message of FAILING (the test checks it travels back).
FAILING_MESSAGE = "refusing to start with"


class ArgsEcho(noexpp.GenServer):
    """init(*args) keeps its arguments: call "args" -> the args tuple as
    received, "node" -> the node id it runs on, "pid" -> its OS process id,
    ("add", n) -> running total (starts at args[0] when it is an int).
    Sends ("up", self) to args[1] when that is a Ref."""

    def init(self, *args: Any) -> None:
        self.args = args
        self.total = args[0] if args and isinstance(args[0], int) and not isinstance(args[0], bool) else 0
        if len(args) > 1 and isinstance(args[1], noexpp.Ref):
            args[1].send(("up", self.ref))

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "args":
            return self.args
        if request == "node":
            return self.node.id
        if request == "pid":
            return os.getpid()
        if isinstance(request, tuple) and len(request) == 2 and request[0] == "add":
            self.total += request[1]
            return self.total
        return request


@noexpp.behavior(FAILING)
class FailingInit(noexpp.GenServer):
    """init(what) raises ValueError(f"refusing to start with {what!r}")."""

    def init(self, what: Any = None) -> None:
        raise ValueError(f"{FAILING_MESSAGE} {what!r}")


class SlowInit(noexpp.GenServer):
    """init(seconds, notify=None): sends ("init_started", node id, OS pid) to
    ``notify``, blocks ``seconds`` in time.sleep (the behaviour under test:
    an init longer than the spawner's timeout), then sends ("init_done",
    self). terminate sends ("terminated", self, str(reason)). call "ping"."""

    def init(self, seconds: float, notify: Any = None) -> None:
        self.notify = notify
        tell(notify, ("init_started", self.node.id, os.getpid()))
        time.sleep(seconds)
        tell(notify, ("init_done", self.ref))

    def handle_call(self, request: Any, caller: Any) -> Any:
        return "pong"

    def terminate(self, reason: Any) -> None:
        tell(self.notify, ("terminated", self.ref, str(reason)))


# In-process gates: GatedInit blocks in init until the test releases its gate
# (in-process nodes only: a gate is a threading.Event of this interpreter).
_gates: dict[str, threading.Event] = {}
_gates_lock = threading.Lock()


def gate(token: str) -> threading.Event:
    """The gate named ``token`` (created on first use)."""
    with _gates_lock:
        return _gates.setdefault(token, threading.Event())


def release_gate(token: str) -> None:
    gate(token).set()


class GatedInit(noexpp.GenServer):
    """init(token, notify=None): sends ("init_started", self) to ``notify``,
    waits (at most 30 s) until the test releases gate ``token``, then sends
    ("init_done", self). terminate sends ("terminated", self, str(reason))."""

    def init(self, token: str, notify: Any = None) -> None:
        self.notify = notify
        tell(notify, ("init_started", self.ref))
        if not gate(token).wait(30.0):
            raise RuntimeError(f"gate {token} was never released")
        tell(notify, ("init_done", self.ref))

    def handle_call(self, request: Any, caller: Any) -> Any:
        return "pong"

    def terminate(self, reason: Any) -> None:
        tell(self.notify, ("terminated", self.ref, str(reason)))


@noexpp.behavior(NAMED)
class Named(noexpp.GenServer):
    """A process that holds a global name: init(notify=None, tag=None).
    Forwards every handle_info message to ``notify`` as ("info", self, tag,
    message); terminate sends ("terminated", self, tag, str(reason)).
    call "ping" -> "pong", "tag" -> tag, "node" -> its node id,
    ("register", name, on_conflict) registers itself globally from its own
    node -> "ok" or ("error", exception type name, message),
    ("whereis", name) -> the Ref its node's replica has, "names" -> the
    replica's names; cast "crash" raises."""

    def init(self, notify: Any = None, tag: Any = None) -> None:
        self.notify = notify
        self.tag = tag

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "ping":
            return "pong"
        if request == "tag":
            return self.tag
        if request == "node":
            return self.node.id
        if request == "names":
            return self.node.global_registry.names()
        if isinstance(request, tuple) and request[0] == "register":
            try:
                self.node.global_registry.register(request[1], self.ref, on_conflict=request[2])
            except noexpp.NoexppError as e:
                return ("error", type(e).__name__, str(e))
            return "ok"
        if isinstance(request, tuple) and request[0] == "whereis":
            return self.node.global_registry.whereis(request[1])
        raise ValueError(f"named: unknown call {request!r}")

    def handle_cast(self, request: Any) -> None:
        if request == "crash":
            raise RuntimeError("crash requested")

    def handle_info(self, message: Any) -> None:
        tell(self.notify, ("info", self.ref, self.tag, message))

    def terminate(self, reason: Any) -> None:
        tell(self.notify, ("terminated", self.ref, self.tag, str(reason)))


class Spawner(noexpp.GenServer):
    """Spawns from inside a node (node-to-node remote spawn, no controller
    involved): call ("spawn_remote", node_id, behavior, args, name, timeout)
    -> ("ok", ref) or ("error", exception type name, message)."""

    def handle_call(self, request: Any, caller: Any) -> Any:
        op, node_id, behavior, args, name, timeout = request
        if op != "spawn_remote":
            raise ValueError(request)
        try:
            ref = self.node.spawn_remote(node_id, behavior, *args, name=name, timeout=timeout)
        except noexpp.NoexppError as e:
            return ("error", type(e).__name__, str(e))
        return ("ok", ref)


@noexpp.behavior(INTROSPECT)
class Introspect(noexpp.GenServer):
    """What the node's OS process looks like: call "behaviors" ->
    noexpp.behaviors() there, "pid" -> its OS process id."""

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "behaviors":
            return noexpp.behaviors()
        if request == "pid":
            return os.getpid()
        raise ValueError(request)


BEHAVIORS: dict[str, type[noexpp.GenServer]] = {
    ARGS: ArgsEcho, FAILING: FailingInit, SLOW: SlowInit, GATED: GatedInit, NAMED: Named,
    SPAWNER: Spawner, INTROSPECT: Introspect,
}

# The decorated ones registered themselves above; these register here.
for _name in (ARGS, SLOW, GATED, SPAWNER):
    noexpp.register_behavior(_name, BEHAVIORS[_name])
