"""LocalCluster: a cluster of noexpp nodes on this machine, for experiments and tests.

``mode="threads"`` runs every node in this interpreter (fast, shares the
behavior registry); ``mode="processes"`` runs each node as its own OS process
(``python -m noexpp node``), so a node can be killed with SIGKILL or frozen
with SIGSTOP exactly as a crashed or hung machine would be. Faults between
nodes are injected with :meth:`LocalCluster.partition` / :meth:`LocalCluster.heal`.

Example::

    with noexpp.LocalCluster(3, mode="processes", modules=["myapp.behaviors"]) as cluster:
        a, b, c = cluster.nodes
        ref = b.spawn("counter", 0)
        cluster.kill(b)
"""
from __future__ import annotations

import collections
import html
import importlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable, Sequence
from typing import IO, Any, Callable, Union

from ._checks import (
    check_choice,
    check_cluster_options,
    check_int,
    check_node_name,
    check_number,
    check_optional_str,
    check_seconds,
    check_str,
    check_str_list,
    check_threads,
)
from .errors import CallTimeout, NodeDown
from .node import Node
from .ref import Ref

__all__ = ["LocalCluster", "NodeHandle"]

#: What a cluster member may be given as: the Node (threads mode), the
#: NodeHandle (processes mode) or its id.
NodeLike = Union[Node, "NodeHandle", str]

_MODES = ("threads", "processes")
_RUNNING_LINE = re.compile(r"^node (\S+) running$")
#: How long close() waits for node processes to stop after SIGTERM.
_STOP_GRACE = 10.0


def _pause(seconds: float) -> None:
    """A bounded pause that is not a bare sleep (Event.wait never set)."""
    threading.Event().wait(seconds)


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
        if self.alive:
            self._process.terminate()
            if self._suspended:  # a stopped process handles SIGTERM only once continued
                self._signal(signal.SIGCONT)
            try:
                self._process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._process.wait()
        self._suspended = False

    def suspend(self) -> None:
        """Freezes the node process (SIGSTOP): it keeps its connections but
        answers nothing, the silent failure that only heartbeats reveal."""
        self._require_alive("suspend")
        self._signal(signal.SIGSTOP)
        self._suspended = True

    def resume(self) -> None:
        """Continues a node frozen by :meth:`suspend` (SIGCONT)."""
        self._require_alive("resume")
        self._signal(signal.SIGCONT)
        self._suspended = False

    def __repr__(self) -> str:
        ident = self._id if self._id is not None else self._name
        return f"<noexpp.NodeHandle {ident} pid={self._process.pid} {self.status}>"

    # ---- internals -----------------------------------------------------
    def _signal(self, sig: int) -> None:
        try:
            self._process.send_signal(sig)
        except ProcessLookupError:  # exited between the check and the signal
            pass

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


class _State:
    """Everything a LocalCluster started, kept apart from the cluster object
    so ``weakref.finalize`` can stop it without keeping the cluster alive."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []            # threads mode
        self.handles: list[NodeHandle] = []    # processes mode
        self.readers: list[_StdoutReader] = []
        self.controller_box: list[Node | None] = [None]
        self.tmpdir: str | None = None
        self.closed = False

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        errors: list[BaseException] = []
        for step in [*(node.stop for node in reversed(self.nodes)), self._stop_processes,
                     self._stop_controller]:
            try:
                step()
            except Exception as e:  # noqa: BLE001 - stop the rest; the first error is raised
                errors.append(e)
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
        if errors:
            raise errors[0]

    def _stop_controller(self) -> None:
        controller = self.controller_box[0]
        if controller is not None:
            controller.stop()

    def _stop_processes(self) -> None:
        procs = [h.process for h in self.handles]
        for h in self.handles:
            if h.process.poll() is None:
                h.process.terminate()
                if h._suspended:
                    h._signal(signal.SIGCONT)
            _close_quietly(h.process.stdin)
        deadline = time.monotonic() + _STOP_GRACE
        for proc in procs:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for reader in self.readers:
            reader.join(timeout=5.0)
        for proc in procs:
            _close_quietly(proc.stdout)


def _close_quietly(stream: IO[Any] | None) -> None:
    if stream is not None:
        try:
            stream.close()
        except OSError:
            pass


def _child_env() -> dict[str, str]:
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


class LocalCluster:
    """``n`` noexpp nodes on 127.0.0.1 that form one cluster.

    ``mode="threads"``: ``n`` :class:`Node` objects in this interpreter
    (``cluster.nodes`` are Nodes). ``mode="processes"``: ``n`` OS processes
    running ``python -m noexpp node`` (``cluster.nodes`` are
    :class:`NodeHandle`), reached through a hidden controller node
    (:attr:`controller`) that lives in this interpreter.

    The constructor returns once every node sees every other one up. Use it
    as a context manager or call :meth:`close`; an unclosed cluster is closed
    when garbage collected or at interpreter exit, and processes-mode nodes
    also stop when this interpreter dies (their stdin closes).
    """

    def __init__(self, n: int = 3, mode: str = "threads", cookie: str | None = None,
                 modules: Sequence[str] | None = None, *, name: str = "node",
                 threads: int = 2, heartbeat_interval: float = 0.2,
                 phi_threshold: float = 8.0, acceptable_pause: float = 0.8,
                 startup_timeout: float = 30.0) -> None:
        """Starts the cluster.

        ``n``: number of nodes (≥ 1), named ``f"{name}{i}"`` for i from 1.
        ``mode``: "threads" or "processes". ``cookie``: the shared secret
        (generated when None; read it back from :attr:`cookie` to join from
        outside). ``modules``: modules each node imports first, so the
        behaviors they register exist there (in threads mode they are
        imported into this interpreter). ``threads``: engine threads per
        node. ``heartbeat_interval``, ``phi_threshold``,
        ``acceptable_pause``: failure detection settings of every node (see
        :class:`Node`). ``startup_timeout``: seconds to wait for the whole
        cluster to be up.

        Raises TypeError / ValueError for a bad argument, TimeoutError
        (naming the missing nodes) when the cluster is not up within
        ``startup_timeout``, RuntimeError (with its stderr) when a node
        process exits during startup, ImportError for a module in threads
        mode. Anything started before a failure is stopped.
        """
        check_int("n", n)
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        check_choice("mode", mode, _MODES)
        if check_optional_str("cookie", cookie) is None:
            cookie = secrets.token_urlsafe(32)
        elif not cookie:
            raise ValueError("cookie must not be empty")
        elif cookie != cookie.rstrip():
            raise ValueError("cookie must not end with whitespace (a cookie file drops it)")
        modules = check_str_list("modules", () if modules is None else modules,
                                 expected="a list or tuple of module names",
                                 each="each of modules must be a str",
                                 empty="modules must not contain an empty name")
        check_node_name(name, spaces=False)
        check_threads(threads)
        # The same checks (and messages) as Node, before anything starts.
        check_cluster_options(cookie, None, None, False, 16 * 1024 * 1024, heartbeat_interval,
                              phi_threshold, acceptable_pause)
        timeout = check_seconds("startup_timeout", startup_timeout, positive=True)

        self._mode = mode
        self._cookie = cookie
        self._modules = tuple(modules)
        self._name = name
        self._node_options: dict[str, Any] = {
            "threads": threads, "heartbeat_interval": float(heartbeat_interval),
            "phi_threshold": float(phi_threshold), "acceptable_pause": float(acceptable_pause),
        }
        self._state = _State()
        self._finalizer = weakref.finalize(self, _State.close, self._state)
        deadline = time.monotonic() + timeout
        try:
            if mode == "threads":
                self._start_threads(n, deadline, timeout)
            else:
                self._start_processes(n, deadline, timeout)
        except BaseException:
            self.close()
            raise

    # ---- public API ----------------------------------------------------
    @property
    def mode(self) -> str:
        """``"threads"`` or ``"processes"``."""
        return self._mode

    @property
    def cookie(self) -> str:
        """The cluster's cookie: ``Node(..., cookie=cluster.cookie)`` joins it."""
        return self._cookie

    @property
    def nodes(self) -> list[Node | NodeHandle]:
        """The members in start order: Nodes (threads mode) or NodeHandles
        (processes mode), killed ones included."""
        if self._mode == "threads":
            return list(self._state.nodes)
        return list(self._state.handles)

    @property
    def ids(self) -> list[str]:
        """The members' node ids, in start order."""
        return [x.id for x in self.nodes]

    @property
    def controller(self) -> Node | None:
        """Processes mode: the hidden Node in this interpreter connected to
        every member (Refs to remote processes are used through it). None in
        threads mode."""
        return self._state.controller_box[0]

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._state.closed

    def kill(self, node: NodeLike) -> None:
        """Kills a member abruptly, as a crashed machine: SIGKILL (processes
        mode, waiting for the exit) or :meth:`Node._abort` (threads mode).
        Its peers report node_down with reason "noconnection"."""
        target = self._resolve(node, "node")
        if isinstance(target, NodeHandle):
            target.kill()
        else:
            target._abort()

    def partition(self, *groups: NodeLike | Iterable[NodeLike]) -> None:
        """Splits the network: traffic between members of different groups is
        dropped in both directions until :meth:`heal`. A group is a member
        (Node, NodeHandle or id) or a list of members; at least two groups,
        no member in two. Members not listed are untouched.

        Returns at once: the failure detectors report node_down (reason
        "noconnection") after the usual detection time. Processes mode:
        raises NodeDown / CallTimeout if the controller cannot reach a listed
        member (killed or suspended)."""
        self._between_groups(groups, lambda x, y: ("partition", y.id, True),
                             lambda x, y: x._partition(y.id, True))

    def delay(self, *groups: NodeLike | Iterable[NodeLike], seconds: float) -> None:
        """Slows the network: every frame between members of different groups
        is held ``seconds`` (in each direction) until :meth:`heal` or a delay
        of 0. Order is kept; heartbeats are delayed too, so a delay beyond
        the detectors' tolerance (about 1 s by default) reads as a failure."""
        check_number("seconds", seconds)
        if not 0 <= seconds <= 3600:
            raise ValueError(f"seconds must be between 0 and 3600, got {seconds}")
        self._between_groups(groups, lambda x, y: ("delay", y.id, float(seconds)),
                             lambda x, y: x._delay(y.id, seconds))

    def _between_groups(self, groups: tuple[NodeLike | Iterable[NodeLike], ...],
                        request: Callable[[Any, Any], tuple[Any, ...]],
                        local: Callable[[Any, Any], None]) -> None:
        """Applies a fault to every ordered pair of members in different
        groups: by a request to a node process, or directly on a Node."""
        resolved = self._resolve_groups(groups)
        controller = self.controller
        for i, group in enumerate(resolved):
            for j, other in enumerate(resolved):
                if i == j:
                    continue
                for x in group:
                    for y in other:
                        if isinstance(x, NodeHandle):
                            assert controller is not None
                            controller._request(x.id, request(x, y))
                        else:
                            local(x, y)

    def heal(self) -> None:
        """Ends every partition and delay: each running member stops dropping traffic
        (suspended or exited members are skipped). Returns at once; the nodes
        reconnect and report node_up."""
        self._check_open()
        controller = self.controller
        for node in self._state.nodes:
            if node.running:
                node._heal()
        for handle in self._state.handles:
            if handle.alive and not handle.suspended:
                assert controller is not None
                controller._request(handle.id, ("heal",))

    def close(self) -> None:
        """Stops every node and process this cluster started (processes
        mode: SIGTERM, then SIGKILL after 10 s), then the controller, and
        removes the temporary directory. Idempotent."""
        self._finalizer()

    def __enter__(self) -> LocalCluster:  # noqa: PYI034 - typing.Self needs Python 3.11
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self._state.nodes) + len(self._state.handles)

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{len(self)} nodes"
        return f"<noexpp.LocalCluster {self._mode}, {state}: {', '.join(self._statuses_text())}>"

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td><code>{html.escape(i)}</code></td><td>{html.escape(s)}</td></tr>"
                       for i, s in self._statuses())
        return (f"<b>noexpp.LocalCluster</b> ({html.escape(self._mode)}"
                f"{', closed' if self.closed else ''})"
                f"<table><tr><th>node</th><th>status</th></tr>{rows}</table>")

    # ---- startup -------------------------------------------------------
    def _start_threads(self, n: int, deadline: float, timeout: float) -> None:
        for module in self._modules:
            importlib.import_module(module)
        changed = threading.Event()
        unsubscribe: list[Callable[[], None]] = []

        def poke(_event: dict[str, Any]) -> None:
            changed.set()
        try:
            for i in range(1, n + 1):
                seeds = [self._state.nodes[0].id] if self._state.nodes else None
                node = Node(f"{self._name}{i}", "127.0.0.1:0", cookie=self._cookie, seeds=seeds,
                            **self._node_options)
                self._state.nodes.append(node)
                unsubscribe.append(node.on("node_up", poke))
            while True:
                changed.clear()  # cleared before looking: no event is missed
                missing = self._threads_missing()
                if not missing:
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"LocalCluster: not up within {timeout:g} s: {missing}")
                changed.wait(min(left, 0.5))
        finally:
            for unsub in unsubscribe:
                unsub()

    def _threads_missing(self) -> str:
        ids = [x.id for x in self._state.nodes]
        problems = []
        for node in self._state.nodes:
            up = {info.id for info in node.nodes() if info.status == "up"}
            lacking = [i for i in ids if i != node.id and i not in up]
            if lacking:
                problems.append(f"{node.id} does not see {', '.join(lacking)} up")
        return "; ".join(problems)

    def _start_processes(self, n: int, deadline: float, timeout: float) -> None:
        state = self._state
        state.tmpdir = tempfile.mkdtemp(prefix="noexpp-cluster-")
        cookie_path = os.path.join(state.tmpdir, "cookie")
        fd = os.open(cookie_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(self._cookie)
        env = _child_env()
        first = self._spawn_process(1, cookie_path, None, env)
        self._await_running(first, deadline, timeout)
        rest = [self._spawn_process(i, cookie_path, first.id, env) for i in range(2, n + 1)]
        for handle in rest:
            self._await_running(handle, deadline, timeout)

        controller = Node(f"{self._name}-ctl", "127.0.0.1:0", cookie=self._cookie, hidden=True,
                          **self._node_options)
        state.controller_box[0] = controller
        for handle in state.handles:
            controller.connect(handle.id, timeout=max(0.1, deadline - time.monotonic()))
        ids = [h.id for h in state.handles]
        pending = list(state.handles)
        while True:
            still = []
            for handle in pending:
                self._check_process(handle)
                try:
                    members = controller._request(handle.id, ("members",), timeout=2.0)
                except (NodeDown, CallTimeout):
                    members = []
                if not set(ids) <= set(members):
                    still.append((handle, [i for i in ids if i not in members]))
            if not still:
                return
            if time.monotonic() >= deadline:
                detail = "; ".join(f"{h.id} does not see {', '.join(m)} up" for h, m in still)
                raise TimeoutError(f"LocalCluster: not up within {timeout:g} s: {detail}")
            pending = [h for h, _ in still]
            _pause(0.02)

    def _spawn_process(self, i: int, cookie_path: str, seed: str | None,
                       env: dict[str, str]) -> NodeHandle:
        state = self._state
        assert state.tmpdir is not None
        node_name = f"{self._name}{i}"
        opts = self._node_options
        cmd = [sys.executable, "-m", "noexpp", "node", "--name", node_name,
               "--listen", "127.0.0.1:0", "--cookie-file", cookie_path,
               "--threads", str(opts["threads"]),
               "--heartbeat-interval", repr(opts["heartbeat_interval"]),
               "--phi-threshold", repr(opts["phi_threshold"]),
               "--acceptable-pause", repr(opts["acceptable_pause"]),
               "--stop-on-stdin-eof"]
        if seed is not None:
            cmd += ["--seed", seed]
        for module in self._modules:
            cmd += ["--import", module]
        log_path = os.path.join(state.tmpdir, f"{node_name}.log")
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env,
                text=True, encoding="utf-8", errors="replace", close_fds=True,
                start_new_session=True,  # Ctrl-C reaches this interpreter, which stops them
            )
        assert process.stdout is not None
        reader = _StdoutReader(process.stdout, node_name)
        handle = NodeHandle(node_name, process, state.controller_box, log_path, reader)
        state.handles.append(handle)
        state.readers.append(reader)
        reader.start()
        return handle

    def _await_running(self, handle: NodeHandle, deadline: float, timeout: float) -> None:
        reader = handle._reader
        reader.ready.wait(max(0.0, deadline - time.monotonic()))
        if reader.node_id is not None:
            handle._id = reader.node_id
            return
        if reader.ready.is_set():  # EOF on stdout: the process is exiting
            try:
                handle.process.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                pass
            self._check_process(handle)
        raise TimeoutError(f"LocalCluster: node process {handle.name} (pid {handle.os_pid}) "
                           f"did not report running within {timeout:g} s; stderr:\n"
                           f"{handle.log()[-4000:]}")

    @staticmethod
    def _check_process(handle: NodeHandle) -> None:
        code = handle.process.poll()
        if code is not None:
            raise RuntimeError(f"LocalCluster: node process {handle.name} exited with code {code} "
                               f"during startup; stderr:\n{handle.log()[-4000:]}")

    # ---- helpers -------------------------------------------------------
    def _check_open(self) -> None:
        if self._state.closed:
            raise RuntimeError("this LocalCluster is closed")

    def _resolve(self, node: object, what: str) -> Node | NodeHandle:
        self._check_open()
        members: list[Node | NodeHandle] = self.nodes
        if isinstance(node, str):
            for m in members:
                if m.id == node:
                    return m
            raise ValueError(f"{what} {node!r} is not a member of this cluster")
        if isinstance(node, (Node, NodeHandle)):
            if any(m is node for m in members):
                return node
            raise ValueError(f"{what} {node!r} is not a member of this cluster")
        raise TypeError(f"{what} must be a Node, NodeHandle or node id str, "
                        f"not {type(node).__name__}")

    def _resolve_groups(self, groups: tuple[Any, ...]) -> list[list[Node | NodeHandle]]:
        self._check_open()
        if len(groups) < 2:
            raise ValueError(f"partition needs at least two groups, got {len(groups)}")
        resolved: list[list[Node | NodeHandle]] = []
        seen: dict[int, int] = {}
        for g, group in enumerate(groups, 1):
            if isinstance(group, (str, Node, NodeHandle)):
                group = [group]
            elif not isinstance(group, (list, tuple, set, frozenset)):
                raise TypeError(f"partition group {g} must be a member or a list of members, "
                                f"not {type(group).__name__}")
            members = [self._resolve(x, f"partition group {g} member") for x in group]
            if not members:
                raise ValueError(f"partition group {g} is empty")
            for m in members:
                if id(m) in seen and seen[id(m)] != g:
                    raise ValueError(f"{m.id} is in partition groups {seen[id(m)]} and {g}")
                seen[id(m)] = g
            resolved.append(members)
        return resolved

    def _statuses(self) -> list[tuple[str, str]]:
        out = []
        for node in self._state.nodes:
            out.append((node.id, "running" if node.running else "stopped"))
        for handle in self._state.handles:
            out.append((handle._id or handle.name, handle.status))
        return out

    def _statuses_text(self) -> list[str]:
        return [f"{i} {s}" for i, s in self._statuses()]
