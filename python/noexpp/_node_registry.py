"""Which :class:`noexpp.Node` wraps an engine node (``_core.Node``).

A leaf module, so that ``GenServer.node`` (gen_server.py) finds the Node of
its process without importing node.py: node.py adds each Node here when it
creates one. The table holds the wrappers weakly: a Node nobody refers to
any more is gone from it.
"""
from __future__ import annotations

import threading
import weakref
from typing import Any

__all__ = ["add", "lookup"]

# Keyed by id() of the engine node: a Node keeps its _core.Node alive, so the
# id cannot be reused while the entry exists.
_wrappers: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
_lock = threading.Lock()


def add(core: object, wrapper: object) -> None:
    """Records ``wrapper`` (a noexpp.Node) as the Node of ``core``."""
    with _lock:
        _wrappers[id(core)] = wrapper


def lookup(core: object) -> Any | None:
    """The noexpp.Node of ``core``, or None when that Node is gone."""
    with _lock:
        return _wrappers.get(id(core))
