"""The distributed supervisor: children placed on the nodes of a cluster.

The supervisor runs in the C++ engine (the same supervisor process as a
local one, with a starter that places children by node selector and starts
them there by behavior name, DESIGN §7). These classes check their
arguments, so mistakes raise TypeError / ValueError naming the argument,
then hand the spec over.
"""
from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Union

from . import _core
from ._checks import (
    check_bool,
    check_choice,
    check_int,
    check_optional_name,
    check_seconds,
    check_str,
    type_name,
)
from .errors import ChildNotFoundError
from .node_info import NodeInfo
from .ref import Ref
from .supervisor import Backoff, _timeout, _with_error

__all__ = ["DistributedChildSpec", "DistributedSupervisorSpec", "DistributedSupervisor",
           "DistributedChildInfo"]

_STRATEGIES = ("one_for_one", "one_for_all", "rest_for_one", "simple_one_for_one")
_RESTARTS = ("permanent", "transient", "temporary")
_AUTO_SHUTDOWNS = ("never", "any_significant", "all_significant")
_SELECTORS = ("local_first", "round_robin", "least_loaded", "random")

#: A node selector: a name, ``{"node": id}``, or ``callable(nodes, child_id) -> id``.
NodeSelector = Union[str, dict[str, str], Callable[[list[NodeInfo], str], str]]


def _selector(what: str, value: Any) -> Any:
    """The engine's form of a node selector: a name, ("node", id) or a
    callable taking (id, status, process_count) tuples."""
    if isinstance(value, str):
        return check_choice(what, value, _SELECTORS)
    if isinstance(value, dict):
        if set(value) != {"node"} or not isinstance(value["node"], str) or not value["node"]:
            raise ValueError(f"{what} as a dict must be {{'node': node_id}}, got {value!r}")
        return ("node", value["node"])
    if callable(value):
        choose = value

        def offer(members: list[tuple[str, str, int]], child_id: str) -> str:
            nodes = [NodeInfo(m[0], m[1], m[2]) for m in members]
            chosen = choose(nodes, child_id)
            return chosen.id if isinstance(chosen, NodeInfo) else chosen
        return offer
    raise TypeError(f"{what} must be one of {', '.join(_SELECTORS)}, {{'node': id}} or a callable "
                    f"(nodes, child_id) -> node_id; got {type_name(value)}")


class DistributedChildSpec:
    """One child of a distributed supervisor.

    ``behavior_name`` is a behavior registered (with
    :func:`noexpp.register_behavior`, or a C++ ``register_behavior``) in the
    process of every node the child may land on; ``args`` reach its ``init``
    on every (re)start. ``node_selector`` overrides the supervisor's for this
    child. ``shutdown`` is the time (seconds) it gets to stop before it is
    killed (0: at once). A ``significant`` child (transient or temporary)
    may end the supervisor through ``auto_shutdown``.
    """

    __slots__ = ("_selector", "args", "behavior_name", "id", "node_selector", "restart", "shutdown",
                 "significant")

    def __init__(self, id: str, behavior_name: str, args: Sequence[Any] = (),
                 restart: str = "permanent", node_selector: NodeSelector | None = None,
                 shutdown: float = 5.0,
                 significant: bool = False) -> None:
        if not check_str("DistributedChildSpec id", id):
            raise ValueError("DistributedChildSpec id must not be empty: "
                             "it names the child in every report")
        if not isinstance(behavior_name, str):
            name = getattr(behavior_name, "__name__", None)
            hint = f" (register the class and pass its name, e.g. {name!r})" if name else ""
            raise TypeError(f"behavior_name must be a registered behavior's name (str), "
                            f"not {type_name(behavior_name)}{hint}")
        if not behavior_name:
            raise ValueError("behavior_name must not be empty")
        if not isinstance(args, (tuple, list)):
            raise TypeError(f"args must be a tuple or list, not {type_name(args)}")
        check_bool("significant", significant)
        self.id = id
        self.behavior_name = behavior_name
        self.args = tuple(args)
        self.restart = check_choice("restart", restart, _RESTARTS)
        self.node_selector = node_selector
        self._selector = (None if node_selector is None
                          else _selector("node_selector", node_selector))
        shutdown_s = check_seconds("shutdown", shutdown)
        if math.isinf(shutdown_s):
            raise ValueError("shutdown of a distributed child must be finite (it is then killed)")
        self.shutdown = shutdown_s
        self.significant = significant
        if significant and restart == "permanent":
            raise ValueError(f"child {id!r}: a significant child must be transient or temporary, "
                             "not permanent")

    def __repr__(self) -> str:
        return (f"DistributedChildSpec({self.id!r}, {self.behavior_name!r}, args={self.args!r}, "
                f"restart={self.restart!r})")


class DistributedSupervisorSpec:
    """A distributed supervisor's configuration (see
    :meth:`noexpp.Node.start_distributed_supervisor`)."""

    __slots__ = ("_selector", "auto_shutdown", "backoff", "child_template", "children", "lease",
                 "max_restarts", "name", "node_selector", "strategy", "within")
    #: Read by noexpp.ChildSpec and the engine: this spec nests as a supervisor child.
    _is_distributed_supervisor_spec = True

    def __init__(self, children: Sequence[DistributedChildSpec] = (),
                 strategy: str = "one_for_one", node_selector: NodeSelector = "local_first",
                 max_restarts: int = 3, within: float = 5.0, auto_shutdown: str = "never",
                 child_template: DistributedChildSpec | None = None, name: str | None = None,
                 backoff: Backoff | None = None, lease: float = 1.0) -> None:
        if not isinstance(children, (list, tuple)):
            raise TypeError("children must be a list of DistributedChildSpec, "
                            f"not {type_name(children)}")
        for c in children:
            if not isinstance(c, DistributedChildSpec):
                raise TypeError("children must hold DistributedChildSpec objects, "
                                f"not {type_name(c)}")
        if child_template is not None and not isinstance(child_template, DistributedChildSpec):
            raise TypeError("child_template must be a DistributedChildSpec or None, "
                            f"not {type_name(child_template)}")
        check_int("max_restarts", max_restarts)
        if max_restarts < 0:
            raise ValueError(f"max_restarts must be >= 0, got {max_restarts}")
        within_s = check_seconds("within", within)
        if not within_s or math.isinf(within_s):
            raise ValueError(f"within must be a finite number of seconds > 0, got {within!r}")
        lease_s = check_seconds("lease", lease)
        if not 0 < lease_s <= 86400:
            raise ValueError(f"lease must be > 0 and at most a day (seconds), got {lease!r}")
        if backoff is not None and not isinstance(backoff, Backoff):
            raise TypeError(f"backoff must be a noexpp.Backoff or None, not {type_name(backoff)}")
        self.children = list(children)
        self.strategy = check_choice("strategy", strategy, _STRATEGIES)
        self.node_selector = node_selector
        self._selector = _selector("node_selector", node_selector)
        self.max_restarts = max_restarts
        self.within = within_s
        self.auto_shutdown = check_choice("auto_shutdown", auto_shutdown, _AUTO_SHUTDOWNS)
        self.child_template = child_template
        self.name = check_optional_name("name", name)
        self.backoff = backoff._checked() if backoff is not None else None
        self.lease = lease_s


    def _handle(self, core: _core.Supervisor) -> DistributedSupervisor:
        """The handle of a running nested supervisor made from this spec."""
        return DistributedSupervisor(_core.as_distributed_supervisor(core), self)


class DistributedChildInfo(NamedTuple):
    """A child as :meth:`DistributedSupervisor.children` reports it: ``ref``
    is None while it is not running; ``node_id`` is where it runs (or last
    ran); ``status`` is "running", "restarting" (a restart is due, e.g. after
    its node was lost) or "stopped"."""

    id: str
    ref: Ref | None
    node_id: str
    restart_count: int
    started_at: float
    status: str = "running"
    behavior: str = ""


class DistributedSupervisor:
    """A running distributed supervisor (from
    :meth:`noexpp.Node.start_distributed_supervisor`).

    Operations are requests to the supervisor process, answered in order
    with everything else it does. After it stops, :meth:`stats` still says why.
    """

    def __init__(self, core: _core.DistributedSupervisor, spec: DistributedSupervisorSpec) -> None:
        self._core = core
        self._spec = spec
        self.name = spec.name

    @property
    def ref(self) -> Ref:
        """The supervisor's own process."""
        return self._core.ref

    @property
    def is_running(self) -> bool:
        """True until the supervisor stops (asked to, or after giving up)."""
        return bool(self._core.running)

    def start_child(self, spec_or_args: DistributedChildSpec | Sequence[Any] = (),
                    timeout: float | None = None) -> Ref | None:
        """Adds and starts a child on the node its selector picks; for
        simple_one_for_one, starts one from the template with these extra
        ``init`` args. None when the child's ``init`` returned Ignore."""
        if isinstance(spec_or_args, DistributedChildSpec):
            return self._core.start_child_spec(spec_or_args, _timeout(timeout))
        if not isinstance(spec_or_args, (tuple, list)):
            raise TypeError("start_child takes a DistributedChildSpec, or a tuple/list of args for "
                            f"simple_one_for_one; got {type_name(spec_or_args)}")
        return self._core.start_child_args(tuple(spec_or_args), _timeout(timeout))

    def terminate_child(self, child: str | Ref, timeout: float | None = None) -> None:
        """Stops a child wherever it runs (shutdown, then kill) and returns
        once it is gone; it is not restarted. By Ref for simple_one_for_one."""
        if not isinstance(child, (str, _core.Ref)):
            raise TypeError(f"child must be a child id (str) or a Ref, not {type_name(child)}")
        self._core.terminate_child(child, _timeout(timeout))

    def restart_child(self, child_id: str, timeout: float | None = None) -> Ref | None:
        """Starts a terminated child again, on the node its selector picks now."""
        check_str("child id", child_id)
        return self._core.restart_child(child_id, _timeout(timeout))

    def delete_child(self, child_id: str, timeout: float = 5.0) -> None:
        """Forgets a terminated child's spec."""
        check_str("child id", child_id)
        self._core.delete_child(child_id, check_seconds("timeout", timeout))

    def children(self, timeout: float = 5.0) -> list[DistributedChildInfo]:
        """The children in start order, with the node each runs on."""
        out = []
        for c in self._core.which_children(check_seconds("timeout", timeout)):
            cid, ref, restarts, started_at, behavior, _restart, _is_sup, status, node_id = c
            out.append(DistributedChildInfo(cid, ref, node_id, restarts, started_at, status,
                                            behavior))
        return out

    def child(self, child_id: str, timeout: float = 5.0) -> DistributedChildInfo:
        """One child by id; raises ChildNotFoundError."""
        check_str("child id", child_id)
        for c in self.children(timeout):
            if c.id == child_id:
                return c
        raise ChildNotFoundError(f"no child '{child_id}'")

    def get_childspec(self, child: str | Ref, timeout: float = 5.0) -> DistributedChildSpec:
        """The spec of child ``child`` (by id; by Ref for simple_one_for_one)."""
        seconds = check_seconds("timeout", timeout)
        spec: DistributedChildSpec = self._core.get_childspec(child, seconds)
        return spec

    def count_children(self, timeout: float = 5.0) -> dict[str, int]:
        """``{"specs", "active", "supervisors", "workers"}``, as OTP's count_children."""
        return dict(self._core.count_children(check_seconds("timeout", timeout)))

    def stats(self, timeout: float = 5.0) -> dict[str, Any]:
        """running, health, child_count, children_by_node, total_restarts
        (node failures included), node_failure_restarts (never counted toward
        the intensity), last_error, uptime, stop_reason, error and per-child
        figures with their node_id."""
        s = _with_error(dict(self._core.stats(check_seconds("timeout", timeout))))
        by_node: dict[str, int] = {}
        last_error = None
        for c in s["children"]:
            if c["ref"] is not None:
                by_node[c["node_id"]] = by_node.get(c["node_id"], 0) + 1
            last_error = c["last_error"] or last_error
        s["children_by_node"] = by_node
        s["last_error"] = last_error
        return s

    def stop(self, timeout: float | None = None) -> None:
        """Stops the children in reverse start order on every node (each
        shutdown, then kill), then the supervisor. Idempotent."""
        self._core.stop(_timeout(timeout))

    def __enter__(self) -> DistributedSupervisor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running else "stopped"
        return f"<noexpp.DistributedSupervisor {self.name or repr(self.ref)} {state}>"

    def _repr_html_(self) -> str:
        title = html.escape(repr(self))
        if not self.is_running:
            s = self.stats()
            return f"<b>noexpp.DistributedSupervisor</b> {title}: {html.escape(str(s['health']))}"
        rows = "".join(
            f"<tr><td>{html.escape(c.id)}</td><td>{html.escape(c.node_id)}</td>"
            f"<td>{html.escape(c.behavior)}</td><td>{html.escape(c.status)}</td>"
            f"<td>{c.restart_count}</td></tr>"
            for c in self.children()[:50])
        return (f"<b>noexpp.DistributedSupervisor</b> {title}<table><tr><th>id</th><th>node</th>"
                f"<th>behavior</th><th>status</th><th>restarts</th></tr>{rows}</table>")


def _start(node: _core.Node, spec: DistributedSupervisorSpec) -> DistributedSupervisor:
    return DistributedSupervisor(node.start_distributed_supervisor(spec), spec)
