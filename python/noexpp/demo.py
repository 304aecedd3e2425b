"""``python -m noexpp demo``: a short tour of one node.

A few GenServers, calls and casts, a deferred reply, a timer, a crash seen
through a monitor, and a supervisor that brings crashed children back (a
Python one and the built-in C++ "noexpp.probe").
"""
from __future__ import annotations

import queue
from typing import Any

from .errors import ProcessCrashed
from .gen_server import GenServer, NoReply
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
        except Exception as exc:  # ProcessCrashed
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
                try:
                    before.call("explode")  # Counter raises ValueError: the process crashes
                except ProcessCrashed:
                    pass
            else:
                before.cast("crash")  # the C++ probe throws std::runtime_error
            event = restarted.get(timeout=5)
            after = node.whereis(name)
            out(f"  child {event['child_id']!r} crashed and was restarted (attempt {event['attempt']}): "
                f"{before!r} -> {after!r}, answers get -> {after.call('get') if after else None}")
        unsubscribe()
        stats = sup.stats()
        out(f"  supervisor health {stats['health']}, total restarts {stats['total_restarts']}")
        sup.stop()
    out("node stopped; demo done")
    return 0
