"""The cluster port under hostile or broken input, from a raw Python socket
(DESIGN §6): garbage, truncated frames, oversized length prefixes, unknown
or out-of-place frame kinds, wrong cookies and versions each close only
that connection, within a bound, and the node keeps serving its peers.

The raw client (cluster_wire_client.py) speaks the protocol itself: it
completes a real handshake first for the "after the handshake" cases.
"""
from __future__ import annotations

import os
import struct
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import noexpp
import pytest
from cluster_wire_client import (
    CALL,
    CHALLENGE,
    ENVELOPE,
    HEARTBEAT,
    HEARTBEAT_ACK,
    HELLO,
    PROTOCOL_VERSION,
    REJECT,
    REPLY,
    STATUS_NOPROC,
    STATUS_OK,
    WELCOME,
    Pid,
    Tuple,
    WireClient,
    frame,
    packb,
    proof,
)
from helpers import TIMEOUT

#: The node closes a bad connection well within this. It is below both the
#: handshake timeout (5 s) and the heartbeat detection (~1.6 s after our
#: last heartbeat), so a close for one of those reasons would not pass.
CLOSE_BOUND = 1.0
RAW_ID = "rawclient@127.0.0.1:1"

if TYPE_CHECKING:
    from wire_fixtures import Served

pytest_plugins = ["cluster_fixtures", "wire_fixtures"]


def _hello_items(nonce: bytes | None = None) -> list[Any]:
    return [HELLO, 1, RAW_ID, 7, os.urandom(32) if nonce is None else nonce, True]


# Each scenario: (bytes to send, whether to half-close our side after them).
BEFORE_HANDSHAKE: dict[str, tuple[Callable[[], bytes], bool]] = {
    "garbage_text": (lambda: b"GET / HTTP/1.1\r\nHost: noexpp\r\n\r\n" * 4, False),
    "garbage_msgpack_body": (lambda: struct.pack(">I", 8) + b"\xc1" * 8, False),
    "truncated_frame": (lambda: struct.pack(">I", 100) + b"\x93\x01\x02" + b"\x00" * 7, True),
    "oversized_length_prefix": (lambda: b"\xff\xff\xff\xff" + b"\x00" * 64, False),
    "over_the_handshake_frame_limit": (lambda: struct.pack(">I", 5000) + b"\x00" * 5000, False),
    "unknown_kind": (lambda: frame([99]), False),
    "frame_not_an_array": (lambda: struct.pack(">I", 6) + packb("hello"), False),
    "kind_not_an_integer": (lambda: frame(["hello", 1]), False),
    "empty_array": (lambda: frame([]), False),
    "heartbeat_before_hello": (lambda: frame([HEARTBEAT, 1, 0]), False),
    "hello_with_short_nonce": (lambda: frame(_hello_items(b"\x01" * 5)), False),
    "hello_with_wrong_types": (lambda: frame([HELLO, "one", 5, "creation", b"n", "yes"]), False),
}

AFTER_HANDSHAKE: dict[str, tuple[Callable[[], bytes], bool]] = {
    "garbage_text": (lambda: b"GET / HTTP/1.1\r\nHost: noexpp\r\n\r\n" * 4, False),
    "garbage_msgpack_body": (lambda: struct.pack(">I", 8) + b"\xc1" * 8, False),
    "truncated_frame": (lambda: struct.pack(">I", 100) + b"\x93\x0a\x01" + b"\x00" * 7, True),
    "oversized_length_prefix": (lambda: b"\xff\xff\xff\xff" + b"\x00" * 64, False),
    "unknown_kind": (lambda: frame([99]), False),
    "unknown_kind_with_items": (lambda: frame([99, "x", [1, 2], b"\x00"]), False),
    "hello_after_handshake": (lambda: frame(_hello_items()), False),
    "welcome_after_handshake": (lambda: frame([WELCOME]), False),
    "call_with_bad_pids": (lambda: frame([21, "not a pid", 3, 1, "ping"]), False),
    "envelope_with_bad_kind": (lambda: frame([20, 9999, None, None, 1, "x", None]), False),
}


@pytest.mark.parametrize("scenario", list(BEFORE_HANDSHAKE))
def test_bad_input_before_the_handshake_closes_only_that_connection(
        served: Served, raw: Callable[[], WireClient], scenario: str) -> None:
    bystander = served.bystander()
    payload, half_close = BEFORE_HANDSHAKE[scenario]
    bad = raw()

    start = time.monotonic()
    bad.send_raw(payload())
    if half_close:
        bad.shutdown_write()

    frames = bad.expect_closed(CLOSE_BOUND)
    assert time.monotonic() - start < CLOSE_BOUND
    # nothing but possibly a reject came back: no challenge was issued
    assert all(f[0] == REJECT for f in frames), frames
    served.assert_still_serving(bystander)
    bystander.close()


@pytest.mark.parametrize("scenario", list(AFTER_HANDSHAKE))
def test_bad_input_after_the_handshake_closes_only_that_connection(
        served: Served, raw: Callable[[], WireClient], scenario: str) -> None:
    bystander = served.bystander()
    payload, half_close = AFTER_HANDSHAKE[scenario]
    bad = raw()
    assert bad.handshake(served.cookie, my_id=RAW_ID) == [WELCOME]
    # established: the node heartbeats us and answers our heartbeat (which
    # also resets its failure detector, so silence cannot close us in time)
    assert bad.recv_kind({HEARTBEAT}, timeout=TIMEOUT)[0] == HEARTBEAT
    sent = bad.heartbeat()
    assert bad.recv_kind({HEARTBEAT_ACK}, timeout=TIMEOUT) == [HEARTBEAT_ACK, sent]

    start = time.monotonic()
    bad.send_raw(payload())
    if half_close:
        bad.shutdown_write()

    frames = bad.expect_closed(CLOSE_BOUND)
    assert time.monotonic() - start < CLOSE_BOUND
    assert all(f[0] in (HEARTBEAT, HEARTBEAT_ACK) for f in frames), frames
    served.assert_still_serving(bystander)
    bystander.close()


def test_raw_client_handshake_is_accepted_and_hidden(served: Served, raw: Callable[[], WireClient]) -> None:
    c = raw()
    assert c.handshake(served.cookie, my_id=RAW_ID) == [WELCOME]
    assert c.peer_creation >= 0
    hb = c.recv_kind({HEARTBEAT}, timeout=TIMEOUT)
    assert len(hb) == 3 and isinstance(hb[1], int)
    assert hb[2] == served.target.process_count()   # heartbeats carry the process count
    sent = c.heartbeat(424242, 3)
    assert c.recv_kind({HEARTBEAT_ACK}, timeout=TIMEOUT) == [HEARTBEAT_ACK, 424242] == [HEARTBEAT_ACK, sent]
    # a hidden peer is never a member and produces no events
    assert RAW_ID not in {i.id for i in served.target.nodes()}
    assert RAW_ID not in {i.id for i in served.peer.nodes()}
    c.close()
    served.assert_still_serving()
    assert served.rec_target.select() == []


def test_raw_client_with_a_wrong_cookie_gets_reject_cookie_and_node_stays_up(
        served: Served, raw: Callable[[], WireClient]) -> None:
    c = raw()
    nonce_a = os.urandom(32)
    c.hello(RAW_ID, nonce_a)
    challenge = c.recv(timeout=TIMEOUT)
    assert challenge[0] == CHALLENGE
    _, id_b, _creation, nonce_b, proof_b = challenge
    # the node's proof is bound to the cookie and to our nonce
    assert proof_b == proof(served.cookie, b"B", nonce_a, id_b)
    assert proof_b != proof("another-cookie", b"B", nonce_a, id_b)

    c.send([3, proof("another-cookie", b"A", nonce_b, RAW_ID)])

    reject = c.recv(timeout=CLOSE_BOUND)
    assert reject[0] == REJECT and reject[1] == "cookie", reject
    assert isinstance(reject[2], str)
    c.expect_closed(CLOSE_BOUND)
    served.assert_still_serving()


def test_a_replayed_proof_is_rejected(served: Served, raw: Callable[[], WireClient]) -> None:
    """A proof recorded from one handshake is useless for the next (fresh nonces)."""
    first = raw()
    nonce_a = os.urandom(32)
    first.hello(RAW_ID, nonce_a)
    _, _, _, nonce_b, _ = first.recv(timeout=TIMEOUT)
    recorded = proof(served.cookie, b"A", nonce_b, RAW_ID)
    first.send([3, recorded])
    assert first.recv(timeout=TIMEOUT) == [WELCOME]
    first.close()

    second = raw()
    second.hello(RAW_ID, os.urandom(32))
    challenge = second.recv(timeout=TIMEOUT)
    assert challenge[3] != nonce_b
    second.send([3, recorded])
    reject = second.recv(timeout=CLOSE_BOUND)
    assert reject[:2] == [REJECT, "cookie"], reject
    second.expect_closed(CLOSE_BOUND)
    served.assert_still_serving()


def test_raw_client_reflecting_the_nodes_proof_is_rejected(served: Served, raw: Callable[[], WireClient]) -> None:
    """The roles differ: sending back the node's own proof does not pass."""
    c = raw()
    nonce = os.urandom(32)
    c.hello(RAW_ID, nonce)
    _, _, _, _, proof_b = c.recv(timeout=TIMEOUT)
    c.send([3, proof_b])
    reject = c.recv(timeout=CLOSE_BOUND)
    assert reject[:2] == [REJECT, "cookie"], reject
    c.expect_closed(CLOSE_BOUND)
    served.assert_still_serving()


def test_raw_client_with_another_protocol_version_gets_reject_version(
        served: Served, raw: Callable[[], WireClient]) -> None:
    c = raw()
    c.hello(RAW_ID, os.urandom(32), version=PROTOCOL_VERSION + 1)
    reject = c.recv(timeout=CLOSE_BOUND)
    assert reject[:2] == [REJECT, "version"], reject
    c.expect_closed(CLOSE_BOUND)
    served.assert_still_serving()


@pytest.mark.parametrize("claimed", ["self", "malformed"])
def test_raw_client_with_a_bad_identity_gets_reject_identity(
        served: Served, raw: Callable[[], WireClient], claimed: str) -> None:
    c = raw()
    ident = served.target.id if claimed == "self" else "no-at-sign"
    c.hello(ident, os.urandom(32))
    reject = c.recv(timeout=CLOSE_BOUND)
    assert reject[:2] == [REJECT, "identity"], reject
    c.expect_closed(CLOSE_BOUND)
    served.assert_still_serving()


def test_raw_client_claiming_a_connected_peers_id_cannot_disconnect_it(
        served: Served, raw: Callable[[], WireClient]) -> None:
    """A connection without the cookie that claims the id of a member that is
    up (as a new incarnation of it) must not cost the member its connection:
    the hello is not authenticated yet."""
    c = raw()
    c.send([HELLO, 1, served.peer.id, 1, os.urandom(32), False])
    first = c.recv(timeout=CLOSE_BOUND)
    assert first[0] in (REJECT, CHALLENGE), first
    if first[0] == CHALLENGE:
        c.send([3, b"\x00" * 32])    # it cannot know the proof
        reject = c.recv_kind({REJECT}, timeout=CLOSE_BOUND)
        assert reject[:2] == [REJECT, "cookie"], reject
    c.expect_closed(CLOSE_BOUND)
    served.assert_still_serving()


def test_frame_over_max_message_size_after_the_handshake_closes_only_that_connection(
        make_cluster_node: Any, membership: Any, cluster_cookie: str) -> None:
    from wire_fixtures import Served  # noqa: PLC0415 - a pytest plugin: imported once registered
    served = Served(make_cluster_node, membership, cluster_cookie, max_message_size=4096)
    bystander = served.bystander()
    with WireClient(served.target.id) as c:
        assert c.handshake(served.cookie, my_id=RAW_ID) == [WELCOME]
        # a frame under the limit is read and answered...
        sent = c.heartbeat(None, 0, b"p" * 3000)
        assert c.recv_kind({HEARTBEAT_ACK}, timeout=TIMEOUT) == [HEARTBEAT_ACK, sent]
        # ...one of 10 KB closes the connection
        start = time.monotonic()
        c.heartbeat(None, 0, b"p" * 10_000)
        c.expect_closed(CLOSE_BOUND)
        assert time.monotonic() - start < CLOSE_BOUND
    served.assert_still_serving(bystander)
    bystander.close()


def test_many_garbage_connections_at_once_leave_the_node_serving(served: Served) -> None:
    clients = [WireClient(served.target.id) for _ in range(20)]
    try:
        for i, c in enumerate(clients):
            c.send_raw(os.urandom(64) if i % 2 else struct.pack(">I", 8) + b"\xc1" * 8)
        for c in clients:
            c.expect_closed(TIMEOUT)
    finally:
        for c in clients:
            c.close()
    served.assert_still_serving()


def _serial(ref: Any) -> int:
    """The serial of a Ref, from its repr "Ref(<name@host:port.N>)"."""
    return int(repr(ref).rstrip(">)").rpartition(".")[2])


def test_raw_client_after_the_handshake_can_call_the_node_itself(
        served: Served, raw: Callable[[], WireClient], unique: Any) -> None:
    name = unique("registered")
    ref = served.target.spawn(noexpp.GenServer, name=name)
    c = raw()
    c.handshake(served.cookie, my_id=RAW_ID)
    node_itself = Pid(served.target.id, c.peer_creation, 0)
    me = Pid(RAW_ID, 12345, 1)
    c.send([CALL, node_itself, me, 1, Tuple(["process_count"])])
    assert c.recv_kind({REPLY}, timeout=TIMEOUT) == [REPLY, 1, STATUS_OK, served.target.process_count(), None, None]
    c.send([CALL, node_itself, me, 2, Tuple(["whereis", name])])
    assert c.recv_kind({REPLY}, timeout=TIMEOUT) == [
        REPLY, 2, STATUS_OK, Pid(served.target.id, c.peer_creation, _serial(ref)), None, None]
    # a pid of an older incarnation of the node is not this node's
    c.send([CALL, Pid(served.target.id, c.peer_creation + 1, _serial(ref)), me, 3, "x"])
    reply = c.recv_kind({REPLY}, timeout=TIMEOUT)
    assert reply[:3] == [REPLY, 3, STATUS_NOPROC], reply
    served.assert_still_serving()


def test_raw_client_cannot_make_the_node_forward_frames_to_another_node(
        make_cluster_node: Any, membership: Any, cluster_cookie: str) -> None:
    target = make_cluster_node("target")
    rec_target = membership(target)
    peer = make_cluster_node("peer", seeds=[target.id])
    peer_creation = rec_target.wait("node_up", node=peer.id)[0]["creation"]
    victim = peer.spawn("noexpp.probe", 10)        # a process on the peer
    victim_pid = Pid(peer.id, peer_creation, _serial(victim))
    with WireClient(target.id) as c:
        c.handshake(cluster_cookie, my_id=RAW_ID)
        me = Pid(RAW_ID, 12345, 1)
        # a call, a cast and a stop addressed through target to the peer's process
        c.send([CALL, victim_pid, me, 9, Tuple(["add", 5])])
        reply = c.recv_kind({REPLY}, timeout=TIMEOUT)
        assert reply[:3] == [REPLY, 9, STATUS_NOPROC], reply
        c.send([ENVELOPE, 1, victim_pid, me, 0, "inc", None])          # cast
        c.send([ENVELOPE, 6, victim_pid, me, 0, None, "killed"])       # stop
        sent = c.heartbeat()
        assert c.recv_kind({HEARTBEAT_ACK}, timeout=TIMEOUT) == [HEARTBEAT_ACK, sent]
    # the target applied none of them to the peer's process
    assert victim.call("get", timeout=TIMEOUT) == 10
    assert victim.alive
    assert rec_target.select("node_down") == []


def test_silent_connections_are_closed_at_the_handshake_timeout(
        served: Served, raw: Callable[[], WireClient]) -> None:
    """A peer that connects and says nothing (or stops after its hello)
    cannot hold a connection: the 5 s handshake timeout closes it."""
    silent = raw()
    stalled = raw()
    stalled.hello(RAW_ID, os.urandom(32))
    assert stalled.recv(timeout=TIMEOUT)[0] == CHALLENGE   # and never answers it
    start = time.monotonic()
    silent.expect_closed(8.0)
    stalled.expect_closed(8.0)
    assert 3.0 < time.monotonic() - start < 8.0
    served.assert_still_serving()
