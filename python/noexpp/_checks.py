"""Argument checks shared by the noexpp modules: one implementation per idea.

A leaf module: it imports no other module of noexpp, so every module may use
it without forming an import cycle. The checks that need a noexpp class live
beside that class instead (``ref._check_ref``,
``gen_server._check_behavior_class``), since a leaf cannot name them.

Each check raises TypeError for a wrong type and ValueError for a value out
of range, naming the argument, and returns the value (converted where the
engine wants another type, e.g. seconds as float).
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, Literal, overload

__all__ = [
    "MAX_THREADS", "MIN_THREADS", "check_bool", "check_callable", "check_choice",
    "check_cluster_options", "check_int", "check_node_name", "check_non_empty_str",
    "check_number", "check_optional_name", "check_optional_str", "check_seconds", "check_str",
    "check_str_list", "check_threads", "is_number", "parse_listen", "type_name",
]

#: The engine threads a node may have (Node(threads=...), --threads).
MIN_THREADS, MAX_THREADS = 1, 256


def type_name(value: object) -> str:
    """The name of ``value``'s type, as error messages show it."""
    return type(value).__name__


def is_number(value: object) -> bool:
    """True for an int or float that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_str(what: str, value: Any) -> str:
    """A str (possibly empty)."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type_name(value)}")
    return value


def check_optional_str(what: str, value: Any) -> str | None:
    """A str or None."""
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{what} must be a str or None, not {type_name(value)}")
    return value


def check_non_empty_str(what: str, value: Any) -> str:
    """A str with at least one character."""
    if not isinstance(value, str) or not value:
        raise TypeError(f"{what} must be a non-empty str")
    return value


def check_optional_name(what: str, value: Any) -> str | None:
    """A registered name: a non-empty str, or None for no name."""
    if value is not None and (not isinstance(value, str) or not value):
        raise TypeError(f"{what} must be a non-empty str or None")
    return value


def check_bool(what: str, value: Any) -> bool:
    """A bool (not merely truthy)."""
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be a bool, not {type_name(value)}")
    return value


def check_int(what: str, value: Any) -> int:
    """An int that is not a bool."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type_name(value)}")
    return value


def check_number(what: str, value: Any) -> float:
    """An int or float (not a bool), as a float; no range."""
    if not is_number(value):
        raise TypeError(f"{what} must be a number, not {type_name(value)}")
    return float(value)


@overload
def check_seconds(what: str, value: Any, *, allow_none: Literal[False] = ...,
                  positive: bool = ...) -> float: ...
@overload
def check_seconds(what: str, value: Any, *, allow_none: bool,
                  positive: bool = ...) -> float | None: ...


def check_seconds(what: str, value: Any, *, allow_none: bool = False,
                  positive: bool = False) -> float | None:
    """A duration in seconds, as a float: >= 0, or > 0 when ``positive``;
    NaN is refused. None passes through when ``allow_none`` (the engine
    reads it as "no limit")."""
    if value is None and allow_none:
        return None
    if not is_number(value):
        raise TypeError(f"{what} must be a number of seconds, not {type_name(value)}")
    if positive:
        if not value > 0:
            raise ValueError(f"{what} must be positive, got {value!r}")
    elif math.isnan(value) or value < 0:
        raise ValueError(f"{what} must be >= 0 seconds, got {value!r}")
    return float(value)


def check_callable(what: str, value: Any, *, allow_none: bool = False,
                   signature: str = "") -> Any:
    """A callable (``signature`` only documents its arguments in the message)."""
    if value is None and allow_none:
        return None
    if not callable(value):
        raise TypeError(f"{what} must be callable{signature}{' or None' if allow_none else ''}")
    return value


def _alternatives(choices: Sequence[str]) -> str:
    # Two choices read "'a' or 'b'"; a longer list "one of a, b, c".
    if len(choices) == 2:
        return f"{choices[0]!r} or {choices[1]!r},"
    return f"one of {', '.join(choices)};"


def check_choice(what: str, value: Any, choices: Sequence[str], *,
                 type_error: bool = True) -> str:
    """One of ``choices`` (str). With ``type_error=False`` a value of another
    type is simply not one of the choices (ValueError, not TypeError)."""
    if type_error and not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type_name(value)}")
    if value not in choices:
        raise ValueError(f"{what} must be {_alternatives(choices)} got {value!r}")
    return str(value)


def check_threads(value: Any) -> int:
    """Engine threads of a node: an int from MIN_THREADS to MAX_THREADS."""
    threads = check_int("threads", value)
    if not MIN_THREADS <= threads <= MAX_THREADS:
        raise ValueError(f"threads must be between {MIN_THREADS} and {MAX_THREADS}, got {threads}")
    return threads


def check_node_name(value: Any) -> str:
    """A node name: the part of a node id before '@', as the handshake takes
    it: 1 to 255 characters of A-Z a-z 0-9 _ . - (no '@', ':' or spaces)."""
    name = check_str("name", value)
    if not _NODE_NAME.fullmatch(name):
        shown = name if len(name) <= 60 else name[:60] + "..."
        raise ValueError("name must be 1 to 255 characters of A-Z a-z 0-9 _ . - "
                         f"(no '@', ':' or spaces), got {shown!r}")
    return name


_NODE_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,255}")


def check_str_list(what: str, value: Any, *, expected: str, each: str,
                   empty: str = "") -> list[str]:
    """A list or tuple of str (not a str itself). The messages say
    "{what} must be {expected}" of the list and "{each}" of an element;
    with ``empty`` an empty element is refused with that message."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{what} must be {expected}, not {type_name(value)}")
    for item in value:
        if not isinstance(item, str):
            raise TypeError(f"{each}, not {type_name(item)}")
        if empty and not item:
            raise ValueError(empty)
    return list(value)


def parse_listen(listen: Any) -> tuple[str, int]:
    """``"host:port"`` -> (host, port); port 0 means any free port."""
    if not isinstance(listen, str):
        raise TypeError(f"listen must be a 'host:port' str, not {type_name(listen)}")
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError("listen must look like '127.0.0.1:4370' (port 0 = any free port), "
                         f"got {listen!r}")
    return host, int(port)


def check_backpressure_options(max_send_queue: Any, remote_mailbox_limit: Any,
                               overload_timeout: Any) -> None:
    """The backpressure bounds of a listening node (see :class:`Node`)."""
    check_int("max_send_queue", max_send_queue)
    if max_send_queue < 1024:
        raise ValueError(f"max_send_queue must be at least 1024 bytes, got {max_send_queue}")
    check_int("remote_mailbox_limit", remote_mailbox_limit)
    if remote_mailbox_limit < 1:
        raise ValueError(f"remote_mailbox_limit must be at least 1, got {remote_mailbox_limit}")
    check_number("overload_timeout", overload_timeout)
    if not 0 <= overload_timeout <= 86400:
        raise ValueError("overload_timeout must be between 0 and 86400 seconds, "
                         f"got {overload_timeout}")


def check_cluster_options(cookie: str | None, cookie_file: Any, seeds: Any, hidden: Any,
                          max_message_size: Any, heartbeat_interval: Any, phi_threshold: Any,
                          acceptable_pause: Any, max_send_queue: Any = 4 * 1024 * 1024,
                          remote_mailbox_limit: Any = 10000,
                          overload_timeout: Any = 5.0) -> dict[str, Any]:
    """The cluster options of a listening Node, checked, as the engine takes
    them (a dict of ``_core.Node``'s ``cluster`` argument)."""
    if cookie_file is not None and not isinstance(cookie_file, str):
        raise TypeError(f"cookie_file must be a str path, not {type_name(cookie_file)}")
    seed_ids = check_str_list("seeds", [] if seeds is None else seeds,
                              expected="a list of node ids",
                              each="each seed must be a 'name@host:port' str")
    check_bool("hidden", hidden)
    check_int("max_message_size", max_message_size)
    if max_message_size < 1024:
        raise ValueError(f"max_message_size must be at least 1024 bytes, got {max_message_size}")
    for what, value in (("heartbeat_interval", heartbeat_interval),
                        ("phi_threshold", phi_threshold), ("acceptable_pause", acceptable_pause)):
        check_number(what, value)
        # acceptable_pause may be 0 (no tolerance beyond the usual interval).
        if (value <= 0 and what != "acceptable_pause") or value < 0:
            raise ValueError(f"{what} must be positive, got {value}")
    check_backpressure_options(max_send_queue, remote_mailbox_limit, overload_timeout)
    return {"cookie": cookie, "cookie_file": cookie_file, "seeds": seed_ids, "hidden": hidden,
            "max_message_size": max_message_size, "max_send_queue": max_send_queue,
            "remote_mailbox_limit": remote_mailbox_limit,
            "overload_timeout": float(overload_timeout),
            "heartbeat_interval": float(heartbeat_interval),
            "phi_threshold": float(phi_threshold), "acceptable_pause": float(acceptable_pause)}
