"""A node running as its own OS process (``python -m noexpp node``), as a
processes-mode :class:`noexpp.LocalCluster` starts it: the command line,
the reader of its stdout, and :class:`NodeHandle`, what the cluster gives
the user for it (requests through the controller node, signals to the OS
process)."""
from __future__ import annotations

import collections
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import IO, Any

from ._checks import check_seconds, check_str
from .node import Node
from .ref import Ref

__all__ = ["NodeHandle", "child_env", "close_quietly", "start_node_process"]

_RUNNING_LINE = re.compile(r"^node (\S+) running$")


class _StdoutReader(threading.Thread):
    """Reads a node process's stdout until EOF: finds its ``node <id> running``
    line and keeps the last lines (a pipe nobody reads would block the node)."""

    def __init__(self, stream: IO[str], label: str) -> None:
        super().__init__(name=f"noexpp-{label}-stdout", daemon=True)
        self._stream = stream
        self.node_id: str | None = None
        self.ready = threading.Event()  # set once the id is known or at EOF
        self.tail: collections.deque[str] = collections.deque(maxlen=200)

    def run(self) -> None:
        try:
            for raw in self._stream:
                line = raw.rstrip("\r\n")
                if self.node_id is None:
                    match = _RUNNING_LINE.match(line)
                    if match:
                        self.node_id = match.group(1)
                        self.ready.set()
                        continue
                self.tail.append(line)
        except (OSError, ValueError):  # the pipe was closed under us
            pass
        finally:
            self.ready.set()


class NodeHandle:
    """A node running as a separate OS process of a processes-mode
    :class:`LocalCluster`.

    Requests to the node go through the cluster's hidden controller node
    (:attr:`LocalCluster.controller`), so Refs returned here are usable from
    this interpreter (``ref.call(...)``). Signals (:meth:`kill`,
    :meth:`suspend`, :meth:`resume`, :meth:`stop`) act on the OS process.
    """

    def __init__(self, name: str, process: subprocess.Popen[str], controller_box: list[Node | None],
                 log_path: str, reader: _StdoutReader) -> None:
        self._name = name
        self._process = process
        self._controller_box = controller_box  # shared with the cluster; filled after startup
        self._log_path = log_path
        self._reader = reader
        self._id: str | None = None
        self._suspended = False

    # ---- identity and state -------------------------------------------
    @property
    def id(self) -> str:
        """The node's id, ``name@127.0.0.1:PORT``."""
        if self._id is None:
            raise RuntimeError(f"node {self._name} has not reported its id yet")
        return self._id

    @property
    def name(self) -> str:
        """The node's name (the part of the id before ``@``)."""
        return self._name

    @property
    def os_pid(self) -> int:
        """The OS process id of the node process."""
        return int(self._process.pid)

    @property
    def process(self) -> subprocess.Popen[str]:
        """The :class:`subprocess.Popen` of the node process."""
        return self._process

    @property
    def alive(self) -> bool:
        """True while the OS process runs (also while suspended)."""
        return self._process.poll() is None

    @property
    def suspended(self) -> bool:
        """True between :meth:`suspend` and :meth:`resume`."""
        return self._suspended and self.alive

    @property
    def status(self) -> str:
        """``"running"``, ``"suspended"`` or ``"exited (code N)"``."""
        code = self._process.poll()
        if code is not None:
            return f"exited (code {code})"
        return "suspended" if self._suspended else "running"

    def log(self) -> str:
        """What the node process wrote to stderr so far (its engine log);
        empty once the cluster is closed."""
        try:
            with open(self._log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # ---- requests through the controller ------------------------------
    def spawn(self, behavior: str, *args: Any, name: str | None = None,
              timeout: float = 10.0) -> Ref:
        """Starts a process on this node running the behavior registered
        there as ``behavior`` with ``init(*args)``; returns its Ref.

        The behavior must be registered in the node process, typically by a
        module given in ``LocalCluster(modules=[...])``. Raises what
        :meth:`Node.spawn_remote` raises (BehaviorNotFoundError, InitError,
        DuplicateNameError, NodeDown, CallTimeout)."""
        return self._controller().spawn_remote(self.id, behavior, *args, name=name,
                                               timeout=timeout)

    def whereis(self, name: str, timeout: float = 5.0) -> Ref | None:
        """The process registered on this node as ``name``, or None."""
        check_str("name", name)
        result = self._controller()._request(self.id, ("whereis", name), timeout)
        return result if isinstance(result, Ref) else None

    def members(self, timeout: float = 5.0) -> list[str]:
        """The ids of the nodes this node sees up, itself first (the hidden
        controller is not a member)."""
        return [str(m) for m in self._controller()._request(self.id, ("members",), timeout)]

    # ---- signals -------------------------------------------------------
    def kill(self) -> None:
        """Kills the node process with SIGKILL and waits for it to exit: to
        its peers it is a crashed machine (node_down, reason
        "noconnection"). Does nothing if it has already exited."""
        if self.alive:
            self._process.kill()
        self._process.wait()
        self._suspended = False

    def stop(self, timeout: float = 10.0) -> None:
        """Stops the node gracefully (SIGTERM: its processes stopped in
        order, peers told goodbye, node_down reason "shutdown"), waiting up
        to ``timeout`` seconds before falling back to SIGKILL."""
        check_seconds("timeout", timeout, positive=True)
        self._terminate()
        self._reap(time.monotonic() + timeout)

    def suspend(self) -> None:
        """Freezes the node process (SIGSTOP): it keeps its connections but
        answers nothing, the silent failure that only heartbeats reveal."""
        self._require_alive("suspend")
        self._signal(signal.SIGSTOP)
        self._suspended = True
        self._wait_stopped()

    def _wait_stopped(self, bound: float = 5.0) -> None:
        # kill() returns before every thread has stopped: a request sent
        # right after could still be served. Wait (bounded) until the kernel
        # shows each thread stopped ("T"), so "frozen" means frozen.
        deadline = time.monotonic() + bound
        tasks = f"/proc/{self._process.pid}/task"
        while time.monotonic() < deadline:
            try:
                states = []
                for tid in os.listdir(tasks):
                    with open(f"{tasks}/{tid}/stat") as f:
                        states.append(f.read().rpartition(")")[2].split()[0])
            except OSError:
                return  # exited, or no /proc: nothing to wait for
            if all(state in ("T", "t") for state in states):
                return
            time.sleep(0.001)  # polling the kernel's view; bounded above

    def resume(self) -> None:
        """Continues a node frozen by :meth:`suspend` (SIGCONT)."""
        self._require_alive("resume")
        self._signal(signal.SIGCONT)
        self._suspended = False

    def __repr__(self) -> str:
        ident = self._id if self._id is not None else self._name
        return f"<noexpp.NodeHandle {ident} pid={self._process.pid} {self.status}>"

    # ---- lifecycle, for the cluster ------------------------------------
    def _await_running(self, deadline: float, timeout: float) -> None:
        """Waits until the process printed its id (then :attr:`id` works).
        Raises RuntimeError if it exited, TimeoutError at ``deadline``."""
        reader = self._reader
        reader.ready.wait(max(0.0, deadline - time.monotonic()))
        if reader.node_id is not None:
            self._id = reader.node_id
            return
        if reader.ready.is_set():  # EOF on stdout: the process is exiting
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=5.0)
            self._check_not_exited()
        raise TimeoutError(f"LocalCluster: node process {self._name} (pid {self.os_pid}) "
                           f"did not report running within {timeout:g} s; stderr:\n"
                           f"{self.log()[-4000:]}")

    def _check_not_exited(self) -> None:
        """RuntimeError (with its stderr) if the process exited during startup."""
        code = self._process.poll()
        if code is not None:
            raise RuntimeError(f"LocalCluster: node process {self._name} exited with code {code} "
                               f"during startup; stderr:\n{self.log()[-4000:]}")

    def _terminate(self) -> None:
        """Asks the process to stop (SIGTERM), without waiting."""
        if self.alive:
            self._process.terminate()
            if self._suspended:  # a stopped process handles SIGTERM only once continued
                self._signal(signal.SIGCONT)

    def _reap(self, deadline: float) -> None:
        """Waits for the process to exit until ``deadline``, then kills it."""
        try:
            self._process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self._process.kill()
        self._process.wait()
        self._suspended = False

    def _finish(self, deadline: float) -> None:
        """After :meth:`_terminate`: reaps the process (see :meth:`_reap`),
        then closes its stdout once the reader has seen its end."""
        self._reap(deadline)
        self._reader.join(timeout=5.0)
        close_quietly(self._process.stdout)

    # ---- internals -----------------------------------------------------
    def _signal(self, sig: int) -> None:
        # ProcessLookupError: it exited between the check and the signal.
        with contextlib.suppress(ProcessLookupError):
            self._process.send_signal(sig)

    def _require_alive(self, what: str) -> None:
        if not self.alive:
            raise RuntimeError(f"cannot {what} node {self._id or self._name}: its process has "
                               f"exited (code {self._process.returncode})")

    def _controller(self) -> Node:
        controller = self._controller_box[0]
        if controller is None or not controller.running:
            raise RuntimeError("the LocalCluster's controller node is not running "
                               "(the cluster is starting or closed)")
        return controller


def close_quietly(stream: IO[Any] | None) -> None:
    """Closes ``stream`` if there is one; an error closing it is ignored."""
    if stream is not None:
        with contextlib.suppress(OSError):
            stream.close()


def child_env() -> dict[str, str]:
    """This environment, with this interpreter's ``sys.path`` in PYTHONPATH so
    every module importable here is importable in a node process."""
    env = dict(os.environ)
    entries: list[str] = []
    for entry in sys.path:
        if not isinstance(entry, str):
            continue
        path = os.path.abspath(entry or os.getcwd())
        if path not in entries and os.path.exists(path):
            entries.append(path)
    old = env.get("PYTHONPATH")
    if old:
        entries.extend(p for p in old.split(os.pathsep) if p and p not in entries)
    env["PYTHONPATH"] = os.pathsep.join(entries)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def start_node_process(node_name: str, *, cookie_path: str, seed: str | None,
                       modules: Sequence[str], options: Mapping[str, Any], env: dict[str, str],
                       log_dir: str, controller_box: list[Node | None],
                       listen: str = "127.0.0.1:0") -> NodeHandle:
    """Starts ``python -m noexpp node`` named ``node_name`` (``options``:
    threads, the failure detection and the backpressure settings, and
    ``tls``, a TlsConfig or None), its stderr in
    ``log_dir/<name>.log``; returns its handle at once (see
    :meth:`NodeHandle._await_running`). The node stops when its stdin
    closes, so it never outlives this interpreter. ``listen`` with a fixed
    port starts a node under a known id (a restart of a killed one)."""
    cmd = [sys.executable, "-m", "noexpp", "node", "--name", node_name,
           "--listen", listen, "--cookie-file", cookie_path,
           "--threads", str(options["threads"]),
           "--heartbeat-interval", repr(options["heartbeat_interval"]),
           "--phi-threshold", repr(options["phi_threshold"]),
           "--acceptable-pause", repr(options["acceptable_pause"]),
           "--max-send-queue", str(options["max_send_queue"]),
           "--remote-mailbox-limit", str(options["remote_mailbox_limit"]),
           "--overload-timeout", repr(options["overload_timeout"]),
           "--stop-on-stdin-eof"]
    tls = options.get("tls")
    if tls is not None:
        cmd += ["--tls-cert", tls.certfile, "--tls-key", tls.keyfile, "--tls-ca", tls.cafile]
    if seed is not None:
        cmd += ["--seed", seed]
    for module in modules:
        cmd += ["--import", module]
    log_path = os.path.join(log_dir, f"{node_name}.log")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env,
            text=True, encoding="utf-8", errors="replace", close_fds=True,
            start_new_session=True,  # Ctrl-C reaches this interpreter, which stops them
        )
    assert process.stdout is not None
    reader = _StdoutReader(process.stdout, node_name)
    handle = NodeHandle(node_name, process, controller_box, log_path, reader)
    reader.start()
    return handle
