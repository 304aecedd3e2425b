"""A minimal client of the noexpp cluster wire protocol, for the wire tests.

The msgpack package is not a dependency, so this module carries the small
subset of msgpack the cluster frames use: nil, bool, int, float (decode),
str, bin, array, map (decode) and ext (decode, as :class:`Ext`).

Wire format (DESIGN §6, cpp/include/noexpp/cluster/wire.hpp): each frame is
a 4-byte big-endian length, then one msgpack array ``[kind, ...]``.

Handshake, this client being the initiator A and the node the acceptor B
(cpp/src/cluster/connection.cpp):

    A -> B  [1, version, id_a, creation_a, nonce_a (bin 32), hidden]
    B -> A  [2, id_b, creation_b, nonce_b (bin 32), proof_b (bin)]
    A -> B  [3, proof_a (bin)]
    B -> A  [4]                       (welcome)
    either: [5, code, text]           (reject, then close)

    proof = HMAC-SHA256(cookie, role + len32(nonce) + nonce + len32(id) + id)

with role b"B" over A's nonce and B's id for proof_b, b"A" over B's nonce
and A's id for proof_a, and len32 a 4-byte big-endian length
(cpp/include/noexpp/cluster/handshake_crypto.hpp).

After the handshake the client may call the node itself (pid serial 0):
``[21, to, from, ref, request]`` is answered by ``[22, ref, status, value,
reason]``.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import socket
import struct
import time
from typing import Any, NamedTuple

__all__ = [
    "CALL",
    "CHALLENGE",
    "ENVELOPE",
    "EXT_PID",
    "EXT_TUPLE",
    "GOODBYE",
    "HEARTBEAT",
    "HEARTBEAT_ACK",
    "HELLO",
    "MEMBERS",
    "PROTOCOL_VERSION",
    "REJECT",
    "REPLY",
    "RESPONSE",
    "WELCOME",
    "Ext",
    "Pid",
    "Tuple",
    "WireClient",
    "frame",
    "packb",
    "proof",
    "unpackb",
]

PROTOCOL_VERSION = 3
HELLO, CHALLENGE, RESPONSE, WELCOME, REJECT = 1, 2, 3, 4, 5
HEARTBEAT, HEARTBEAT_ACK, GOODBYE, MEMBERS = 10, 11, 12, 13
ENVELOPE, CALL, REPLY = 20, 21, 22
#: CallOutcome::Status on the wire (cpp/include/noexpp/core/envelope.hpp).
STATUS_OK, STATUS_NOPROC = 0, 2


class Ext(NamedTuple):
    """A msgpack ext value (the engine uses them for tuples and pids)."""

    type: int
    data: bytes


#: The engine's ext types (cpp/include/noexpp/core/codec.hpp).
EXT_PID = 1    # payload: [node_id str, creation u32, serial u64]
EXT_TUPLE = 2  # payload: msgpack array of the items


class Pid(NamedTuple):
    """A process id on the wire; serial 0 is the node itself."""

    node: str
    creation: int
    serial: int


class Tuple(NamedTuple):
    """A tuple Term on the wire (a plain Python list encodes as an array)."""

    items: list


def _ext(value: Any) -> Any:
    """Decodes the engine's ext values."""
    if isinstance(value, Ext):
        if value.type == EXT_PID:
            node, creation, serial = unpackb(value.data)
            return Pid(node, creation, serial)
        if value.type == EXT_TUPLE:
            return Tuple(unpackb(value.data))
    return value


# ---- msgpack subset ------------------------------------------------------------

def _pack(value: Any, out: bytearray) -> None:
    if value is None:
        out.append(0xC0)
    elif value is True:
        out.append(0xC3)
    elif value is False:
        out.append(0xC2)
    elif isinstance(value, int):
        _pack_int(value, out)
    elif isinstance(value, float):
        out.append(0xCB)
        out += struct.pack(">d", value)
    elif isinstance(value, str):
        data = value.encode("utf-8")
        n = len(data)
        if n < 32:
            out.append(0xA0 | n)
        elif n < 0x100:
            out += bytes((0xD9, n))
        elif n < 0x10000:
            out.append(0xDA)
            out += struct.pack(">H", n)
        else:
            out.append(0xDB)
            out += struct.pack(">I", n)
        out += data
    elif isinstance(value, (bytes, bytearray)):
        n = len(value)
        if n < 0x100:
            out += bytes((0xC4, n))
        elif n < 0x10000:
            out.append(0xC5)
            out += struct.pack(">H", n)
        else:
            out.append(0xC6)
            out += struct.pack(">I", n)
        out += value
    elif isinstance(value, Pid):
        _pack_ext(EXT_PID, packb([value.node, value.creation, value.serial]), out)
    elif isinstance(value, Tuple):
        _pack_ext(EXT_TUPLE, packb(list(value.items)), out)
    elif isinstance(value, Ext):
        _pack_ext(value.type, value.data, out)
    elif isinstance(value, (list, tuple)):
        n = len(value)
        if n < 16:
            out.append(0x90 | n)
        elif n < 0x10000:
            out.append(0xDC)
            out += struct.pack(">H", n)
        else:
            out.append(0xDD)
            out += struct.pack(">I", n)
        for item in value:
            _pack(item, out)
    else:
        raise TypeError(f"cluster_wire_client cannot encode {type(value).__name__}")


def _pack_ext(type_: int, data: bytes, out: bytearray) -> None:
    n = len(data)
    fixed = {1: 0xD4, 2: 0xD5, 4: 0xD6, 8: 0xD7, 16: 0xD8}
    if n in fixed:
        out.append(fixed[n])
    elif n < 0x100:
        out += bytes((0xC7, n))
    elif n < 0x10000:
        out.append(0xC8)
        out += struct.pack(">H", n)
    else:
        out.append(0xC9)
        out += struct.pack(">I", n)
    out += struct.pack(">b", type_)
    out += data


def _pack_int(v: int, out: bytearray) -> None:
    if 0 <= v < 0x80:
        out.append(v)
    elif -32 <= v < 0:
        out.append(v & 0xFF)
    elif 0 <= v < 0x100:
        out += bytes((0xCC, v))
    elif 0 <= v < 0x10000:
        out.append(0xCD)
        out += struct.pack(">H", v)
    elif 0 <= v < 0x100000000:
        out.append(0xCE)
        out += struct.pack(">I", v)
    elif 0 <= v < 0x10000000000000000:
        out.append(0xCF)
        out += struct.pack(">Q", v)
    elif -0x80 <= v:
        out.append(0xD0)
        out += struct.pack(">b", v)
    elif -0x8000 <= v:
        out.append(0xD1)
        out += struct.pack(">h", v)
    elif -0x80000000 <= v:
        out.append(0xD2)
        out += struct.pack(">i", v)
    elif -0x8000000000000000 <= v:
        out.append(0xD3)
        out += struct.pack(">q", v)
    else:
        raise OverflowError(f"{v} does not fit in 64 bits")


def packb(value: Any) -> bytes:
    out = bytearray()
    _pack(value, out)
    return bytes(out)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError("truncated msgpack data")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self.take(size))[0]


def _unpack(r: _Reader) -> Any:
    b = r.take(1)[0]
    if b <= 0x7F:
        return b
    if b >= 0xE0:
        return b - 0x100
    if 0x80 <= b <= 0x8F:
        return _unpack_map(r, b & 0x0F)
    if 0x90 <= b <= 0x9F:
        return [_unpack(r) for _ in range(b & 0x0F)]
    if 0xA0 <= b <= 0xBF:
        return r.take(b & 0x1F).decode("utf-8")
    simple = {0xC0: None, 0xC2: False, 0xC3: True}
    if b in simple:
        return simple[b]
    if b in (0xC4, 0xC5, 0xC6):
        n = r.unpack({0xC4: ">B", 0xC5: ">H", 0xC6: ">I"}[b])
        return bytes(r.take(n))
    if b in (0xC7, 0xC8, 0xC9):
        n = r.unpack({0xC7: ">B", 0xC8: ">H", 0xC9: ">I"}[b])
        t = r.unpack(">b")
        return _ext(Ext(t, bytes(r.take(n))))
    if b == 0xCA:
        return r.unpack(">f")
    if b == 0xCB:
        return r.unpack(">d")
    ints = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q", 0xD0: ">b", 0xD1: ">h", 0xD2: ">i", 0xD3: ">q"}
    if b in ints:
        return r.unpack(ints[b])
    if b in (0xD4, 0xD5, 0xD6, 0xD7, 0xD8):
        n = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}[b]
        t = r.unpack(">b")
        return _ext(Ext(t, bytes(r.take(n))))
    if b in (0xD9, 0xDA, 0xDB):
        n = r.unpack({0xD9: ">B", 0xDA: ">H", 0xDB: ">I"}[b])
        return r.take(n).decode("utf-8")
    if b in (0xDC, 0xDD):
        n = r.unpack(">H" if b == 0xDC else ">I")
        return [_unpack(r) for _ in range(n)]
    if b in (0xDE, 0xDF):
        return _unpack_map(r, r.unpack(">H" if b == 0xDE else ">I"))
    raise ValueError(f"msgpack byte 0x{b:02x} is not supported here")


def _unpack_map(r: _Reader, n: int) -> dict[Any, Any]:
    out = {}
    for _ in range(n):
        k = _unpack(r)
        out[k if not isinstance(k, list) else tuple(k)] = _unpack(r)
    return out


def unpackb(data: bytes) -> Any:
    r = _Reader(data)
    value = _unpack(r)
    if r.pos != len(data):
        raise ValueError(f"{len(data) - r.pos} bytes after the msgpack value")
    return value


def frame(items: list[Any] | tuple[Any, ...]) -> bytes:
    """One frame: the length prefix and the msgpack array."""
    body = packb(list(items))
    return struct.pack(">I", len(body)) + body


def proof(cookie: str, role: bytes, nonce: bytes, node_id: str) -> bytes:
    """The handshake proof (see the module docstring)."""
    ident = node_id.encode("utf-8")
    message = role + struct.pack(">I", len(nonce)) + nonce + struct.pack(">I", len(ident)) + ident
    return hmac.new(cookie.encode("utf-8"), message, hashlib.sha256).digest()


# ---- a connection --------------------------------------------------------------

class Closed(Exception):
    """The node closed the connection (EOF or reset)."""


class WireClient:
    """A raw TCP connection to a node's cluster port. Every read is bounded."""

    def __init__(self, node_id: str, timeout: float = 5.0) -> None:
        host_port = node_id.rpartition("@")[2]
        host, _, port = host_port.rpartition(":")
        self.peer_id = node_id
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = b""
        self.peer_creation = -1  # known after the handshake

    # -- bytes
    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, items: list[Any] | tuple[Any, ...]) -> None:
        self.sock.sendall(frame(items))

    def shutdown_write(self) -> None:
        self.sock.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> WireClient:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fill(self, n: int, deadline: float) -> None:
        while len(self._buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no complete frame from {self.peer_id} in time")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError(f"no complete frame from {self.peer_id} in time") from None
            except (ConnectionResetError, BrokenPipeError) as e:
                raise Closed(f"connection reset: {e}") from None
            if not chunk:
                raise Closed("EOF")
            self._buf += chunk

    def recv(self, timeout: float = 5.0) -> list[Any]:
        """The next frame, decoded: [kind, ...]. Raises Closed at EOF/reset
        and TimeoutError when nothing complete arrives within ``timeout``."""
        deadline = time.monotonic() + timeout
        self._fill(4, deadline)
        n = struct.unpack(">I", self._buf[:4])[0]
        self._fill(4 + n, deadline)
        body, self._buf = self._buf[4:4 + n], self._buf[4 + n:]
        return unpackb(body)

    def recv_kind(self, kinds: set[int], timeout: float = 5.0) -> list[Any]:
        """The next frame of one of ``kinds``, skipping heartbeats and acks."""
        deadline = time.monotonic() + timeout
        while True:
            f = self.recv(max(0.0, deadline - time.monotonic()))
            if f[0] in kinds:
                return f
            if f[0] not in (HEARTBEAT, HEARTBEAT_ACK):
                raise AssertionError(f"unexpected frame {f!r} while waiting for kinds {kinds}")

    def expect_closed(self, timeout: float) -> list[list[Any]]:
        """Reads until the node closes the connection (EOF or reset), within
        ``timeout`` seconds; returns the frames read before (heartbeats
        already in flight). Fails when the connection is still open."""
        deadline = time.monotonic() + timeout
        frames: list[list[Any]] = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.peer_id} did not close the connection within {timeout}s")
            try:
                frames.append(self.recv(left))
            except Closed:
                return frames
            except TimeoutError:
                raise AssertionError(
                    f"{self.peer_id} did not close the connection within {timeout}s") from None

    # -- protocol
    def hello(self, my_id: str, nonce: bytes, hidden: bool = True, creation: int = 12345,
              version: int = PROTOCOL_VERSION) -> None:
        self.send([HELLO, version, my_id, creation, nonce, hidden])

    def handshake(self, cookie: str, my_id: str = "rawclient@127.0.0.1:1", hidden: bool = True,
                  timeout: float = 5.0) -> list[Any]:
        """Runs the whole handshake as initiator; checks the node's proof
        and returns the welcome frame."""
        nonce_a = os.urandom(32)
        self.hello(my_id, nonce_a, hidden)
        challenge = self.recv(timeout)
        assert challenge[0] == CHALLENGE, challenge
        _, id_b, creation_b, nonce_b, proof_b = challenge
        assert id_b == self.peer_id, (id_b, self.peer_id)
        assert isinstance(nonce_b, bytes) and len(nonce_b) == 32
        assert proof_b == proof(cookie, b"B", nonce_a, id_b), "the node's proof does not verify"
        self.peer_creation = creation_b
        self.send([RESPONSE, proof(cookie, b"A", nonce_b, my_id)])
        welcome = self.recv(timeout)
        assert welcome == [WELCOME], welcome
        return welcome

    def heartbeat(self, micros: int | None = None, process_count: int = 0, *extra: Any) -> int:
        micros = int(time.monotonic() * 1e6) if micros is None else micros
        self.send([HEARTBEAT, micros, process_count, *extra])
        return micros
