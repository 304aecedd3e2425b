"""Behaviors for the cluster examples, registered by name when imported.

Not an example to run: node processes started by
``noexpp.LocalCluster(..., modules=["cluster_example_behaviors"])`` import
it (examples/cluster_failover.py), so these names can be spawned there.
"""
import os

import noexpp


@noexpp.behavior("example.store")
class Store(noexpp.GenServer):
    """A small key-value store. call ("put", key, value) -> "ok",
    ("get", key) -> the value or None, "where" -> (node id, OS pid)."""

    def init(self):
        self.data = {}

    def handle_call(self, request, caller):
        if request == "where":
            return self.ref.node_id, os.getpid()
        if request[0] == "put":
            _, key, value = request
            self.data[key] = value
            return "ok"
        if request[0] == "get":
            return self.data.get(request[1])
        raise ValueError(f"unknown request {request!r}")


@noexpp.behavior("example.job")
class Job(noexpp.GenServer):
    """One long-running job of examples/distributed_supervisor.py. init(name)
    keeps its name; call "where" -> (name, node id, OS pid), "crash" raises."""

    def init(self, name):
        self.name = name

    def handle_call(self, request, caller):
        if request == "where":
            return self.name, self.ref.node_id, os.getpid()
        if request == "crash":
            raise RuntimeError(f"job {self.name} failed")
        raise ValueError(f"unknown request {request!r}")
