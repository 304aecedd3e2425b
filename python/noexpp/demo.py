"""``python -m noexpp demo``: a short tour of one node.

A few GenServers, calls and casts, a deferred reply, a timer, and a crash
seen through a monitor.
"""
from __future__ import annotations

import queue
from typing import Any

from .gen_server import GenServer, NoReply
from .node import Node

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
    out("node stopped; demo done")
    return 0
