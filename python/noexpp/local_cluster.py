"""LocalCluster: a cluster of noexpp nodes on this machine, for experiments and tests.

``mode="threads"`` runs every node in this interpreter (fast, shares the
behavior registry); ``mode="processes"`` runs each node as its own OS process
(``python -m noexpp node``), so a node can be killed with SIGKILL or frozen
with SIGSTOP exactly as a crashed or hung machine would be. Faults between
nodes are injected with :meth:`LocalCluster.partition` / :meth:`LocalCluster.heal`.

Example::

    with noexpp.LocalCluster(3, mode="processes", modules=["myapp.behaviors"]) as cluster:
        a, b, c = cluster.nodes
        ref = b.spawn("counter", 0)
        cluster.kill(b)
"""
from __future__ import annotations

import html
import secrets
import time
import weakref
from collections.abc import Iterable, Sequence
from typing import Any, Callable, Union

from ._checks import (
    check_choice,
    check_cluster_options,
    check_int,
    check_node_name,
    check_number,
    check_optional_str,
    check_seconds,
    check_str_list,
    check_threads,
)
from ._cluster_startup import start_processes, start_threads
from ._cluster_state import ClusterState
from ._os_node import NodeHandle
from .node import Node
from .tls import TlsConfig, _check_tls

__all__ = ["LocalCluster", "NodeHandle"]

#: What a cluster member may be given as: the Node (threads mode), the
#: NodeHandle (processes mode) or its id.
NodeLike = Union[Node, NodeHandle, str]

_MODES = ("threads", "processes")


class LocalCluster:
    """``n`` noexpp nodes on 127.0.0.1 that form one cluster.

    ``mode="threads"``: ``n`` :class:`Node` objects in this interpreter
    (``cluster.nodes`` are Nodes). ``mode="processes"``: ``n`` OS processes
    running ``python -m noexpp node`` (``cluster.nodes`` are
    :class:`NodeHandle`), reached through a hidden controller node
    (:attr:`controller`) that lives in this interpreter.

    The constructor returns once every node sees every other one up. Use it
    as a context manager or call :meth:`close`; an unclosed cluster is closed
    when garbage collected or at interpreter exit, and processes-mode nodes
    also stop when this interpreter dies (their stdin closes).
    """

    def __init__(self, n: int = 3, mode: str = "threads", cookie: str | None = None,
                 modules: Sequence[str] | None = None, *, name: str = "node",
                 threads: int = 2, heartbeat_interval: float = 0.2,
                 phi_threshold: float = 8.0, acceptable_pause: float = 0.8,
                 max_send_queue: int = 4 * 1024 * 1024, remote_mailbox_limit: int = 10000,
                 overload_timeout: float = 5.0, startup_timeout: float = 30.0,
                 tls: TlsConfig | None = None) -> None:
        """Starts the cluster.

        ``n``: number of nodes (≥ 1), named ``f"{name}{i}"`` for i from 1.
        ``mode``: "threads" or "processes". ``cookie``: the shared secret
        (generated when None; read it back from :attr:`cookie` to join from
        outside). ``modules``: modules each node imports first, so the
        behaviors they register exist there (in threads mode they are
        imported into this interpreter). ``threads``: engine threads per
        node. ``heartbeat_interval``, ``phi_threshold``,
        ``acceptable_pause``: failure detection settings of every node (see
        :class:`Node`). ``max_send_queue``, ``remote_mailbox_limit``,
        ``overload_timeout``: backpressure settings of every node (see
        :class:`Node`; processes mode: also of the controller, the sender of
        casts made from this interpreter). ``startup_timeout``: seconds to
        wait for the whole cluster to be up. ``tls``: a :class:`TlsConfig`
        every node uses (processes mode: also the controller; the node
        processes get it as ``--tls-cert/--tls-key/--tls-ca``); one
        certificate may serve every node, as no host name is checked.

        Raises TypeError / ValueError for a bad argument, TimeoutError
        (naming the missing nodes) when the cluster is not up within
        ``startup_timeout``, RuntimeError (with its stderr) when a node
        process exits during startup, ImportError for a module in threads
        mode. Anything started before a failure is stopped.
        """
        check_int("n", n)
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        check_choice("mode", mode, _MODES)
        if check_optional_str("cookie", cookie) is None:
            cookie = secrets.token_urlsafe(32)
        elif not cookie:
            raise ValueError("cookie must not be empty")
        elif cookie != cookie.rstrip():
            raise ValueError("cookie must not end with whitespace (a cookie file drops it)")
        modules = check_str_list("modules", () if modules is None else modules,
                                 expected="a list or tuple of module names",
                                 each="each of modules must be a str",
                                 empty="modules must not contain an empty name")
        check_node_name(name)
        check_threads(threads)
        # The same checks (and messages) as Node, before anything starts.
        check_cluster_options(cookie, None, None, False, 16 * 1024 * 1024, heartbeat_interval,
                              phi_threshold, acceptable_pause, max_send_queue,
                              remote_mailbox_limit, overload_timeout)
        timeout = check_seconds("startup_timeout", startup_timeout, positive=True)
        _check_tls(tls)

        self._mode = mode
        self._cookie = cookie
        self._tls = tls
        self._modules = tuple(modules)
        self._name = name
        self._node_options: dict[str, Any] = {
            "threads": threads, "heartbeat_interval": float(heartbeat_interval),
            "phi_threshold": float(phi_threshold), "acceptable_pause": float(acceptable_pause),
            "max_send_queue": max_send_queue, "remote_mailbox_limit": remote_mailbox_limit,
            "overload_timeout": float(overload_timeout), "tls": tls,
        }
        self._state = ClusterState()
        self._finalizer = weakref.finalize(self, ClusterState.close, self._state)
        deadline = time.monotonic() + timeout
        try:
            start = start_threads if mode == "threads" else start_processes
            start(self._state, n, name=name, cookie=cookie, modules=self._modules,
                  options=self._node_options, deadline=deadline, timeout=timeout)
        except BaseException:
            self.close()
            raise

    # ---- public API ----------------------------------------------------
    @property
    def mode(self) -> str:
        """``"threads"`` or ``"processes"``."""
        return self._mode

    @property
    def cookie(self) -> str:
        """The cluster's cookie: ``Node(..., cookie=cluster.cookie)`` joins it."""
        return self._cookie

    @property
    def tls(self) -> TlsConfig | None:
        """The TLS files of every node, or None: ``Node(..., cookie=cluster.cookie,
        tls=cluster.tls)`` joins the cluster from outside."""
        return self._tls

    @property
    def nodes(self) -> list[Node | NodeHandle]:
        """The members in start order: Nodes (threads mode) or NodeHandles
        (processes mode), killed ones included."""
        if self._mode == "threads":
            return list(self._state.nodes)
        return list(self._state.handles)

    @property
    def ids(self) -> list[str]:
        """The members' node ids, in start order."""
        return [x.id for x in self.nodes]

    @property
    def controller(self) -> Node | None:
        """Processes mode: the hidden Node in this interpreter connected to
        every member (Refs to remote processes are used through it). None in
        threads mode."""
        return self._state.controller_box[0]

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._state.closed

    def kill(self, node: NodeLike) -> None:
        """Kills a member abruptly, as a crashed machine: SIGKILL (processes
        mode, waiting for the exit) or :meth:`Node._abort` (threads mode).
        Its peers report node_down with reason "noconnection"."""
        target = self._resolve(node, "node")
        if isinstance(target, NodeHandle):
            target.kill()
        else:
            target._abort()

    def partition(self, *groups: NodeLike | Iterable[NodeLike]) -> None:
        """Splits the network: traffic between members of different groups is
        dropped in both directions until :meth:`heal`. A group is a member
        (Node, NodeHandle or id) or a list of members; at least two groups,
        no member in two. Members not listed are untouched.

        Returns at once: the failure detectors report node_down (reason
        "noconnection") after the usual detection time. Processes mode:
        raises NodeDown / CallTimeout if the controller cannot reach a listed
        member (killed or suspended)."""
        self._between_groups(groups, lambda x, y: ("partition", y.id, True),
                             lambda x, y: x._partition(y.id, True))

    def delay(self, *groups: NodeLike | Iterable[NodeLike], seconds: float) -> None:
        """Slows the network: every frame between members of different groups
        is held ``seconds`` (in each direction) until :meth:`heal` or a delay
        of 0. Order is kept; heartbeats are delayed too, so a delay beyond
        the detectors' tolerance (about 1 s by default) reads as a failure."""
        check_number("seconds", seconds)
        if not 0 <= seconds <= 3600:
            raise ValueError(f"seconds must be between 0 and 3600, got {seconds}")
        self._between_groups(groups, lambda x, y: ("delay", y.id, float(seconds)),
                             lambda x, y: x._delay(y.id, seconds))

    def _between_groups(self, groups: tuple[NodeLike | Iterable[NodeLike], ...],
                        request: Callable[[Any, Any], tuple[Any, ...]],
                        local: Callable[[Any, Any], None]) -> None:
        """Applies a fault to every ordered pair of members in different
        groups: by a request to a node process, or directly on a Node."""
        resolved = self._resolve_groups(groups)
        controller = self.controller
        for i, group in enumerate(resolved):
            for j, other in enumerate(resolved):
                if i == j:
                    continue
                for x in group:
                    for y in other:
                        if isinstance(x, NodeHandle):
                            assert controller is not None
                            controller._request(x.id, request(x, y))
                        else:
                            local(x, y)

    def heal(self) -> None:
        """Ends every partition and delay: each running member stops dropping traffic
        (suspended or exited members are skipped). Returns at once; the nodes
        reconnect and report node_up."""
        self._check_open()
        controller = self.controller
        for node in self._state.nodes:
            if node.running:
                node._heal()
        for handle in self._state.handles:
            if handle.alive and not handle.suspended:
                assert controller is not None
                controller._request(handle.id, ("heal",))

    def close(self) -> None:
        """Stops every node and process this cluster started (processes
        mode: SIGTERM, then SIGKILL after 10 s), then the controller, and
        removes the temporary directory. Idempotent."""
        self._finalizer()

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self._state.nodes) + len(self._state.handles)

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{len(self)} nodes"
        return f"<noexpp.LocalCluster {self._mode}, {state}: {', '.join(self._statuses_text())}>"

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td><code>{html.escape(i)}</code></td><td>{html.escape(s)}</td></tr>"
                       for i, s in self._statuses())
        return (f"<b>noexpp.LocalCluster</b> ({html.escape(self._mode)}"
                f"{', closed' if self.closed else ''})"
                f"<table><tr><th>node</th><th>status</th></tr>{rows}</table>")

    # ---- helpers -------------------------------------------------------
    def _check_open(self) -> None:
        if self._state.closed:
            raise RuntimeError("this LocalCluster is closed")

    def _resolve(self, node: object, what: str) -> Node | NodeHandle:
        self._check_open()
        members: list[Node | NodeHandle] = self.nodes
        if isinstance(node, str):
            for m in members:
                if m.id == node:
                    return m
            raise ValueError(f"{what} {node!r} is not a member of this cluster")
        if isinstance(node, (Node, NodeHandle)):
            if any(m is node for m in members):
                return node
            raise ValueError(f"{what} {node!r} is not a member of this cluster")
        raise TypeError(f"{what} must be a Node, NodeHandle or node id str, "
                        f"not {type(node).__name__}")

    def _resolve_groups(self, groups: tuple[Any, ...]) -> list[list[Node | NodeHandle]]:
        self._check_open()
        if len(groups) < 2:
            raise ValueError(f"partition needs at least two groups, got {len(groups)}")
        resolved: list[list[Node | NodeHandle]] = []
        seen: dict[int, int] = {}
        for g, group in enumerate(groups, 1):
            if isinstance(group, (str, Node, NodeHandle)):
                given = [group]
            elif isinstance(group, (list, tuple, set, frozenset)):
                given = list(group)
            else:
                raise TypeError(f"partition group {g} must be a member or a list of members, "
                                f"not {type(group).__name__}")
            members = [self._resolve(x, f"partition group {g} member") for x in given]
            if not members:
                raise ValueError(f"partition group {g} is empty")
            for m in members:
                if id(m) in seen and seen[id(m)] != g:
                    raise ValueError(f"{m.id} is in partition groups {seen[id(m)]} and {g}")
                seen[id(m)] = g
            resolved.append(members)
        return resolved

    def _statuses(self) -> list[tuple[str, str]]:
        out = []
        for node in self._state.nodes:
            out.append((node.id, "running" if node.running else "stopped"))
        for handle in self._state.handles:
            out.append((handle._id or handle.name, handle.status))
        return out

    def _statuses_text(self) -> list[str]:
        return [f"{i} {s}" for i, s in self._statuses()]
