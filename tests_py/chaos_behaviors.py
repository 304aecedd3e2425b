"""Behaviors of the chaos test (test_chaos.py), imported by its node
processes (``LocalCluster(modules=["chaos_behaviors"])``).

Each node process runs one ``chaos.agent`` (spawned by the controller under
the local name ``chaos_agent``). Its ``setup`` call starts the node's
supervisor tree (permanent ``chaos.worker`` children), spawns a few
``chaos.holder`` processes and registers a global name for each; its
``report`` call answers what the controller checks after the chaos.
Everything crosses the wire as Terms: the controller runs in another OS
process.
"""
from __future__ import annotations

import threading
import time
from typing import Any

import noexpp

__all__ = ["AGENT", "AGENT_NAME", "HOLDER", "WORKER", "global_name", "worker_ids"]

AGENT = "chaos.agent"
WORKER = "chaos.worker"
HOLDER = "chaos.holder"
#: The local name of the agent on every node.
AGENT_NAME = "chaos_agent"


def worker_ids(count: int) -> list[str]:
    """The child ids of a node's supervisor."""
    return [f"w{i}" for i in range(1, count + 1)]


def global_name(node_name: str, k: int) -> str:
    """The k-th global name a node registers (same for every incarnation)."""
    return f"chaos.{node_name}.{k}"


@noexpp.behavior(WORKER)
class ChaosWorker(noexpp.GenServer):
    """A supervised child: call "ping" -> "pong"; call "crash" raises."""

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "crash":
            raise RuntimeError("chaos: crash requested")
        return "pong"


@noexpp.behavior(HOLDER)
class ChaosHolder(noexpp.GenServer):
    """Holds a global name: call "ping" -> "pong"."""

    def handle_call(self, request: Any, caller: Any) -> Any:
        return "pong"


@noexpp.behavior(AGENT)
class ChaosAgent(noexpp.GenServer):
    """The node's side of the chaos test (see the module docstring)."""

    def init(self) -> None:
        self.sup: Any = None
        self.holders: dict[str, Any] = {}

    def handle_call(self, request: Any, caller: Any) -> Any:
        if isinstance(request, tuple) and request and request[0] == "setup":
            _, workers, names, deadline_s = request
            return self._setup(int(workers), int(names), float(deadline_s))
        if request == "report":
            return self._report()
        raise ValueError(f"chaos.agent: unknown call {request!r}")

    def _setup(self, workers: int, names: int, within: float) -> dict[str, Any]:
        node = self.node
        node_name = node.id.split("@")[0]
        specs = [noexpp.ChildSpec(i, WORKER, restart="permanent", shutdown=2.0)
                 for i in worker_ids(workers)]
        # Crashes are injected on purpose: the intensity never stops it.
        self.sup = node.start_supervisor(children=specs, strategy="one_for_one",
                                         max_restarts=10_000, within=1.0)
        errors: list[str] = []
        for k in range(1, names + 1):
            name = global_name(node_name, k)
            holder = node.spawn(HOLDER)
            self.holders[name] = holder
            # The deciding member may be frozen or cut off right now, or not
            # yet know that an earlier incarnation of this node died: retry.
            deadline = time.monotonic() + within
            while True:
                try:
                    node.global_registry.register(name, holder, timeout=2.0)
                    break
                except (noexpp.DuplicateNameError, noexpp.NodeDown,
                        noexpp.CallTimeout) as e:
                    if time.monotonic() >= deadline:
                        errors.append(f"{name}: {type(e).__name__}: {e}")
                        break
                    threading.Event().wait(0.1)
        return {"holders": dict(self.holders), "errors": errors,
                "process_count": node.process_count()}

    def _report(self) -> dict[str, Any]:
        node = self.node
        registry = node.global_registry
        names = {}
        for name in registry.names():
            names[name] = registry.whereis(name)
        children = []
        running = self.sup is not None and self.sup.is_running
        if running:
            for c in self.sup.which_children():
                children.append((c.id, c.ref, c.restart_count, c.status,
                                 c.ref is not None and c.ref.alive))
        return {"names": names, "children": children, "sup_running": running,
                "process_count": node.process_count(),
                "holders_alive": {n: h.alive for n, h in self.holders.items()}}
