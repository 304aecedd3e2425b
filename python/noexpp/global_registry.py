"""Cluster-wide names: ``node.global_registry``."""
from __future__ import annotations

import threading
from typing import Any, Callable, Union

from . import _core
from ._checks import check_non_empty_str, check_str
from .errors import NodeDown
from .ref import Ref, _check_ref

__all__ = ["GlobalRegistry"]

#: What happens to a process that loses its name when a partition heals:
#: "stop" (default), "keep", or a callable(name, loser, winner).
OnConflict = Union[str, Callable[[str, Ref, Ref], Any]]

_MODES = {"stop": 0, "keep": 1}
_NOTIFY = 2


class GlobalRegistry:
    """Names visible on every member of the cluster (``node.global_registry``).

    A registration is decided by one member (the one with the smallest id),
    so of concurrent registrations of a name exactly one wins, the same on
    every node; it is then replicated to every member within about one round
    trip. A name goes away everywhere when its process exits or its node
    goes down, and a node that joins receives the table.

    After a partition heals with the name registered on both sides, every
    node keeps the same owner (the smaller pid: node id, then incarnation,
    then serial). The loser receives the message
    ``("name_conflict", name, winner_ref)`` and then, as its registration
    said: ``"stop"`` (stopped with reason ``("name_conflict", name)``),
    ``"keep"`` (keeps running without the name), or a callable
    ``on_conflict(name, loser_ref, winner_ref)`` run on this node.
    """

    def __init__(self, node: _core.Node) -> None:
        self._engine = node  # the engine node, shared with its noexpp.Node
        self._callbacks: dict[tuple[str, Ref], Callable[[str, Ref, Ref], Any]] = {}
        self._lock = threading.Lock()
        self._handler_set = False

    def register(self, name: str, ref: Ref, on_conflict: OnConflict = "stop",
                 timeout: float = 5.0) -> None:
        """Registers ``name`` for ``ref`` on every node. Raises
        DuplicateNameError if the name is taken, NoProcess if ``ref`` (a
        local process) is not alive, NodeDown / CallTimeout if the deciding
        member cannot be asked."""
        check_non_empty_str("name", name)
        _check_ref(ref)
        callback: Callable[[str, Ref, Ref], Any] | None = None
        if callable(on_conflict):
            mode, callback = _NOTIFY, on_conflict
            self._ensure_handler()
        elif isinstance(on_conflict, str) and on_conflict in _MODES:
            mode = _MODES[on_conflict]
        else:
            raise ValueError("on_conflict must be 'stop', 'keep' or a callable, "
                             f"got {on_conflict!r}")
        self._registry().register(name, ref, mode, timeout)
        if callback is not None:
            with self._lock:
                self._callbacks[(name, ref)] = callback

    def unregister(self, name: str, timeout: float = 5.0) -> bool:
        """Removes ``name`` everywhere; False if it was not registered."""
        check_str("name", name)
        return bool(self._registry().unregister(name, timeout))

    def whereis(self, name: str) -> Ref | None:
        """The process registered as ``name``, from this node's replica."""
        check_str("name", name)
        return self._registry().whereis(name)

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        return list(self._registry().names())

    def __repr__(self) -> str:
        return f"<noexpp.GlobalRegistry of {self._engine.id}: {len(self.names())} names>"

    def _ensure_handler(self) -> None:
        with self._lock:
            if self._handler_set:
                return
            self._handler_set = True
        self._registry().set_conflict_handler(self._conflict)

    def _registry(self) -> _core.GlobalRegistry:
        registry = self._engine.global_registry
        if registry is None:
            raise NodeDown(f"node {self._engine.id} does not listen (created with listen=None)")
        return registry

    def _conflict(self, name: str, loser: Ref, winner: Ref) -> None:
        with self._lock:
            callback = self._callbacks.pop((name, loser), None)
        if callback is not None:
            callback(name, loser, winner)
