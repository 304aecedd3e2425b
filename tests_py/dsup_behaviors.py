"""Behaviors of the distributed supervisor suite (test_distributed_supervisor.py).

Importable by node OS processes (``LocalCluster(modules=["dsup_behaviors"])``
runs ``python -m noexpp node --import dsup_behaviors``) as well as by the test
interpreter. They register themselves at import and report through Refs
they are given, never through Python objects of the test, so they behave
the same on every node. Names all start with ``dsup_test.``.
"""
from __future__ import annotations

import os
from typing import Any

import noexpp
from helpers import tell

__all__ = ["WORKER", "Worker"]

WORKER = "dsup_test.worker"


@noexpp.behavior(WORKER)
class Worker(noexpp.GenServer):
    """``init(tag, report=None, *extra)``: keeps its args and sends
    ``("up", tag, self, node_id, os_pid)`` to ``report`` (a Ref) when given.

    Calls: "whoami" -> ``(tag, node_id, os_pid)``; "args" -> every init arg;
    "crash" raises ZeroDivisionError. Cast "crash" raises too (a crash the
    caller does not wait for)."""

    def init(self, tag: Any, report: Any = None, *extra: Any) -> None:
        self.tag = tag
        self.args = (tag, report, *extra)
        tell(report, ("up", tag, self.ref, self.node.id, os.getpid()))

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "whoami":
            return (self.tag, self.node.id, os.getpid())
        if request == "args":
            return self.args
        if request == "crash":
            return 1 // 0
        return ("unknown", request)

    def handle_cast(self, request: Any) -> None:
        if request == "crash":
            raise ZeroDivisionError("crash on request")
