"""Behaviors for the LocalCluster tests, registered by name at import.

Node processes started by ``LocalCluster(modules=["cluster_behaviors"])``
import this module, so these names can be spawned there remotely.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import noexpp

__all__ = ["BLOCK_IMPORT_ENV", "LcCounter", "LcEcho"]

#: When this environment variable is "1", importing this module hangs (up to
#: a minute): a node process that never reports running, for startup timeouts.
BLOCK_IMPORT_ENV = "NOEXPP_TEST_LC_BLOCK_IMPORT"

if os.environ.get(BLOCK_IMPORT_ENV) == "1":
    threading.Event().wait(60.0)


@noexpp.behavior("lc_echo")
class LcEcho(noexpp.GenServer):
    """call ``x`` -> ``x``; call ``"os_pid"`` -> the OS pid of its node."""

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "os_pid":
            return os.getpid()
        return request


@noexpp.behavior("lc_counter")
class LcCounter(noexpp.GenServer):
    """Counts casts of ``"inc"`` from ``start``; call ``"get"`` -> the count,
    ``("add", n)`` -> the new count."""

    def init(self, start: int = 0) -> None:
        self.value = start

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "get":
            return self.value
        if isinstance(request, tuple) and len(request) == 2 and request[0] == "add":
            self.value += request[1]
            return self.value
        raise ValueError(f"lc_counter: unknown call {request!r}")

    def handle_cast(self, request: Any) -> None:
        if request == "inc":
            self.value += 1
