"""Starting the nodes of a :class:`noexpp.LocalCluster` and waiting until
they form a full mesh: in this interpreter (threads mode) or as OS processes
behind a hidden controller node (processes mode).

Everything started is recorded in the :class:`ClusterState` as soon as it
exists, so that the cluster can stop it if startup fails half-way.
"""
from __future__ import annotations

import importlib
import os
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, Callable

from ._cluster_state import ClusterState
from ._os_node import child_env, start_node_process
from .errors import CallTimeout, NodeDown
from .node import Node

__all__ = ["start_processes", "start_threads"]


def _pause(seconds: float) -> None:
    """A bounded pause that is not a bare sleep (Event.wait never set)."""
    threading.Event().wait(seconds)


def start_threads(state: ClusterState, n: int, *, name: str, cookie: str,
                  modules: Sequence[str], options: Mapping[str, Any], deadline: float,
                  timeout: float) -> None:
    """Imports ``modules``, starts ``n`` Nodes here (each seeded with the
    first) and waits for node_up events until every one sees every other
    one up; TimeoutError naming the missing links at ``deadline``."""
    for module in modules:
        importlib.import_module(module)
    changed = threading.Event()
    unsubscribe: list[Callable[[], None]] = []

    def poke(_event: dict[str, Any]) -> None:
        changed.set()
    try:
        for i in range(1, n + 1):
            seeds = [state.nodes[0].id] if state.nodes else None
            node = Node(f"{name}{i}", "127.0.0.1:0", cookie=cookie, seeds=seeds, **options)
            state.nodes.append(node)
            unsubscribe.append(node.on("node_up", poke))
        while True:
            changed.clear()  # cleared before looking: no event is missed
            missing = _threads_missing(state.nodes)
            if not missing:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"LocalCluster: not up within {timeout:g} s: {missing}")
            changed.wait(min(left, 0.5))
    finally:
        for unsub in unsubscribe:
            unsub()


def _threads_missing(nodes: list[Node]) -> str:
    ids = [x.id for x in nodes]
    problems = []
    for node in nodes:
        up = {info.id for info in node.nodes() if info.status == "up"}
        lacking = [i for i in ids if i != node.id and i not in up]
        if lacking:
            problems.append(f"{node.id} does not see {', '.join(lacking)} up")
    return "; ".join(problems)


def start_processes(state: ClusterState, n: int, *, name: str, cookie: str,
                    modules: Sequence[str], options: Mapping[str, Any], deadline: float,
                    timeout: float) -> None:
    """Writes the cookie file (mode 0600) into a new temporary directory,
    starts ``n`` node processes (the first, then the others seeded with it),
    then the hidden controller node, which connects to each and asks them
    until every one sees every other one up. RuntimeError if a process
    exits, TimeoutError at ``deadline``."""
    state.tmpdir = tempfile.mkdtemp(prefix="noexpp-cluster-")
    cookie_path = os.path.join(state.tmpdir, "cookie")
    fd = os.open(cookie_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(cookie)
    env = child_env()

    def start(i: int, seed: str | None) -> None:
        assert state.tmpdir is not None
        state.handles.append(start_node_process(
            f"{name}{i}", cookie_path=cookie_path, seed=seed, modules=modules, options=options,
            env=env, log_dir=state.tmpdir, controller_box=state.controller_box))

    start(1, None)
    first = state.handles[0]
    first._await_running(deadline, timeout)
    for i in range(2, n + 1):
        start(i, first.id)
    for handle in state.handles[1:]:
        handle._await_running(deadline, timeout)

    controller = Node(f"{name}-ctl", "127.0.0.1:0", cookie=cookie, hidden=True, **options)
    state.controller_box[0] = controller
    for handle in state.handles:
        controller.connect(handle.id, timeout=max(0.1, deadline - time.monotonic()))
    ids = [h.id for h in state.handles]
    pending = list(state.handles)
    while True:
        still = []
        for handle in pending:
            handle._check_not_exited()
            try:
                members = controller._request(handle.id, ("members",), timeout=2.0)
            except (NodeDown, CallTimeout):
                members = []
            if not set(ids) <= set(members):
                still.append((handle, [i for i in ids if i not in members]))
        if not still:
            return
        if time.monotonic() >= deadline:
            detail = "; ".join(f"{h.id} does not see {', '.join(m)} up" for h, m in still)
            raise TimeoutError(f"LocalCluster: not up within {timeout:g} s: {detail}")
        pending = [h for h, _ in still]
        _pause(0.02)
