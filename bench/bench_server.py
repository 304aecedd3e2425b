"""The Python twin of the Erlang anchor's bench_srv.erl, shared by run.py and py_sup.py."""

from __future__ import annotations

from typing import Any

import noexpp


class BenchServer(noexpp.GenServer):
    """bench_srv.erl in Python: call ping -> pong, count; cast -> +1."""

    def init(self) -> None:
        self.count = 0

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "ping":
            return "pong"
        if request == "count":
            return self.count
        raise ValueError(f"unknown request {request!r}")

    def handle_cast(self, request: Any) -> None:
        self.count += 1


# Remote spawn names a registered behavior: bench/py_dist.py starts its peer
# node processes with `--import bench_server`, then spawns "bench_srv" there.
noexpp.register_behavior("bench_srv", BenchServer)
