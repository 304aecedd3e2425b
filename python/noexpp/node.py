"""Node: where processes run."""
from __future__ import annotations

import atexit
import threading
import weakref
from typing import Any, Callable, NamedTuple

from . import _core
from .errors import NodeStopped
from .gen_server import GenServer, _check_behavior_class, _check_ref
from .ref import Ref
from .supervisor import Backoff, ChildSpec, Supervisor, SupervisorSpec, _event_callback, _start

__all__ = ["Node", "ProcessInfo", "NodeInfo"]


class ProcessInfo(NamedTuple):
    """One local process: its ref, registered name ('' if none) and behavior."""

    ref: Ref
    name: str
    behavior: str


class NodeInfo(NamedTuple):
    """A member of the cluster as this node sees it."""

    id: str
    status: str
    process_count: int


_live: weakref.WeakSet[Node] = weakref.WeakSet()
_wrappers: weakref.WeakValueDictionary[int, Node] = weakref.WeakValueDictionary()
_lock = threading.Lock()


def _parse_listen(listen: str) -> tuple[str, int]:
    if not isinstance(listen, str):
        raise TypeError(f"listen must be a 'host:port' str, not {type(listen).__name__}")
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"listen must look like '127.0.0.1:4370' (port 0 = any free port), got {listen!r}")
    return host, int(port)


class Node:
    """A noexpp node: engine threads, processes, timers and a local registry.

    The node starts when created; use it as a context manager (or call
    :meth:`stop`) to stop every process in order and free its threads.
    """

    def __init__(self, name: str, listen: str = "127.0.0.1:0", cookie: str | None = None,
                 seeds: list[str] | None = None, threads: int = 2) -> None:
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, not {type(name).__name__}")
        if not name or "@" in name or ":" in name:
            raise ValueError(f"name must be non-empty, without '@' or ':', got {name!r}")
        host, port = _parse_listen(listen)
        if isinstance(threads, bool) or not isinstance(threads, int):
            raise TypeError(f"threads must be an int, not {type(threads).__name__}")
        if not 1 <= threads <= 256:
            raise ValueError(f"threads must be between 1 and 256, got {threads}")
        if cookie is not None and not isinstance(cookie, str):
            raise TypeError(f"cookie must be a str, not {type(cookie).__name__}")
        if seeds:
            raise NotImplementedError("joining a cluster (seeds) is not available yet in this version")
        self._cookie = cookie
        self._core = _core.Node(name, host, port, threads)
        self._core.start()
        with _lock:
            _live.add(self)
            _wrappers[id(self._core)] = self

    @classmethod
    def _wrap(cls, core: Any) -> Node:
        node = _wrappers.get(id(core))
        if node is None:
            raise NodeStopped("this node's Python object is gone")
        return node

    # ---- lifecycle -----------------------------------------------------
    @property
    def id(self) -> str:
        """``name@host:port``."""
        return str(self._core.id)

    @property
    def running(self) -> bool:
        return bool(self._core.running)

    def start(self) -> Node:
        """Starts the node (it already runs once created; kept for symmetry)."""
        self._core.start()
        return self

    def stop(self, grace: float = 5.0) -> None:
        """Stops every process (newest first, ``terminate`` called), waiting up
        to ``grace`` seconds, then the engine threads. Idempotent."""
        self._core.stop(grace)

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<noexpp.Node {self.id} {state}, {self._core.process_count()} processes>"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{p.ref!r}</td><td>{p.name}</td><td>{p.behavior}</td></tr>"
            for p in self.processes()[:50]
        )
        return (f"<b>noexpp.Node</b> <code>{self.id}</code> "
                f"({'running' if self.running else 'stopped'})"
                f"<table><tr><th>ref</th><th>name</th><th>behavior</th></tr>{rows}</table>")

    # ---- processes -----------------------------------------------------
    def spawn(self, behavior: type[GenServer] | str, *args: Any, name: str | None = None,
              link: Ref | None = None) -> Ref:
        """Starts a process running ``behavior`` (a GenServer subclass or a
        registered behavior name) with ``init(*args)``; returns its Ref once
        init has returned. Raises InitError if init raised."""
        if not isinstance(behavior, str):
            _check_behavior_class(behavior)
        if name is not None and (not isinstance(name, str) or not name):
            raise TypeError("name must be a non-empty str or None")
        if link is not None:
            _check_ref(link)
        self._check_running()
        return self._core.spawn(behavior, args, name or "", link)

    def whereis(self, name: str) -> Ref | None:
        """The process registered locally as ``name``, or None."""
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, not {type(name).__name__}")
        return self._core.whereis(name)

    def monitor(self, ref: Ref, callback: Callable[[Ref, Any], None]) -> int:
        """Calls ``callback(ref, reason)`` once when ``ref`` exits (at once with
        reason noproc if it is not alive). Runs on an engine thread."""
        _check_ref(ref)
        if not callable(callback):
            raise TypeError("callback must be callable")
        return int(self._core.monitor(ref, callback))

    def demonitor(self, ref: Ref, monitor: int) -> None:
        _check_ref(ref)
        self._core.demonitor(ref, monitor)

    def processes(self) -> list[ProcessInfo]:
        """The local processes, oldest first."""
        return [ProcessInfo(*p) for p in self._core.processes()]

    def process_count(self) -> int:
        return int(self._core.process_count())

    # ---- supervision ---------------------------------------------------
    def start_supervisor(self, children: list[ChildSpec] | tuple[ChildSpec, ...] = (),
                         strategy: str = "one_for_one", max_restarts: int = 3, within: float = 5.0,
                         backoff: Backoff | None = None,
                         decider: Callable[[str, str, str], str] | None = None,
                         auto_shutdown: str = "never", child_template: ChildSpec | None = None,
                         name: str | None = None, link: Ref | None = None) -> Supervisor:
        """Starts a supervisor and its children (in list order) and returns it
        once every child's ``init`` has returned.

        strategy: one_for_one, one_for_all, rest_for_one or
        simple_one_for_one (children from ``child_template``, started with
        ``start_child(args)``). More than ``max_restarts`` restarts within
        ``within`` seconds stops it (children in reverse order). ``backoff``
        spaces consecutive restarts of a child. ``decider(child_id, exc_type,
        message)`` returns "resume", "restart", "stop" or "escalate" when a
        child's handler raises. ``auto_shutdown`` ("any_significant" /
        "all_significant") stops it when significant children end. ``name``
        registers it locally; ``link`` links it to that process.

        Raises InitError naming the child if a child's init fails (the
        children already started are stopped in reverse order).
        """
        spec = SupervisorSpec(children, strategy=strategy, max_restarts=max_restarts, within=within,
                              backoff=backoff, decider=decider, auto_shutdown=auto_shutdown,
                              child_template=child_template, name=name)
        if link is not None:
            _check_ref(link)
        self._check_running()
        return _start(self, spec, link)

    def on_lifecycle_event(self, callback: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Calls ``callback(event)`` for every lifecycle event of this node, in
        order, on an engine thread. An event is a dict with ``type``
        (supervisor_started, child_started, child_stopped, child_restarted,
        child_start_failed, child_resumed, restart_intensity_exceeded,
        supervisor_stopped), ``timestamp`` (wall clock), ``monotonic`` and the
        fields of that type (supervisor, child_id, pid, reason, attempt...).
        Returns a function that unsubscribes."""
        if not callable(callback):
            raise TypeError("callback must be callable")
        sub = _core.subscribe_lifecycle(self._core, _event_callback(callback))
        core = self._core

        def unsubscribe() -> None:
            _core.unsubscribe_lifecycle(core, sub)
        return unsubscribe

    def nodes(self) -> list[NodeInfo]:
        """Cluster members; for now, this node only."""
        return [NodeInfo(self.id, "up" if self.running else "down", self.process_count())]

    def _check_running(self) -> None:
        if not self.running:
            raise NodeStopped(f"node {self.id} is stopped")


@atexit.register
def _stop_all_nodes() -> None:
    # Engine threads must not outlive the interpreter's ability to run Python.
    for node in list(_live):
        node.stop(grace=1.0)
