"""The attacks of issue 12, one regression test each, named after the attack.

Each attack comes from a raw protocol client (cluster_wire_client.py) that
completed a real handshake, so it is a cookie holder gone bad, or from an
unauthenticated connection. The node under attack must close only the bad
connection, say why in its log, keep serving its real peer, and lose
nothing (wire_fixtures.Served.assert_still_serving).
"""
from __future__ import annotations

import os
import resource
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import noexpp
import pytest
from cluster_support import wait_members_up
from cluster_test_behaviors import ECHO, Echo
from cluster_wire_client import CALL, CHALLENGE, Closed, ENVELOPE, HEARTBEAT_ACK, REPLY, Pid, WireClient, frame
from helpers import TIMEOUT, Collector, InThread, wait_for

if TYPE_CHECKING:
    from wire_fixtures import Served

pytest_plugins = ["cluster_fixtures", "wire_fixtures"]

#: The node closes a bad connection well within this (below the heartbeat
#: detection, so a close for another reason would not pass).
CLOSE_BOUND = 1.0
RAW_ID = "attacker@127.0.0.1:1"
#: Envelope::Kind on the wire (cpp/src/core/internal/envelope.hpp).
KIND_DOWN, KIND_EXIT_SIGNAL, KIND_STOP = 3, 4, 6
DOWN = 25  # FrameKind::down


def _serial(ref: Any) -> int:
    """The serial of a Ref, from its repr "Ref(<name@host:port.N>)"."""
    return int(repr(ref).rstrip(">)").rpartition(".")[2])


def _attacker(served: Served, raw: Callable[[], WireClient]) -> WireClient:
    c = raw()
    c.handshake(served.cookie, my_id=RAW_ID)
    return c


def _target_pid(c: WireClient, ref: Any) -> Pid:
    """The wire pid of `ref`, a process on the node `c` is connected to."""
    return Pid(c.peer_id, c.peer_creation, _serial(ref))


def _wait_for_log(capfd: pytest.CaptureFixture[str], text: str, timeout: float = TIMEOUT,
                  context: str = "") -> str:
    """Reads the engine's stderr until `text` shows up; returns what was read.
    ``context`` is added to the failure message."""
    seen = ""
    deadline = time.monotonic() + timeout
    while text not in seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"the log never said {text!r}{context}; it said:\n{seen[-3000:]}")
        seen += capfd.readouterr().err
        time.sleep(0.02)  # polling a captured stream; the wait is bounded above
    return seen


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- 1. one small frame killed the node -------------------------------------------


@pytest.mark.parametrize("kind", [KIND_DOWN, KIND_EXIT_SIGNAL, KIND_STOP], ids=["down", "exit_signal", "stop"])
@pytest.mark.parametrize("shape", ["nil_reason", "no_reason_item"])
def test_envelope_without_a_reason_closes_only_that_connection(
        served: Served, raw: Callable[[], WireClient], capfd: pytest.CaptureFixture[str],
        kind: int, shape: str) -> None:
    victim = served.target.spawn("noexpp.probe", 3)
    bystander = served.bystander()
    c = _attacker(served, raw)
    items: list[Any] = [ENVELOPE, kind, _target_pid(c, victim), Pid(RAW_ID, 12345, 1), 0, None]
    if shape == "nil_reason":
        items.append(None)
    c.send(items)
    frames = c.expect_closed(CLOSE_BOUND)
    # Seen once in CI: closed, but never logged (cause unknown); the frames
    # read before the close, and the members, say more next time.
    _wait_for_log(capfd, "the reason is missing",
                  context=f" (frames before the close: {frames}; members: {served.target.nodes()})")
    assert victim.alive and victim.call("get", timeout=TIMEOUT) == 3
    served.assert_still_serving(bystander)
    bystander.close()


def test_down_frame_without_a_reason_closes_only_that_connection(
        served: Served, raw: Callable[[], WireClient], capfd: pytest.CaptureFixture[str]) -> None:
    c = _attacker(served, raw)
    c.send([DOWN, Pid(served.target.id, 1, 1), Pid(RAW_ID, 12345, 1), 7])
    c.expect_closed(CLOSE_BOUND)
    _wait_for_log(capfd, "the reason is missing")
    served.assert_still_serving()


# --- 2. nested pids defeated the depth limit ----------------------------------------


def _nested_pid_ext(levels: int) -> bytes:
    """msgpack of `levels` pid ext values, each inside the next one's payload
    ([inner, 1, 1]); built from its lengths, without quadratic copying."""
    headers = []
    size = 1  # the innermost value, b"\x01"
    for _ in range(levels):
        payload = 1 + size + 2
        headers.append(b"\xc9" + payload.to_bytes(4, "big") + b"\x01\x93")
        size = 6 + payload
    return b"".join(reversed(headers)) + b"\x01" + b"\x01\x01" * levels


@pytest.mark.parametrize("levels", [10_000, 100_000])
def test_nested_pids_close_only_that_connection_and_cost_no_memory(
        served: Served, raw: Callable[[], WireClient], capfd: pytest.CaptureFixture[str], levels: int) -> None:
    # 100,000 levels are 0.57 MB: they took 3.3 GB in 8 s and stalled the
    # network thread until the peers called the node down.
    victim = served.target.spawn("noexpp.probe", 1)
    body = _nested_pid_ext(levels)
    c = _attacker(served, raw)
    head = frame([ENVELOPE, 1, _target_pid(c, victim), Pid(RAW_ID, 12345, 1), 0])
    # [20, 1, to, from, 0] is a 5-array: rewrite its header to 7 items, then
    # append the term and a nil reason.
    assert head[4] == 0x95
    data = head[4:5].replace(b"\x95", b"\x97") + head[5:] + body + b"\xc0"
    before = _rss_mb()
    c.send_raw(len(data).to_bytes(4, "big") + data)
    c.expect_closed(CLOSE_BOUND + 2.0)
    _wait_for_log(capfd, "malformed pid")  # a pid holds no pid: refused at the first level
    assert _rss_mb() - before < 100, f"decoding cost {_rss_mb() - before:.0f} MB"
    served.assert_still_serving()


def test_a_container_announcing_more_elements_than_bytes_closes_only_that_connection(
        served: Served, raw: Callable[[], WireClient], capfd: pytest.CaptureFixture[str]) -> None:
    head = frame([CALL, Pid(served.target.id, 1, 0), Pid(RAW_ID, 12345, 1), 1])
    body = head[4:5].replace(b"\x94", b"\x95") + head[5:] + b"\xdd\xff\xff\xff\xff"
    c = _attacker(served, raw)
    c.send_raw(len(body).to_bytes(4, "big") + body)
    c.expect_closed(CLOSE_BOUND)
    _wait_for_log(capfd, "more elements than the input has bytes")
    served.assert_still_serving()


# --- 4. any authenticated peer could answer any pending call --------------------------


def test_forged_replies_from_a_third_node_answer_no_call(
        served: Served, raw: Callable[[], WireClient]) -> None:
    # A call from the target to its peer, and one purely local call, both
    # held open while a third party sprays replies for every small ref: it
    # made both return its value. Only the connection a call went out on
    # may answer it, once.
    target, peer = served.target, served.peer
    held = Collector(target)
    local_echo = target.spawn(ECHO, held.ref)
    remote_echo = target.spawn_remote(peer.id, ECHO, held.ref)
    remote_call = InThread(remote_echo.call, ("hold",), timeout=60.0)
    local_call = InThread(local_echo.call, ("hold",), timeout=60.0)
    assert held.get() == ("held",) and held.get() == ("held",)
    c = _attacker(served, raw)
    for ref in range(1, 200_000):
        c.send([REPLY, ref, 0, "forged", None, None])
    sent = c.heartbeat()  # all the forgeries were read once this is answered
    assert c.recv_kind({HEARTBEAT_ACK}, timeout=TIMEOUT) == [HEARTBEAT_ACK, sent]
    assert remote_call.ended_at == float("inf") and local_call.ended_at == float("inf"), \
        (remote_call.result, local_call.result)
    remote_echo.cast(("release", "genuine-remote"))
    local_echo.cast(("release", "genuine-local"))
    remote_call.wait()
    local_call.wait()
    assert (remote_call.error, remote_call.result) == (None, "genuine-remote")
    assert (local_call.error, local_call.result) == (None, "genuine-local")
    served.assert_still_serving()


def test_a_reply_with_an_unknown_status_is_a_protocol_error(
        served: Served, raw: Callable[[], WireClient], capfd: pytest.CaptureFixture[str]) -> None:
    c = _attacker(served, raw)
    c.send([REPLY, 1, 99, None, None, None])
    c.expect_closed(CLOSE_BOUND)
    _wait_for_log(capfd, "the status is not a call status")
    served.assert_still_serving()


# --- 3. an unauthenticated hello squatted a member's id -----------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_squatting_hello_does_not_keep_a_member_out(
        served: Served, raw: Callable[[], WireClient], make_cluster_node: Callable[..., noexpp.Node]) -> None:
    port = _free_port()
    late_id = f"late@127.0.0.1:{port}"
    squatter = raw()
    squatter.hello(late_id, os.urandom(32), hidden=False)
    assert squatter.recv(TIMEOUT)[0] == CHALLENGE  # it holds the half-open handshake
    late = make_cluster_node("late", listen=f"127.0.0.1:{port}", seeds=[served.target.id])
    assert late.id == late_id
    # Without the fix the real member was turned away as a duplicate, for good.
    wait_members_up([served.target, late])


# --- 9. smaller: what a node refuses at once ------------------------------------------


@pytest.mark.parametrize("name", ["a b", "new\nline", "nul\0", "x" * 10_000, "", "é"],
                         ids=["space", "newline", "nul", "10k", "empty", "non_ascii"])
def test_a_node_name_the_handshake_would_refuse_is_refused_at_construction(name: str) -> None:
    with pytest.raises(ValueError, match="name must be 1 to 255 characters"):
        noexpp.Node(name, listen=None)


def test_an_empty_cookie_is_refused_not_replaced_by_the_cookie_file() -> None:
    with pytest.raises(ValueError, match="cookie must not be empty"):
        noexpp.Node("n", cookie="")


def test_an_empty_child_id_is_refused() -> None:
    with pytest.raises(ValueError, match="ChildSpec id must not be empty"):
        noexpp.ChildSpec("", Echo)


def test_an_oversized_global_name_is_refused_at_register(served: Served) -> None:
    reg = served.peer.global_registry
    ref = served.peer.spawn(Echo)
    with pytest.raises(ValueError, match="at most 1024 bytes"):
        reg.register("n" * 17_000_000, ref)
    reg.register("n" * 1024, ref)  # the bound itself is fine, and reaches the others
    wait_for(lambda: served.target.global_registry.whereis("n" * 1024) == ref)


# --- 6. unauthenticated connections: a cap, small buffers, few log lines ------------


#: ClusterOptions::max_pending_handshakes_per_address (the default).
PENDING_PER_ADDRESS = 64


def test_unauthenticated_connections_past_the_cap_are_closed_at_once(
        served: Served, raw: Callable[[], WireClient]) -> None:
    held = []
    for i in range(PENDING_PER_ADDRESS):
        c = raw()
        c.hello(f"squatter{i}@127.0.0.1:1", os.urandom(32))
        assert c.recv(TIMEOUT)[0] == CHALLENGE  # the node holds this handshake now
        held.append(c)
    raw().expect_closed(CLOSE_BOUND)
    for c in held:
        c.close()
    # Once the node has seen them go, a cookie holder gets in again.
    wait_for(lambda: _handshake_completes(served, raw))
    served.assert_still_serving()


def _handshake_completes(served: Served, raw: Callable[[], WireClient]) -> bool:
    try:
        raw().handshake(served.cookie, my_id=RAW_ID, timeout=CLOSE_BOUND)
    except (AssertionError, Closed, OSError, TimeoutError):
        return False
    return True


def test_a_flood_of_bad_connections_writes_few_warnings(
        served: Served, raw: Callable[[], WireClient], capfd: pytest.CaptureFixture[str]) -> None:
    for _ in range(300):
        c = raw()
        c.send_raw(b"\xff" * 8)  # a frame length far over the handshake's 4 KiB
        c.close()
    seen = _wait_for_log(capfd, "connection from 127.0.0.1")
    raw().handshake(served.cookie, my_id=RAW_ID)  # a cookie holder is not slowed down
    seen += capfd.readouterr().err
    lines = [line for line in seen.splitlines() if "connection from 127.0.0.1" in line]
    # One line per address per 10 s (two if the run straddles a window).
    assert 1 <= len(lines) <= 3, lines
    served.assert_still_serving()


# --- found by fuzz_frame_validation: frames shorter than their kind -----------------


@pytest.mark.parametrize("short", [[REPLY, 1, 0], [CALL], [ENVELOPE, 1]], ids=["reply", "call", "envelope"])
def test_a_frame_with_fewer_items_than_its_kind_harms_nothing(
        served: Served, raw: Callable[[], WireClient], short: list[Any]) -> None:
    # The reply was read past its items (a use after free under ASan).
    c = _attacker(served, raw)
    c.send(short)
    try:
        sent = c.heartbeat()
        assert c.recv_kind({HEARTBEAT_ACK}, timeout=TIMEOUT) == [HEARTBEAT_ACK, sent]
    except Closed:
        pass  # closing the connection for it is right too
    served.assert_still_serving()
