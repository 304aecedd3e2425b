"""Node: where processes run."""
from __future__ import annotations

import atexit
import threading
import weakref
from typing import Any, Callable, NamedTuple

from . import _core, _node_registry
from ._checks import (
    check_callable,
    check_choice,
    check_cluster_options,
    check_node_name,
    check_optional_name,
    check_optional_str,
    check_str,
    check_threads,
    parse_listen,
)
from .distributed_supervisor import (
    DistributedChildSpec,
    DistributedSupervisor,
    DistributedSupervisorSpec,
    NodeSelector,
)
from .distributed_supervisor import _start as _start_distributed
from .errors import NodeDown, NodeStopped
from .gen_server import GenServer, _check_behavior_class
from .global_registry import GlobalRegistry
from .node_info import NodeInfo
from .ref import Ref, _check_ref
from .supervisor import Backoff, ChildSpec, Supervisor, SupervisorSpec, _event_callback, _start
from .tls import TlsConfig, _check_tls

__all__ = ["Node", "NodeInfo", "ProcessInfo"]


class ProcessInfo(NamedTuple):
    """One local process: its ref, registered name ('' if none) and behavior."""

    ref: Ref
    name: str
    behavior: str


#: Every running Node, stopped at interpreter exit.
_live: weakref.WeakSet[Node] = weakref.WeakSet()
_lock = threading.Lock()
#: What Node.on subscribes to.
_NODE_EVENTS = ("node_up", "node_down")


class Node:
    """A noexpp node: engine threads, processes, timers and a local registry.

    The node starts when created; use it as a context manager (or call
    :meth:`stop`) to stop every process in order and free its threads.
    """

    def __init__(self, name: str, listen: str | None = "127.0.0.1:0", cookie: str | None = None,
                 seeds: list[str] | tuple[str, ...] | None = None, threads: int = 2, *,
                 cookie_file: str | None = None, hidden: bool = False,
                 max_message_size: int = 16 * 1024 * 1024, heartbeat_interval: float = 0.2,
                 phi_threshold: float = 8.0, acceptable_pause: float = 0.8,
                 max_send_queue: int = 4 * 1024 * 1024, remote_mailbox_limit: int = 10000,
                 overload_timeout: float = 5.0, tls: TlsConfig | None = None) -> None:
        """Creates and starts a node.

        ``listen`` is ``"host:port"`` (port 0: any free port, shown in
        :attr:`id`); ``None`` makes a local-only node. ``cookie`` is the
        cluster's shared secret; without it the node reads ``cookie_file``
        (default ``$NOEXPP_COOKIE_FILE`` or ``~/.noexpp.cookie``, created
        with mode 0600 when missing). ``seeds`` are node ids to join, retried
        in the background until they answer. A ``hidden`` node (a tool or a
        test controller) is never announced to other members.

        Failure detection: heartbeats every ``heartbeat_interval`` seconds; a
        peer is reported down when the phi-accrual suspicion passes
        ``phi_threshold``, ``acceptable_pause`` being the silence it
        tolerates beyond the usual interval (defaults: about 1.6 s).
        Messages to other nodes are limited to ``max_message_size`` bytes
        encoded (MessageTooLargeError past it).

        Backpressure (docs/cluster.md): a cast or send to another node waits
        while ``max_send_queue`` bytes are queued for that node, or while
        that node said the target's mailbox holds its limit of messages from
        other nodes; after ``overload_timeout`` seconds of waiting it raises
        :class:`Overloaded` or :class:`MailboxFull` (the message was not
        sent). This node tells its senders to wait once one of its mailboxes
        holds ``remote_mailbox_limit`` messages from other nodes, and to go
        on at half that.

        ``tls`` (a :class:`TlsConfig`): every connection of this node,
        accepted and dialled, runs over TLS with both certificates verified
        against the CA, and the cookie is still required. Default None:
        plain TCP. A node with TLS and one without refuse each other
        (:meth:`connect` raises AuthenticationError). Raises
        :class:`TlsConfigError` naming the file when a TLS file is missing,
        unreadable, not PEM, an encrypted key, a key that does not match the
        certificate, or a certificate the CA did not sign.
        """
        check_node_name(name)
        host, port = parse_listen(listen) if listen is not None else ("127.0.0.1", 0)
        check_threads(threads)
        if check_optional_str("cookie", cookie) == "":
            raise ValueError("cookie must not be empty (pass None to read the cookie file)")
        tls_files = _check_tls(tls)
        cluster = None
        if listen is not None:
            cluster = check_cluster_options(cookie, cookie_file, seeds, hidden, max_message_size,
                                            heartbeat_interval, phi_threshold, acceptable_pause,
                                            max_send_queue, remote_mailbox_limit, overload_timeout)
            cluster["tls"] = tls_files
        elif seeds or cookie_file is not None:
            raise ValueError("seeds and cookie_file need a listening node (listen is None)")
        elif tls is not None:
            raise ValueError("tls needs a listening node (listen is None)")
        self._cookie = cookie
        self._tls = tls
        self._global: GlobalRegistry | None = None
        self._core = _core.Node(name, host, port, threads, cluster)
        self._core.start()
        with _lock:
            _live.add(self)
        _node_registry.add(self._core, self)

    # ---- lifecycle -----------------------------------------------------
    @property
    def id(self) -> str:
        """``name@host:port``."""
        return str(self._core.id)

    @property
    def tls(self) -> TlsConfig | None:
        """The node's TLS files, or None: plain TCP (or no listener)."""
        return self._tls

    @property
    def running(self) -> bool:
        """True from creation until :meth:`stop`."""
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
        check_optional_name("name", name)
        if link is not None:
            _check_ref(link)
        self._check_running()
        return self._core.spawn(behavior, args, name or "", link)

    def spawn_remote(self, node_id: str, behavior: str, *args: Any, name: str | None = None,
                     timeout: float = 10.0) -> Ref:
        """Starts a process on node ``node_id`` running the behavior registered
        there as ``behavior`` with ``init(*args)`` (args travel as Terms);
        returns its Ref once init has returned.

        Raises BehaviorNotFoundError (naming the behavior and the node),
        InitError if init raised there, DuplicateNameError for a taken
        ``name``, NodeDown if the node is not connected or goes down,
        CallTimeout after ``timeout`` seconds."""
        check_str("node_id", node_id)
        if not isinstance(behavior, str):
            raise TypeError("behavior must be a registered behavior name (str), "
                            f"not {type(behavior).__name__}")
        check_optional_name("name", name)
        self._check_running()
        if node_id == self.id:
            return self.spawn(behavior, *args, name=name)
        self._cluster()  # a node that does not listen has no cluster to spawn in
        return self._core.spawn_remote(node_id, behavior, tuple(args), name or "", timeout)

    @property
    def global_registry(self) -> GlobalRegistry:
        """Cluster-wide names: ``register(name, ref)``, ``whereis``,
        ``unregister``, ``names()`` (see :class:`GlobalRegistry`)."""
        if self._global is None:
            self._global = GlobalRegistry(self._core)
        return self._global

    def whereis(self, name: str) -> Ref | None:
        """The process registered locally as ``name``, or None."""
        check_str("name", name)
        return self._core.whereis(name)

    def monitor(self, ref: Ref, callback: Callable[[Ref, Any], None]) -> int:
        """Calls ``callback(ref, reason)`` once when ``ref`` exits (at once with
        reason noproc if it is not alive). Runs on an engine thread."""
        _check_ref(ref)
        check_callable("callback", callback)
        return int(self._core.monitor(ref, callback))

    def demonitor(self, ref: Ref, monitor: int) -> None:
        """Cancels a monitor from :meth:`monitor`; its callback will not run."""
        _check_ref(ref)
        self._core.demonitor(ref, monitor)

    def processes(self) -> list[ProcessInfo]:
        """The local processes, oldest first."""
        return [ProcessInfo(*p) for p in self._core.processes()]

    def process_count(self) -> int:
        """How many processes run on this node."""
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
        return _start(self._core, spec, link)

    def start_distributed_supervisor(
            self, children: list[DistributedChildSpec] | tuple[DistributedChildSpec, ...] = (),
            strategy: str = "one_for_one", node_selector: NodeSelector = "local_first",
            max_restarts: int = 3, within: float = 5.0, auto_shutdown: str = "never",
            child_template: DistributedChildSpec | None = None, name: str | None = None,
            backoff: Backoff | None = None, lease: float = 1.0) -> DistributedSupervisor:
        """Starts a supervisor whose children run on the cluster's nodes and
        returns it once every child's ``init`` has returned.

        Each child runs on the node its ``node_selector`` (or this one) picks
        among the live members and this node: "local_first", "round_robin",
        "least_loaded" (fewest processes), "random", ``{"node": id}``, or
        ``callable(nodes, child_id) -> node_id`` (NodeInfo objects). Crashes
        are handled by ``strategy`` as locally, counted toward
        ``max_restarts`` within ``within`` seconds. A child whose node dies or
        is cut off is started again on a live node, not counted, once its old
        copy has certainly stopped: a node stops the children of a supervisor
        it has not heard from for ``lease`` seconds, and the supervisor waits
        the lease plus a margin (docs/distributed-supervision.md).

        Raises BehaviorNotFoundError naming the node without the behavior,
        NoAvailableNodeError, InitError naming the child.
        """
        spec = DistributedSupervisorSpec(children, strategy=strategy, node_selector=node_selector,
                                         max_restarts=max_restarts, within=within,
                                         auto_shutdown=auto_shutdown, child_template=child_template,
                                         name=name, backoff=backoff, lease=lease)
        if self._core.cluster is None:
            raise ValueError(f"node {self.id} takes part in no cluster (create it with listen=...)")
        return _start_distributed(self._core, spec)

    def on_lifecycle_event(self, callback: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Calls ``callback(event)`` for every lifecycle event of this node, in
        order, on an engine thread. An event is a dict with ``type``
        (supervisor_started, child_started, child_stopped, child_restarted,
        child_start_failed, child_resumed, restart_intensity_exceeded,
        supervisor_stopped; and of distributed supervisors node_failure_detected
        and child_migrated), ``timestamp`` (wall clock), ``monotonic`` and the
        fields of that type (supervisor, child_id, pid, reason, attempt...).
        Returns a function that unsubscribes."""
        check_callable("callback", callback)
        sub = self._core.subscribe_lifecycle(_event_callback(callback))
        core = self._core

        def unsubscribe() -> None:
            core.unsubscribe_lifecycle(sub)
        return unsubscribe

    # ---- cluster -------------------------------------------------------
    def nodes(self) -> list[NodeInfo]:
        """This node, then the cluster's members as this node sees them, by id."""
        out = [NodeInfo(self.id, "self" if self.running else "down", self.process_count())]
        cluster = self._core.cluster
        members = cluster.members() if cluster is not None else []
        for member_id, status, count, since, rtt, _creation in members:
            out.append(NodeInfo(member_id, status, count, since if since >= 0 else None,
                                rtt if rtt >= 0 else None))
        return out

    def connect(self, node_id: str, timeout: float = 10.0) -> None:
        """Connects to ``node_id`` (``name@host:port``) and joins its cluster:
        the members then connect to each other. Returns once connected.
        Raises AuthenticationError on a cookie or protocol mismatch or a
        failed TLS handshake (TLS on at one node only, a certificate the
        other's CA did not sign; the message says which), NodeDown
        if the node cannot be reached within ``timeout``, ValueError for a
        malformed id."""
        check_str("node_id", node_id)
        self._check_running()
        self._cluster().connect(node_id, timeout)

    def on(self, event: str, callback: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Calls ``callback(event)`` on each ``"node_up"`` or ``"node_down"``
        (once per incident, in order, on an engine thread). The event is a
        dict: ``type``, ``node`` (its id), ``creation``, ``timestamp``,
        ``monotonic``; node_down adds ``reason`` ("shutdown" when the peer
        left, "noconnection" when it died or was cut off) and ``detail``.
        Returns a function that unsubscribes."""
        check_choice("event", event, _NODE_EVENTS, type_error=False)
        check_callable("callback", callback)

        def deliver(e: dict[str, Any]) -> None:
            if e.get("type") == event:
                callback(e)
        cluster = self._cluster()
        sub = cluster.subscribe(deliver)

        def unsubscribe() -> None:
            cluster.unsubscribe(sub)
        return unsubscribe

    def _request(self, node_id: str, request: Any, timeout: float = 5.0) -> Any:
        """A request to another node itself (members, alive, whereis,
        partition, heal): what tools and LocalCluster use."""
        return self._cluster().request(node_id, request, timeout)

    def _partition(self, peer_id: str, on: bool = True) -> None:
        """Fault injection: drop all traffic with ``peer_id`` (or stop)."""
        self._cluster().partition(peer_id, on)

    def _delay(self, peer_id: str, seconds: float) -> None:
        """Fault injection: hold every frame sent to ``peer_id`` for
        ``seconds`` (0: none), as a slow link; order is kept."""
        self._cluster().delay(peer_id, seconds)

    def _heal(self) -> None:
        """Stops dropping and delaying traffic with every peer."""
        self._cluster().heal()

    def _abort(self) -> None:
        """Stops as a crash looks to peers: no goodbye, connections just close."""
        self._core.abort()

    def _cluster(self) -> _core.Cluster:
        """The engine's cluster of this node; NodeDown if it does not listen."""
        cluster = self._core.cluster
        if cluster is None:
            raise NodeDown(f"node {self.id} does not listen (created with listen=None)")
        return cluster

    def _check_running(self) -> None:
        if not self.running:
            raise NodeStopped(f"node {self.id} is stopped")


@atexit.register
def _stop_all_nodes() -> None:
    # Engine threads must not outlive the interpreter's ability to run Python.
    for node in list(_live):
        node.stop(grace=1.0)
