"""Behaviors for the backpressure tests (test_backpressure.py), registered by
name at import.

Importable by node OS processes (``LocalCluster(modules=["backpressure_behaviors"])``)
as well as by the test interpreter (in-process nodes share this module), so
everything is addressed by Refs and by names, never by Python objects of the
test. Gates and counters live at module level, keyed by a name the test
chooses, so a second process on the same node can open a gate or read a
count while the gated or busy process cannot answer.

Names all start with ``bp.``.
"""
from __future__ import annotations

import threading
import time
from typing import Any

import noexpp

__all__ = ["FLOODER", "GATE", "GATED_COUNTER", "PEEK", "SLOW_RECEIVER", "gate"]

GATED_COUNTER = "bp.gated_counter"
GATE = "bp.gate"
SLOW_RECEIVER = "bp.slow_receiver"
FLOODER = "bp.flooder"
PEEK = "bp.peek"

#: Upper bound for a gated handler's wait: a forgotten gate never hangs a node.
GATE_BOUND = 120.0

_lock = threading.Lock()
_gates: dict[str, threading.Event] = {}
_received: dict[str, int] = {}


def gate(name: str) -> threading.Event:
    """The gate called ``name`` in this interpreter (created closed)."""
    with _lock:
        return _gates.setdefault(name, threading.Event())


@noexpp.behavior(GATED_COUNTER)
class GatedCounter(noexpp.GenServer):
    """init(gate_name=None). Counts every cast and send; the first one
    waits (in the handler) until the gate ``gate_name`` opens, so the
    mailbox fills behind it. No gate when None. call "count" -> the count."""

    def init(self, gate_name: str | None = None) -> None:
        self.gate_name = gate_name
        self.count = 0

    def handle_cast(self, request: Any) -> None:
        self._got()

    def handle_info(self, message: Any) -> None:
        self._got()

    def _got(self) -> None:
        self.count += 1
        if self.count == 1 and self.gate_name is not None:
            gate(self.gate_name).wait(GATE_BOUND)

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "count":
            return self.count
        if request == "ping":
            return "pong"
        raise ValueError(f"bp.gated_counter: unknown call {request!r}")


@noexpp.behavior(GATE)
class GateKeeper(noexpp.GenServer):
    """call ("open", name) opens the gate ``name`` of its node -> "opened";
    "ping" -> "pong"."""

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "ping":
            return "pong"
        if isinstance(request, tuple) and len(request) == 2 and request[0] == "open":
            gate(request[1]).set()
            return "opened"
        raise ValueError(f"bp.gate: unknown call {request!r}")


def _busy(work: int) -> int:
    """A little CPU work (pure Python, holds the GIL)."""
    total = 0
    for i in range(work):
        total += i * i
    return total


@noexpp.behavior(SLOW_RECEIVER)
class SlowReceiver(noexpp.GenServer):
    """init(label, work=400). Each cast costs ``work`` loop steps of CPU
    (slower than a caster), then is counted, also under ``label`` at module
    level (read by a bp.peek process while this one is busy). call "count"
    -> the count (it answers only after the casts queued before it)."""

    def init(self, label: str, work: int = 400) -> None:
        self.label = label
        self.work = work
        self.count = 0

    def handle_cast(self, request: Any) -> None:
        _busy(self.work)
        self.count += 1
        _received[self.label] = self.count

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "count":
            return self.count
        raise ValueError(f"bp.slow_receiver: unknown call {request!r}")


@noexpp.behavior(PEEK)
class Peek(noexpp.GenServer):
    """call ("received", label) -> how many casts the bp.slow_receiver
    labelled ``label`` on this node has handled so far (answers at once)."""

    def handle_call(self, request: Any, caller: Any) -> Any:
        if isinstance(request, tuple) and len(request) == 2 and request[0] == "received":
            return _received.get(request[1], 0)
        raise ValueError(f"bp.peek: unknown call {request!r}")


@noexpp.behavior(FLOODER)
class Flooder(noexpp.GenServer):
    """cast ("flood", target, seconds, size): casts ("work", i, <size
    bytes>) to ``target`` as fast as it can for ``seconds`` (in the handler); a cast refused with
    Overloaded / MailboxFull is counted and the next one tried. call
    "stats" -> (sent, overloaded, mailbox_full, seconds it flooded); it
    queues behind a flood under way, so it answers once the flood is over."""

    def init(self) -> None:
        self.sent = 0
        self.overloaded = 0
        self.mailbox_full = 0
        self.elapsed = 0.0

    def handle_cast(self, request: Any) -> None:
        op, target, seconds, size = request
        if op != "flood":
            raise ValueError(f"bp.flooder: unknown cast {request!r}")
        payload = b"f" * size
        start = time.monotonic()
        deadline = start + seconds
        i = 0
        while time.monotonic() < deadline:
            try:
                target.cast(("work", i, payload))
            except noexpp.MailboxFull:
                self.mailbox_full += 1
                continue
            except noexpp.Overloaded:
                self.overloaded += 1
                continue
            self.sent += 1
            i += 1
        self.elapsed = time.monotonic() - start

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "stats":
            return (self.sent, self.overloaded, self.mailbox_full, self.elapsed)
        raise ValueError(f"bp.flooder: unknown call {request!r}")
