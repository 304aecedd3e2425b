"""Behaviors of test_mixed_tree.py, importable by node OS processes
(``LocalCluster(modules=["mixed_tree_behaviors"])``). Names start with
``mixed.``."""
from __future__ import annotations

import ctypes
import time
from typing import Any

import noexpp

__all__ = ["PROBER", "GilHog", "Prober"]

PROBER = "mixed.prober"


class GilHog(noexpp.GenServer):
    """Cast ("hog", seconds): sleeps in C *holding* the GIL (ctypes.PyDLL
    keeps it across the foreign call), as a C extension that never releases
    it would. Call "ping" -> "pong"."""

    def handle_cast(self, request: Any) -> None:
        _, seconds = request
        ctypes.PyDLL(None).usleep(int(seconds * 1_000_000))

    def handle_call(self, request: Any, caller: Any) -> Any:
        return "pong"


@noexpp.behavior(PROBER)
class Prober(noexpp.GenServer):
    """Cast ("probe", target, seconds, report): calls ``target`` with
    ("add", 0) back to back for ``seconds``, then sends ``report``
    ("probed", answers, slowest_call_seconds, failures)."""

    def handle_cast(self, request: Any) -> None:
        _, target, seconds, report = request
        answers, slowest, failures = 0, 0.0, []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            start = time.monotonic()
            try:
                target.call(("add", 0), timeout=10.0)
                answers += 1
            except noexpp.NoexppError as exc:
                failures.append(repr(exc))
            slowest = max(slowest, time.monotonic() - start)
        report.send(("probed", answers, slowest, failures))
