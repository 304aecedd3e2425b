"""TLS for the cluster transport: :class:`TlsConfig`, what ``Node(tls=...)``,
``LocalCluster(tls=...)`` and ``python -m noexpp node --tls-cert F --tls-key F
--tls-ca F`` take (docs/security.md shows how to make the files)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Union

from ._checks import type_name
from .errors import TlsConfigError

__all__ = ["TlsConfig"]

#: A file name as TlsConfig takes it.
PathArg = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True, init=False)
class TlsConfig:
    """The files that turn on TLS for every connection of a node.

    ``certfile``: this node's certificate (PEM; leaf first, then any
    intermediates), signed by a CA in ``cafile`` and usable for both TLS
    server and client authentication (no extendedKeyUsage, or serverAuth
    and clientAuth): every node both accepts and dials. ``keyfile``: its
    private key (PEM, unencrypted; keep it mode 0600). ``cafile``: the CA
    certificate(s) a peer's certificate must chain to.

    With TLS, both nodes of a connection present a certificate and verify
    the other's against their CA (TLS 1.2 or newer, 1.3 preferred), then
    prove the cookie inside the encrypted channel: the cookie is still
    required. No host name is checked (node ids are ip:port): any holder of
    a certificate of the CA and of the cookie is a member.

    Each argument is a ``str`` or :class:`os.PathLike`, kept as an absolute
    path. Raises TypeError for another type and :class:`TlsConfigError` for
    a file that is missing or unreadable; the contents are checked when a
    Node uses them (TlsConfigError again, naming the file).
    """

    certfile: str
    keyfile: str
    cafile: str

    def __init__(self, certfile: PathArg, keyfile: PathArg, cafile: PathArg) -> None:
        for what, value in (("certfile", certfile), ("keyfile", keyfile), ("cafile", cafile)):
            object.__setattr__(self, what, _check_file(what, value))


def _check_file(what: str, value: Any) -> str:
    """A readable file's absolute path, from a str or os.PathLike."""
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{what} must be a str or os.PathLike path, not {type_name(value)}")
    path = os.fspath(value)
    if not isinstance(path, str):
        raise TypeError(f"{what} must be a str path, not a {type_name(path)} path")
    if not path:
        raise TlsConfigError(f"TLS: {what} is empty: it must name a PEM file")
    if not os.path.exists(path):
        raise TlsConfigError(f"TLS: {what} {path!r} does not exist")
    if os.path.isdir(path):
        raise TlsConfigError(f"TLS: {what} {path!r} is a directory")
    if not os.access(path, os.R_OK):
        raise TlsConfigError(f"TLS: {what} {path!r} cannot be read: permission denied")
    return os.path.abspath(path)


def _check_tls(value: Any) -> tuple[str, str, str] | None:
    """``tls`` of Node and LocalCluster: a TlsConfig or None, as the engine
    takes it (certfile, keyfile, cafile)."""
    if value is None:
        return None
    if not isinstance(value, TlsConfig):
        raise TypeError(f"tls must be a noexpp.TlsConfig or None, not {type_name(value)}")
    return (value.certfile, value.keyfile, value.cafile)
