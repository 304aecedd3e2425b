"""Supervision trees: child specs, supervisor specs and the Supervisor handle.

The supervisor itself runs in the C++ engine (the same code supervises
Python and C++ behaviors); these classes check their arguments, so mistakes
raise TypeError / ValueError naming the argument, then hand the spec over.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from . import _core
from ._checks import (
    check_bool,
    check_callable,
    check_choice,
    check_int,
    check_optional_name,
    check_seconds,
    check_str,
    is_number,
    type_name,
)
from .errors import MaxRestartsExceededError
from .gen_server import _check_behavior_class
from .ref import Ref, _check_ref

__all__ = ["Backoff", "ChildSpec", "SupervisorSpec", "Supervisor", "ChildInfo"]

_STRATEGIES = ("one_for_one", "one_for_all", "rest_for_one", "simple_one_for_one")
_RESTARTS = ("permanent", "transient", "temporary")
_AUTO_SHUTDOWNS = ("never", "any_significant", "all_significant")


def _timeout(value: Any) -> float | None:
    """The timeout of a request to the supervisor: seconds, or None to wait
    as long as it takes."""
    return check_seconds("timeout", value, allow_none=True)


class Backoff(NamedTuple):
    """Exponential backoff between consecutive restarts of one child.

    The n-th restart in a row waits ``min(max, initial * factor**(n-1))``
    seconds, scaled by a random factor in ``[1 - jitter, 1 + jitter]``. A child
    that stays up ``reset_after`` seconds (default: ``max``) starts again from
    ``initial``. ``initial=0`` restarts at once. The supervisor keeps serving
    calls and other children while a child waits.
    """

    initial: float = 0.0
    max: float = 1.0
    factor: float = 2.0
    jitter: float = 0.1
    reset_after: float | None = None

    def _checked(self) -> Backoff:
        initial = check_seconds("Backoff.initial", self.initial)
        cap = check_seconds("Backoff.max", self.max)
        if cap < initial:
            raise ValueError(f"Backoff.max ({cap}) must be >= Backoff.initial ({initial})")
        if not is_number(self.factor) or not self.factor >= 1:
            raise ValueError(f"Backoff.factor must be a number >= 1, got {self.factor!r}")
        if not is_number(self.jitter) or not 0 <= self.jitter < 1:
            raise ValueError(f"Backoff.jitter must be a number in [0, 1), got {self.jitter!r}")
        check_seconds("Backoff.reset_after", self.reset_after, allow_none=True)
        return self


_DEFAULT = object()


def _is_distributed_spec(behavior: Any) -> bool:
    """A noexpp.DistributedSupervisorSpec (which imports this module)."""
    return hasattr(behavior, "_is_distributed_supervisor_spec")


class ChildSpec:
    """One child of a supervisor.

    ``behavior`` is a GenServer subclass, a registered behavior name (Python
    or C++), or a :class:`SupervisorSpec` (or
    :class:`noexpp.DistributedSupervisorSpec`) for a nested supervisor. ``shutdown``
    is the time (seconds) a child gets to stop before it is killed: 0 kills it
    at once (brutal kill), None waits as long as it takes; the default is 5 s
    for workers and None for supervisors. A ``significant`` child (transient
    or temporary) may end its supervisor through ``auto_shutdown``. ``name``
    registers the child locally.
    """

    __slots__ = ("args", "behavior", "id", "name", "restart", "shutdown", "significant")

    def __init__(self, id: str, behavior: Any, args: Sequence[Any] = (), restart: str = "permanent",
                 shutdown: Any = _DEFAULT, significant: bool = False,
                 name: str | None = None) -> None:
        if not check_str("ChildSpec id", id):
            raise ValueError("ChildSpec id must not be empty: it names the child in every report")
        nested = isinstance(behavior, SupervisorSpec) or _is_distributed_spec(behavior)
        if nested:
            pass
        elif isinstance(behavior, str):
            if not behavior:
                raise ValueError("behavior name must not be empty")
        else:
            _check_behavior_class(behavior)
        if not isinstance(args, (tuple, list)):
            raise TypeError(f"args must be a tuple or list, not {type(args).__name__}")
        if shutdown is _DEFAULT:
            shutdown = None if nested else 5.0
        elif shutdown in ("infinity",):
            shutdown = None
        elif shutdown in ("brutal_kill",):
            shutdown = 0.0
        check_bool("significant", significant)
        self.id = id
        self.behavior = behavior
        self.args = tuple(args)
        self.restart = check_choice("restart", restart, _RESTARTS)
        self.shutdown = check_seconds("shutdown", shutdown, allow_none=True)
        self.significant = significant
        self.name = check_optional_name("name", name)
        if significant and restart == "permanent":
            raise ValueError(f"child {id!r}: a significant child must be transient or "
                             "temporary, not permanent")

    def __repr__(self) -> str:
        behavior = getattr(self.behavior, "__name__", self.behavior)
        return f"ChildSpec({self.id!r}, {behavior!r}, args={self.args!r}, restart={self.restart!r})"


class SupervisorSpec:
    """A supervisor's configuration; also a child's behavior for nesting.

    See :meth:`noexpp.Node.start_supervisor` for the meaning of each field.
    """

    __slots__ = ("auto_shutdown", "backoff", "child_template", "children", "decider",
                 "max_restarts", "name", "strategy", "within")
    _is_supervisor_spec = True

    def __init__(self, children: Sequence[ChildSpec] = (), strategy: str = "one_for_one",
                 max_restarts: int = 3, within: float = 5.0, backoff: Backoff | None = None,
                 decider: Callable[[str, str, str], str] | None = None,
                 auto_shutdown: str = "never",
                 child_template: ChildSpec | None = None, name: str | None = None) -> None:
        if not isinstance(children, (list, tuple)):
            raise TypeError(f"children must be a list of ChildSpec, not {type_name(children)}")
        for c in children:
            if not isinstance(c, ChildSpec):
                raise TypeError(f"children must hold ChildSpec objects, not {type(c).__name__}")
        check_int("max_restarts", max_restarts)
        if max_restarts < 0:
            raise ValueError(f"max_restarts must be >= 0, got {max_restarts}")
        within_s = check_seconds("within", within)
        if not within_s:
            raise ValueError("within must be > 0 seconds")
        if math.isinf(within_s):  # OTP refuses a period of infinity too
            raise ValueError("within must be a finite number of seconds, got inf")
        if backoff is not None and not isinstance(backoff, Backoff):
            raise TypeError(f"backoff must be a noexpp.Backoff or None, not {type_name(backoff)}")
        check_callable("decider", decider, allow_none=True,
                       signature="(child_id, exc_type, message)")
        if child_template is not None and not isinstance(child_template, ChildSpec):
            raise TypeError("child_template must be a ChildSpec or None, "
                            f"not {type_name(child_template)}")
        self.children = list(children)
        self.strategy = check_choice("strategy", strategy, _STRATEGIES)
        self.max_restarts = max_restarts
        self.within = within_s
        self.backoff = backoff._checked() if backoff is not None else None
        self.decider = decider
        self.auto_shutdown = check_choice("auto_shutdown", auto_shutdown, _AUTO_SHUTDOWNS)
        self.child_template = child_template
        self.name = check_optional_name("name", name)

    def __repr__(self) -> str:
        return f"SupervisorSpec({self.strategy}, {len(self.children)} children, name={self.name!r})"


class ChildInfo(NamedTuple):
    """A child as :meth:`Supervisor.which_children` reports it (``ref`` is None
    while it is not running). ``status`` is "running", "restarting" (a
    restart is due: a backoff, or a retry after a failed start; OTP's
    ``restarting``) or "stopped"."""

    id: str
    ref: Ref | None
    restart_count: int
    started_at: float
    behavior: str = ""
    restart: str = "permanent"
    is_supervisor: bool = False
    status: str = "running"


def _with_error(d: dict[str, Any]) -> dict[str, Any]:
    """Turns the engine's error tag into the exception Python users catch."""
    if d.get("error") == "max_restarts_exceeded":
        d["error"] = MaxRestartsExceededError(
            d.get("stop_reason") or d.get("reason") or "restart intensity exceeded")
    return d


class Supervisor:
    """A running supervisor (from :meth:`noexpp.Node.start_supervisor`).

    Operations are requests to the supervisor process, answered in order
    with everything else it does. After it stops, :meth:`stats` still says why.
    """

    def __init__(self, node: _core.Node, core: _core.Supervisor, spec: SupervisorSpec) -> None:
        self._node = node  # the engine node it runs on
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

    def start_child(self, spec_or_args: ChildSpec | Sequence[Any] = (),
                    timeout: float | None = None) -> Ref | None:
        """Adds and starts a child from a ChildSpec; for simple_one_for_one,
        starts one from the template with these extra ``init`` args. None
        when the child's ``init`` returned :data:`Ignore`."""
        if isinstance(spec_or_args, ChildSpec):
            return self._core.start_child_spec(spec_or_args, _timeout(timeout))
        if not isinstance(spec_or_args, (tuple, list)):
            raise TypeError("start_child takes a ChildSpec, or a tuple/list of args for "
                            f"simple_one_for_one; got {type_name(spec_or_args)}")
        return self._core.start_child_args(tuple(spec_or_args), _timeout(timeout))

    def terminate_child(self, child: str | Ref, timeout: float | None = None) -> None:
        """Stops a child (by id, or by Ref for simple_one_for_one); it is not
        restarted. Its spec stays unless it is temporary."""
        if not isinstance(child, str):
            _check_ref(child)
        self._core.terminate_child(child, _timeout(timeout))

    def restart_child(self, child_id: str, timeout: float | None = None) -> Ref | None:
        """Starts a terminated child again from its spec (None: its ``init``
        returned :data:`Ignore`)."""
        check_str("child id", child_id)
        return self._core.restart_child(child_id, _timeout(timeout))

    def delete_child(self, child_id: str, timeout: float = 5.0) -> None:
        """Forgets a terminated child's spec."""
        check_str("child id", child_id)
        self._core.delete_child(child_id, check_seconds("timeout", timeout))

    def get_childspec(self, child: str | Ref, timeout: float = 5.0) -> ChildSpec:
        """The spec of child ``child`` (its id, or for simple_one_for_one its
        Ref: then the template it was started from), as OTP's get_childspec.
        Raises ChildNotFoundError."""
        if not isinstance(child, (str, _core.Ref)):
            raise TypeError(f"child must be a child id (str) or a Ref, not {type(child).__name__}")
        spec: ChildSpec = self._core.get_childspec(child, check_seconds("timeout", timeout))
        return spec

    def which_children(self, timeout: float = 5.0) -> list[ChildInfo]:
        """The children in start order."""
        rows = self._core.which_children(check_seconds("timeout", timeout))
        return [ChildInfo(*c[:8]) for c in rows]

    def child_supervisor(self, child_id: str, timeout: float = 5.0) -> Any:
        """The handle of a running nested supervisor: a Supervisor for a child
        whose behavior is a SupervisorSpec, a DistributedSupervisor for a
        DistributedSupervisorSpec. If that supervisor is restarted, ask
        again: the old handle then reports it stopped."""
        check_str("child id", child_id)
        seconds = check_seconds("timeout", timeout)
        spec = self._core.get_childspec(child_id, seconds).behavior
        core = self._core.child_supervisor(child_id, seconds)
        if _is_distributed_spec(spec):
            return spec._handle(core)
        if not isinstance(spec, SupervisorSpec):  # added later with start_child: name unknown here
            spec = SupervisorSpec()
        return Supervisor(self._node, core, spec)

    def count_children(self, timeout: float = 5.0) -> dict[str, int]:
        """``{"specs", "active", "supervisors", "workers"}``, as OTP's count_children."""
        return dict(self._core.count_children(check_seconds("timeout", timeout)))

    def stats(self, timeout: float = 5.0) -> dict[str, Any]:
        """Health and counters: running, health (healthy / degraded /
        restarting / stopped / failed), child_count, total_restarts, uptime,
        stop_reason, error (a MaxRestartsExceededError when it gave up) and
        per-child restart_count, last_error and uptime."""
        return _with_error(dict(self._core.stats(check_seconds("timeout", timeout))))

    def stop(self, timeout: float | None = None) -> None:
        """Stops the children in reverse start order, then the supervisor. Idempotent."""
        self._core.stop(_timeout(timeout))

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running else "stopped"
        label = self.name or repr(self.ref)
        return f"<noexpp.Supervisor {label} {state}>"

    def _repr_html_(self) -> str:
        if not self.is_running:
            s = self.stats()
            return f"<b>noexpp.Supervisor</b> {self!r}: {s['health']} ({s['stop_reason']})"
        rows = "".join(
            f"<tr><td>{c.id}</td><td>{c.ref!r}</td><td>{c.behavior}</td><td>{c.restart}</td>"
            f"<td>{c.restart_count}</td></tr>"
            for c in self.which_children()[:50]
        )
        return (f"<b>noexpp.Supervisor</b> {self!r}"
                f"<table><tr><th>id</th><th>ref</th><th>behavior</th><th>restart</th><th>restarts</th></tr>"
                f"{rows}</table>")


def _start(node: _core.Node, spec: SupervisorSpec, link: Ref | None = None) -> Supervisor:
    if not isinstance(spec, SupervisorSpec):
        raise TypeError(f"expected a SupervisorSpec, not {type(spec).__name__}")
    return Supervisor(node, node.start_supervisor(spec, link), spec)


def _event_callback(callback: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def deliver(event: dict[str, Any]) -> None:
        callback(_with_error(event))
    return deliver
