"""What a :class:`noexpp.LocalCluster` started, and how it is all stopped.

Kept apart from the cluster object so ``weakref.finalize`` can stop it
without keeping the cluster alive.
"""
from __future__ import annotations

import shutil
import time

from ._os_node import NodeHandle, close_quietly
from .node import Node

__all__ = ["ClusterState"]

#: How long close() waits for node processes to stop after SIGTERM.
_STOP_GRACE = 10.0


class ClusterState:
    """The nodes (threads mode), node processes and controller (processes
    mode) and the temporary directory of one LocalCluster."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []            # threads mode
        self.handles: list[NodeHandle] = []    # processes mode
        self.controller_box: list[Node | None] = [None]  # shared with every NodeHandle
        self.tmpdir: str | None = None
        self.closed = False

    def close(self) -> None:
        """Stops everything, each step even if an earlier one failed (the
        first error is raised at the end), and removes the directory.
        Idempotent."""
        if self.closed:
            return
        self.closed = True
        errors: list[BaseException] = []
        for step in [*(node.stop for node in reversed(self.nodes)), self._stop_processes,
                     self._stop_controller]:
            try:
                step()
            except Exception as e:  # noqa: BLE001 - stop the rest; the first error is raised
                errors.append(e)
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
        if errors:
            raise errors[0]

    def _stop_controller(self) -> None:
        controller = self.controller_box[0]
        if controller is not None:
            controller.stop()

    def _stop_processes(self) -> None:
        # SIGTERM to all first, so they stop in parallel within one grace.
        for handle in self.handles:
            handle._terminate()
            close_quietly(handle.process.stdin)
        deadline = time.monotonic() + _STOP_GRACE
        for handle in self.handles:
            handle._finish(deadline)
