"""The child behavior of ``py_dsup.py``'s distributed supervisors.

Importing it registers :class:`DsupWorker` as behavior ``"dsup_bench.worker"``;
the node processes of ``py_dsup.py``'s clusters run with
``--import dsup_bench_behaviors`` (``LocalCluster(modules=[...])``), so every
node can start it by name.
"""

from __future__ import annotations

import os
from typing import Any

import noexpp
from bench_server import BenchServer

__all__ = ["WORKER", "DsupWorker"]

WORKER = "dsup_bench.worker"


class DsupWorker(BenchServer):
    """``init(tag)``: the ``bench_srv`` twin (call ``ping`` -> ``pong``,
    ``count``; cast -> +1) that also says where it runs and crashes on request.

    Calls: ``"whoami"`` -> ``(tag, node_id, os_pid)``; ``"crash"`` raises
    ZeroDivisionError. Cast ``"crash"`` raises too (a crash nobody waits for).
    """

    def init(self, tag: str = "") -> None:
        """Keeps ``tag`` (the child id), as ``whoami`` answers it."""
        super().init()
        self.tag = tag

    def handle_call(self, request: Any, caller: Any) -> Any:
        """``whoami``, ``crash``, else what ``bench_srv`` answers."""
        if request == "whoami":
            return (self.tag, self.node.id, os.getpid())
        if request == "crash":
            return 1 // 0
        return super().handle_call(request, caller)

    def handle_cast(self, request: Any) -> None:
        """``crash`` raises; anything else counts, as ``bench_srv``."""
        if request == "crash":
            raise ZeroDivisionError("crash on request")
        super().handle_cast(request)


noexpp.register_behavior(WORKER, DsupWorker)
