"""The ``python -m noexpp`` command line: ``demo``, ``node`` and ``nodes``.

``node`` runs one cluster node until SIGINT or SIGTERM, ``nodes`` lists the
members of a running cluster, ``demo`` runs the self-contained demonstration.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from . import _core
from ._checks import MAX_THREADS, MIN_THREADS
from .demo import run as run_demo
from .errors import AuthenticationError, CallTimeout, NodeDown, NodeStopped, NoexppError
from .node import Node
from .sdk import get_cmake_dir, get_include
from .tls import TlsConfig

__all__ = ["build_parser", "main", "run_node", "run_nodes"]

PROG = "python -m noexpp"
_LOG_LEVELS = ("trace", "debug", "info", "warning", "error", "critical", "off")
#: How often the waiting main thread looks at the stop flag (seconds).
_POLL = 0.1


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _positive_float(text: str) -> float:
    value = _float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = _float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def _bytes_bound(text: str) -> int:
    value = _int(text)
    if value < 1024:
        raise argparse.ArgumentTypeError(f"must be at least 1024 bytes, got {value}")
    return value


def _positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _thread_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not MIN_THREADS <= value <= MAX_THREADS:
        raise argparse.ArgumentTypeError(
            f"must be between {MIN_THREADS} and {MAX_THREADS}, got {value}")
    return value


#: The TLS flags of ``node`` and ``nodes``: all three or none.
_TLS_FLAGS = (("--tls-cert", "tls_cert"), ("--tls-key", "tls_key"), ("--tls-ca", "tls_ca"))


def _add_tls_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "TLS", "Give all three to run every connection over TLS (the cookie is still "
               "required); a cluster's nodes share the setting. Default: plain TCP.")
    group.add_argument("--tls-cert", metavar="PATH",
                       help="this node's certificate (PEM), signed by the CA of --tls-ca, "
                            "for both TLS server and client use")
    group.add_argument("--tls-key", metavar="PATH",
                       help="the certificate's private key (PEM, unencrypted)")
    group.add_argument("--tls-ca", metavar="PATH",
                       help="the CA certificate(s) (PEM) every peer's certificate must chain to")


def _tls_flags_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the TLS flags given (some but not all), or None."""
    given = [flag for flag, dest in _TLS_FLAGS if getattr(args, dest) is not None]
    if not given or len(given) == len(_TLS_FLAGS):
        return None
    missing = [flag for flag, dest in _TLS_FLAGS if getattr(args, dest) is None]
    return (f"--tls-cert, --tls-key and --tls-ca go together: {', '.join(given)} "
            f"given without {', '.join(missing)}")


def _tls_config(args: argparse.Namespace) -> TlsConfig | None:
    """The TlsConfig of the (complete) TLS flags, or None without them."""
    if args.tls_cert is None:
        return None
    return TlsConfig(args.tls_cert, args.tls_key, args.tls_ca)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m noexpp`` and its sub-commands."""
    parser = argparse.ArgumentParser(prog=PROG, description="noexpp command line")
    sdk = parser.add_mutually_exclusive_group()
    sdk.add_argument("--include", action="store_true",
                     help="print the directory of the engine's C++ headers and exit")
    sdk.add_argument("--cmake-dir", action="store_true",
                     help="print the directory of noexpp's CMake package (for "
                          "find_package(noexpp) as noexpp_DIR) and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("demo", help="run the self-contained demonstration",
                   description="Run the self-contained demonstration: one node, then three.")

    cookie_help = ("file holding the cluster cookie (the shared secret); default "
                   "$NOEXPP_COOKIE_FILE or ~/.noexpp.cookie, created with mode 0600 "
                   "and a random cookie when missing")
    node = sub.add_parser(
        "node", help="run a cluster node until SIGINT or SIGTERM",
        description="Run one noexpp cluster node. Prints 'node <id> running' once it "
                    "listens, runs until SIGINT or SIGTERM, then stops gracefully (its "
                    "processes in order, peers told goodbye) and prints 'node <id> stopped'. "
                    "Exit codes: 0 after a clean stop, 1 when the node cannot start, "
                    "2 when a module cannot be imported or an option is invalid.")
    node.add_argument("--name", required=True,
                      help="node name, the part of the node id before '@' (no '@' or ':')")
    node.add_argument("--listen", default="127.0.0.1:0", metavar="HOST:PORT",
                      help="address to listen on; port 0 picks a free port, shown in the "
                           "printed id (default: %(default)s)")
    node.add_argument("--cookie-file", metavar="PATH", help=cookie_help)
    node.add_argument("--seed", action="append", default=[], metavar="ID",
                      help="id (name@host:port) of a node to join; retried in the background "
                           "until it answers, so it need not be up yet (repeatable)")
    node.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                      help="module to import before the node starts, so the behaviors it "
                           "registers can be spawned here from other nodes (repeatable)")
    node.add_argument("--threads", type=_thread_count, default=2, metavar="N",
                      help="engine threads running processes (default: %(default)s)")
    node.add_argument("--log-level", choices=_LOG_LEVELS, metavar="LEVEL",
                      help="engine log level, written to stderr: " + ", ".join(_LOG_LEVELS)
                           + " (default: info)")
    node.add_argument("--heartbeat-interval", type=_positive_float, default=0.2,
                      metavar="SECONDS",
                      help="seconds between heartbeats to each peer (default: %(default)s)")
    node.add_argument("--phi-threshold", type=_positive_float, default=8.0, metavar="PHI",
                      help="phi-accrual suspicion above which a silent peer is reported down "
                           "(default: %(default)s)")
    node.add_argument("--acceptable-pause", type=_non_negative_float, default=0.8,
                      metavar="SECONDS",
                      help="silence tolerated beyond the usual heartbeat interval before "
                           "suspicion rises (default: %(default)s)")
    node.add_argument("--max-send-queue", type=_bytes_bound, default=4 * 1024 * 1024,
                      metavar="BYTES",
                      help="bytes queued for one peer beyond which casts and sends to its "
                           "processes wait (at least 1024; default: %(default)s)")
    node.add_argument("--remote-mailbox-limit", type=_positive_int, default=10000, metavar="N",
                      help="messages from other nodes in one mailbox of this node at which "
                           "their senders are told to wait, until it is down to half "
                           "(default: %(default)s)")
    node.add_argument("--overload-timeout", type=_non_negative_float, default=5.0,
                      metavar="SECONDS",
                      help="seconds a cast or send to another node may wait before it fails "
                           "with Overloaded or MailboxFull (default: %(default)s)")
    node.add_argument("--stop-on-stdin-eof", action="store_true",
                      help="also stop gracefully when standard input is closed (a parent such "
                           "as LocalCluster uses this so the node never outlives it)")
    _add_tls_flags(node)

    nodes = sub.add_parser(
        "nodes", help="list the members of a running cluster",
        description="Join a running cluster as a hidden node (never announced to the members), "
                    "print the id of each member the seed sees up, one per line, the seed "
                    "first, and leave. Exit code 1 when the seed cannot be reached or rejects "
                    "the cookie.")
    nodes.add_argument("--seed", required=True, metavar="ID",
                       help="id (name@host:port) of a running member to ask")
    nodes.add_argument("--cookie-file", metavar="PATH", help=cookie_help)
    nodes.add_argument("--timeout", type=_positive_float, default=5.0, metavar="SECONDS",
                       help="how long to wait for the seed to connect and to answer "
                            "(default: %(default)s)")
    nodes.add_argument("--log-level", choices=_LOG_LEVELS, default="error", metavar="LEVEL",
                       help="engine log level, written to stderr (default: %(default)s)")
    _add_tls_flags(nodes)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line with ``argv`` (default ``sys.argv[1:]``);
    returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.include or args.cmake_dir:
        if args.command is not None:
            parser.error("--include and --cmake-dir take no command")
        print(get_include() if args.include else get_cmake_dir())
        return 0
    if args.command is None:
        parser.error("a command is required (demo, node, nodes), or --include / --cmake-dir")
    if args.command == "demo":
        return run_demo()
    problem = _tls_flags_problem(args)
    if problem is not None:
        parser.error(problem)
    if args.command == "node":
        return run_node(args)
    if args.command == "nodes":
        return run_nodes(args)
    parser.error(f"unknown command {args.command}")
    return 2


def _error(command: str, message: object) -> None:
    print(f"{PROG} {command}: {message}", file=sys.stderr, flush=True)


def _say(line: str) -> None:
    """Prints a status line; a closed stdout (the parent left) is not an error."""
    with contextlib.suppress(BrokenPipeError, ValueError):
        print(line, flush=True)


def run_node(args: argparse.Namespace) -> int:
    """The ``node`` command: import modules, start the node, print
    ``node <id> running``, wait for SIGINT/SIGTERM, stop gracefully."""
    for module in args.imports:
        try:
            importlib.import_module(module)
        except ImportError as e:
            _error("node", f"cannot import module {module!r}: {e}")
            return 2

    # Only a flag in the handler: setting an Event from a signal handler can
    # deadlock on the Event's own lock.
    stop_requested: list[str] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop_requested.append(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if args.log_level is not None:
            _core.set_log_level(args.log_level)
        try:
            node = Node(args.name, listen=args.listen, cookie_file=args.cookie_file,
                        seeds=args.seed, threads=args.threads,
                        heartbeat_interval=args.heartbeat_interval,
                        phi_threshold=args.phi_threshold, acceptable_pause=args.acceptable_pause,
                        max_send_queue=args.max_send_queue,
                        remote_mailbox_limit=args.remote_mailbox_limit,
                        overload_timeout=args.overload_timeout, tls=_tls_config(args))
        except (NoexppError, OSError, ValueError, TypeError) as e:
            _error("node", e)
            return 1
        node_id = node.id
        try:
            if args.stop_on_stdin_eof:
                _watch_stdin(stop_requested)
            _say(f"node {node_id} running")
            pause = threading.Event()  # never set: a bounded, signal-friendly wait
            while not stop_requested:
                pause.wait(_POLL)
        finally:
            node.stop()
        _say(f"node {node_id} stopped")
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _watch_stdin(stop_requested: list[str]) -> None:
    """Appends to ``stop_requested`` when standard input reaches end of file."""
    # os.read on the descriptor, not sys.stdin: a daemon thread blocked inside
    # a buffered reader holds its lock and aborts the interpreter's shutdown.
    def watch() -> None:
        try:
            fd = sys.stdin.fileno() if sys.stdin is not None else 0
            while os.read(fd, 4096):
                pass
        except (OSError, ValueError):
            pass
        stop_requested.append("stdin closed")

    threading.Thread(target=watch, name="noexpp-stdin-watch", daemon=True).start()


def run_nodes(args: argparse.Namespace) -> int:
    """The ``nodes`` command: print the members the seed sees up, seed first."""
    _core.set_log_level(args.log_level)
    try:
        node = Node(f"nodes-{os.getpid()}", listen="127.0.0.1:0", cookie_file=args.cookie_file,
                    hidden=True, tls=_tls_config(args))
    except (NoexppError, OSError, ValueError, TypeError) as e:
        _error("nodes", e)
        return 1
    try:
        node.connect(args.seed, timeout=args.timeout)
        members = node._request(args.seed, ("members",), timeout=args.timeout)
    except AuthenticationError as e:
        _error("nodes", f"cannot join {args.seed}: {e} (does --cookie-file hold the "
                        "cluster's cookie, and do the --tls-* flags match its TLS setting?)")
        return 1
    except ValueError as e:
        _error("nodes", f"invalid --seed {args.seed!r}: {e}")
        return 1
    except (NodeDown, CallTimeout, NodeStopped) as e:
        _error("nodes", f"cannot reach {args.seed}: {e}")
        return 1
    finally:
        node.stop()
    for member in members:
        _say(str(member))
    return 0
