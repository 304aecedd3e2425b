"""Behaviors of the soak test (test_soak.py), imported by its node processes
(``LocalCluster(modules=["soak_behaviors"])``).

Each node process runs one ``soak.driver`` (spawned by the controller under
the local name ``soak_driver``). Its ``setup`` call starts what the traffic
needs on this node (a timer process, a supervisor of one crashing worker)
and, on every peer, a Python echo and a C++ ``noexpp.probe`` that only this
driver sends to, so it can check that each of its messages arrived exactly
once. Its ``start`` call runs the traffic in a thread of the node process
for a number of seconds, round after round:

- remote calls to each peer's echo (every answer checked);
- casts to each peer's echo and probe, then a call that answers only after
  them: the count must be exactly what was sent;
- a short-lived process spawned on each peer: monitored, called, stopped
  (its DOWN must come), and another one linked from a local process that
  traps exits, then crashed (its EXIT must come);
- a monitor of a peer's echo taken and dropped at once;
- a global name registered, looked up and unregistered;
- short-lived local processes;
- the local supervisor's worker crashed and restarted;
- timers armed (and one cancelled) on the local timer process, every tick
  counted.

Every wait is bounded (``WAIT``). Counts and errors are kept in module
globals of the node process (behaviors and the driver thread share them)
and read by the ``report`` call; everything crosses the wire as Terms.

``NOEXPP_SOAK_LEAK_BYTES`` (for checking the soak itself): the driver keeps
that many bytes per message it sends, for good: a leak the test must catch.
"""
from __future__ import annotations

import collections
import os
import threading
import time
from typing import Any

import noexpp

__all__ = ["DRIVER", "DRIVER_NAME", "ECHO", "LINKER", "TIMER", "WORKER"]

DRIVER = "soak.driver"
ECHO = "soak.echo"
LINKER = "soak.linker"
TIMER = "soak.timer"
WORKER = "soak.worker"
SINK = "noexpp.probe"  # the C++ behavior of the bindings: cast "inc", call "get"
#: The local name of the driver on every node.
DRIVER_NAME = "soak_driver"

#: Bound of every wait inside a round (a call, a DOWN, a restart, ticks).
WAIT = 10.0
CALLS_PER_PEER = 10
CASTS_PER_PEER = 200        # to the C++ probe
ECHO_CASTS_PER_PEER = 40    # to the Python echo
LOCAL_SPAWNS = 3
TICKS = 5
PAYLOAD = "x" * 200

_LEAK_BYTES = int(os.environ.get("NOEXPP_SOAK_LEAK_BYTES") or 0)
_leaked: list[bytes] = []

_cond = threading.Condition()
_counts: collections.Counter[str] = collections.Counter()


def note(kind: str, n: int = 1) -> None:
    """Counts ``n`` events of ``kind`` in this node process."""
    with _cond:
        _counts[kind] += n
        _cond.notify_all()


def wait_count(kind: str, at_least: int, timeout: float = WAIT) -> bool:
    """Waits (bounded) until ``kind`` has been counted ``at_least`` times."""
    with _cond:
        return _cond.wait_for(lambda: _counts[kind] >= at_least, timeout)


def count(kind: str) -> int:
    with _cond:
        return _counts[kind]


@noexpp.behavior(ECHO)
class SoakEcho(noexpp.GenServer):
    """call ("echo", x) -> x; cast ("count", n) adds n; call "casts" -> the
    sum (answered after every cast queued before it); call "stop" stops it
    normally; call "crash" raises."""

    def init(self) -> None:
        self.casts = 0

    def handle_call(self, request: Any, caller: Any) -> Any:
        if isinstance(request, tuple) and len(request) == 2 and request[0] == "echo":
            return request[1]
        if request == "casts":
            return self.casts
        if request == "stop":
            self.stop("normal")
            return "stopping"
        if request == "crash":
            raise RuntimeError("soak: crash requested")
        raise ValueError(f"soak.echo: unknown call {request!r}")

    def handle_cast(self, request: Any) -> None:
        _, n = request
        self.casts += int(n)


@noexpp.behavior(LINKER)
class SoakLinker(noexpp.GenServer):
    """init(target): traps exits and links to ``target``; each Exit is
    counted as "exit". call "stop" stops it."""

    def init(self, target: Any) -> None:
        self.trap_exit(True)
        self.link(target)

    def handle_info(self, message: Any) -> None:
        if isinstance(message, noexpp.Exit):
            note("exit")

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "stop":
            self.stop("normal")
            return "stopping"
        raise ValueError(f"soak.linker: unknown call {request!r}")


@noexpp.behavior(TIMER)
class SoakTimer(noexpp.GenServer):
    """call ("arm", n): arms n short timers that each count a "tick", and one
    more that it cancels at once (a cancelled timer must never fire)."""

    def handle_call(self, request: Any, caller: Any) -> Any:
        _, n = request
        for i in range(int(n)):
            self.send_after(0.001 * (i + 1), "tick")
        cancelled = self.send_after(0.002, "cancelled")
        if not self.cancel_timer(cancelled):
            note("error:cancel_timer")
        return "armed"

    def handle_info(self, message: Any) -> None:
        note("tick" if message == "tick" else "error:timer_fired_after_cancel")


@noexpp.behavior(WORKER)
class SoakWorker(noexpp.GenServer):
    """A supervised child: call "ping" -> "pong"; call "crash" raises."""

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "crash":
            raise RuntimeError("soak: worker crash requested")
        return "pong"


@noexpp.behavior(DRIVER)
class SoakDriver(noexpp.GenServer):
    """The node's side of the soak (see the module docstring). Calls:
    "setup" -> {"echo": its local echo, "process_count": n}; ("targets",
    peers) with peers the other nodes' ids: spawns this driver's echo and
    probe on each; ("start", seconds) runs the traffic in a thread; "report"
    -> the counts and errors so far; "stop" ends the traffic (bounded) and
    reports."""

    def init(self) -> None:
        # Kept for the traffic thread (the handlers' helpers are for handlers).
        self._node: noexpp.Node = self.node
        self.sup: Any = None
        self.timer: Any = None
        self.echo: Any = None
        self.peers: list[tuple[str, Any, Any]] = []   # (node id, echo, probe)
        self.thread: threading.Thread | None = None
        self.halt = threading.Event()
        self.errors: list[str] = []
        self.sent: collections.Counter[str] = collections.Counter()

    def handle_call(self, request: Any, caller: Any) -> Any:
        op = request[0] if isinstance(request, tuple) else request
        if op == "setup":
            return self._setup()
        if op == "targets":
            return self._targets(list(request[1]))
        if op == "start":
            self.thread = threading.Thread(target=self._run, args=(float(request[1]),),
                                           name="soak-driver", daemon=True)
            self.thread.start()
            return "started"
        if op == "report":
            return self._report()
        if op == "stop":
            self.halt.set()
            if self.thread is not None:
                self.thread.join(WAIT * 3)
            return self._report()
        raise ValueError(f"soak.driver: unknown call {request!r}")

    # ---- setup -------------------------------------------------------------
    def _setup(self) -> dict[str, Any]:
        node = self.node
        self.echo = node.spawn(ECHO)
        self.timer = node.spawn(TIMER)
        # The worker is crashed on purpose every round: no intensity stop.
        self.sup = node.start_supervisor(
            children=[noexpp.ChildSpec("worker", WORKER, restart="permanent", shutdown=2.0)],
            strategy="one_for_one", max_restarts=1_000_000, within=1.0)
        return {"echo": self.echo, "process_count": node.process_count()}

    def _targets(self, peer_ids: list[str]) -> int:
        node = self.node
        for peer in peer_ids:
            echo = node.spawn_remote(peer, ECHO, timeout=WAIT)
            probe = node.spawn_remote(peer, SINK, 0, timeout=WAIT)
            self.peers.append((peer, echo, probe))
        return int(node.process_count())

    def _report(self) -> dict[str, Any]:
        with _cond:
            counts = dict(_counts)
        return {"counts": counts, "sent": dict(self.sent), "errors": list(self.errors[-20:]),
                "error_count": len(self.errors),
                "running": self.thread is not None and self.thread.is_alive(),
                "process_count": self.node.process_count(),
                "sinks": {peer: (self.sent[f"cast:{peer}"], self.sent[f"echo_cast:{peer}"])
                          for peer, _, _ in self.peers}}

    # ---- the traffic -----------------------------------------------------------
    def _sent(self, kind: str, n: int = 1) -> None:
        self.sent[kind] += n
        if _LEAK_BYTES:
            _leaked.extend(bytes(_LEAK_BYTES) for _ in range(n))

    def _error(self, what: str) -> None:
        self.errors.append(f"{time.monotonic():.3f} {what}")

    def _run(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        me = self._node.id.split("@")[0]
        pace = threading.Event()  # never set: a bounded pause between rounds
        rounds = 0
        while not self.halt.is_set() and time.monotonic() < deadline:
            try:
                self._round(me, rounds)
            except Exception as e:  # noqa: BLE001 - every failure is reported
                self._error(f"round {rounds}: {type(e).__name__}: {e}")
            rounds += 1
            note("round")
            pace.wait(0.002)  # leave the shared CPUs some air

    def _round(self, me: str, r: int) -> None:
        node = self._node
        for peer, echo, probe in self.peers:
            for i in range(CALLS_PER_PEER):
                value = (me, r, i, PAYLOAD)
                self._sent("call")
                got = echo.call(("echo", value), timeout=WAIT)
                if got != value:
                    self._error(f"echo from {peer} answered {got!r} to {value!r}")
                else:
                    note("call_ok")
            for _ in range(CASTS_PER_PEER):
                probe.cast("inc")
            self._sent("cast", CASTS_PER_PEER)
            self._sent(f"cast:{peer}", CASTS_PER_PEER)
            for _ in range(ECHO_CASTS_PER_PEER):
                echo.cast(("count", 1))
            self._sent("cast", ECHO_CASTS_PER_PEER)
            self._sent(f"echo_cast:{peer}", ECHO_CASTS_PER_PEER)
            # The answers come after the casts: nothing piles up between rounds.
            self._check_sink(peer, probe.call("get", timeout=WAIT), self.sent[f"cast:{peer}"],
                             "probe")
            self._check_sink(peer, echo.call("casts", timeout=WAIT),
                             self.sent[f"echo_cast:{peer}"], "echo")
            self._short_lived_remote(peer)
            mon = node.monitor(echo, self._unexpected_down)
            node.demonitor(echo, mon)
            self._sent("monitor")
        self._global_name(me, r)
        for _ in range(LOCAL_SPAWNS):
            ref = node.spawn(ECHO)
            self._sent("local_call")
            if ref.call(("echo", r), timeout=WAIT) != r:
                self._error("a local echo answered wrongly")
            ref.call("stop", timeout=WAIT)
            note("local_spawn")
        self._restart_worker()
        self._timers()

    def _check_sink(self, peer: str, got: Any, sent: int, what: str) -> None:
        if got != sent:
            self._error(f"{what} on {peer} counted {got} casts of {sent} sent")
        else:
            note("casts_checked")

    def _unexpected_down(self, ref: Any, reason: Any) -> None:
        note("error:demonitored_down_fired")

    def _short_lived_remote(self, peer: str) -> None:
        node = self._node
        downs = count("down")
        ref = node.spawn_remote(peer, ECHO, timeout=WAIT)
        self._sent("spawn")
        node.monitor(ref, lambda _ref, _reason: note("down"))
        if ref.call(("echo", 1), timeout=WAIT) != 1:
            self._error(f"a short-lived echo on {peer} answered wrongly")
        ref.call("stop", timeout=WAIT)
        if not wait_count("down", downs + 1):
            self._error(f"no DOWN from a stopped process on {peer}")
        # A link across nodes: the crash reaches the trapping linker as an EXIT.
        exits = count("exit")
        target = node.spawn_remote(peer, ECHO, timeout=WAIT)
        linker = node.spawn(LINKER, target)
        self._sent("spawn", 2)
        try:
            target.call("crash", timeout=WAIT)
            self._error(f"a crash call on {peer} returned")
        except noexpp.ProcessCrashed:
            pass
        if not wait_count("exit", exits + 1):
            self._error(f"no EXIT from a crashed linked process on {peer}")
        linker.call("stop", timeout=WAIT)
        note("link_exit")

    def _global_name(self, me: str, r: int) -> None:
        registry = self._node.global_registry
        name = f"soak.{me}.{r}"
        registry.register(name, self.echo, timeout=WAIT)
        self._sent("global")
        if registry.whereis(name) != self.echo:
            self._error(f"global name {name} does not resolve to its process")
        if not registry.unregister(name, timeout=WAIT):
            self._error(f"global name {name} was not registered when unregistered")
        note("global_name")

    def _restart_worker(self) -> None:
        before = self.sup.which_children(timeout=WAIT)[0]
        try:
            before.ref.call("crash", timeout=WAIT)
            self._error("the worker's crash call returned")
        except noexpp.ProcessCrashed:
            pass
        self._sent("crash")
        end = time.monotonic() + WAIT
        pause = threading.Event()
        while time.monotonic() < end:
            child = self.sup.which_children(timeout=WAIT)[0]
            restarted = (child.ref is not None and child.ref != before.ref
                         and child.restart_count > before.restart_count)
            if restarted and child.ref.call("ping", timeout=WAIT) == "pong":
                note("restart")
                return
            pause.wait(0.002)
        self._error("the supervisor did not restart its crashed worker")

    def _timers(self) -> None:
        ticks = count("tick")
        self.timer.call(("arm", TICKS), timeout=WAIT)
        self._sent("timer", TICKS + 1)
        if not wait_count("tick", ticks + TICKS):
            self._error(f"only {count('tick') - ticks} of {TICKS} timer ticks came")
