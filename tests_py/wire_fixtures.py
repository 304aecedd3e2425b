"""A node under attack for the wire and attack tests: the ``Served`` target
with a connected peer, and raw protocol connections to it (``raw``)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import noexpp
import pytest
from cluster_support import wait_members_up
from cluster_test_behaviors import PROBE
from cluster_wire_client import HEARTBEAT_ACK, WELCOME, WireClient
from helpers import TIMEOUT


class Served:
    """A node under test (``target``) with a connected peer (``peer``) that
    calls a process on it, and membership recorders on both."""

    def __init__(self, make_node: Callable[..., noexpp.Node], membership: Any, cookie: str,
                 **target_options: Any) -> None:
        self.cookie = cookie
        self._bystanders: list[WireClient] = []
        self.target = make_node("target", **target_options)
        self.peer = make_node("peer", seeds=[self.target.id])
        wait_members_up([self.target, self.peer])
        self.rec_target = membership(self.target)
        self.rec_peer = membership(self.peer)
        self.remote = self.peer.spawn_remote(self.target.id, PROBE, 1)
        assert self.remote.call("get", timeout=TIMEOUT) == 1

    def bystander(self) -> WireClient:
        """Another raw connection, established, that must survive."""
        c = WireClient(self.target.id)
        self._bystanders.append(c)  # closed at teardown, also when the test fails
        c.handshake(self.cookie, my_id="bystander@127.0.0.1:2")
        return c

    def close(self) -> None:
        for c in self._bystanders:
            c.close()

    def assert_still_serving(self, bystander: WireClient | None = None) -> None:
        # the peer connected before stays up and its calls still work
        assert self.remote.call(("add", 1), timeout=TIMEOUT) >= 2
        fresh = self.peer.spawn_remote(self.target.id, "noexpp.probe", 5)
        assert fresh.call("get", timeout=TIMEOUT) == 5
        assert self.rec_target.select("node_down") == [], self.rec_target.all()
        assert self.rec_peer.select("node_down") == [], self.rec_peer.all()
        assert [(i.id, i.status) for i in self.target.nodes()[1:]] == [(self.peer.id, "up")]
        # the other raw connection is untouched: its heartbeat is answered
        if bystander is not None:
            sent = bystander.heartbeat()
            ack = bystander.recv_kind({HEARTBEAT_ACK}, timeout=TIMEOUT)
            assert ack == [HEARTBEAT_ACK, sent]
        # and the listener still takes new connections
        with WireClient(self.target.id) as again:
            assert again.handshake(self.cookie, my_id="again@127.0.0.1:3") == [WELCOME]


@pytest.fixture
def served(make_cluster_node: Any, membership: Any, cluster_cookie: str) -> Iterator[Served]:
    s = Served(make_cluster_node, membership, cluster_cookie)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def raw(served: Served) -> Iterator[Callable[[], WireClient]]:
    """``raw()`` -> a raw TCP connection to the target node, closed at teardown."""
    clients: list[WireClient] = []

    def connect() -> WireClient:
        c = WireClient(served.target.id)
        clients.append(c)
        return c

    try:
        yield connect
    finally:
        for c in clients:
            c.close()
