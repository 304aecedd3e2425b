"""The chaos run of test_chaos.py: five node processes of a processes-mode
LocalCluster, each with a supervisor tree and global names (chaos_behaviors),
and a seeded random sequence of faults: SIGKILL (and a restart under the same
node id), SIGSTOP/SIGCONT, partitions, slow links and child crashes.

Invariants kept while faults run: at least ``MIN_UP`` members are healthy
(running, not frozen, not cut off, not restarting), so never all nodes are
down at once; one network fault (partition or delay) at a time, ended by
``heal``. Same rules as helpers.py: no sleeps as synchronisation, every wait
bounded.
"""
from __future__ import annotations

import collections
import contextlib
import os
import random
import shutil
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import chaos_behaviors
import noexpp
from chaos_behaviors import AGENT, AGENT_NAME
from helpers import wait_for
from noexpp._os_node import NodeHandle, child_env, start_node_process

__all__ = ["ChaosRun", "Slot", "proc_counts"]

WORKERS = 4
NAMES = 3
MIN_UP = 3
#: How long a (re)started node may take to come up and register its names.
SETUP_TIMEOUT = 30.0


def proc_counts(os_pid: int) -> tuple[int, int]:
    """(OS threads, open file descriptors) of a process, read from /proc."""
    with open(f"/proc/{os_pid}/status", encoding="ascii") as f:
        threads = next(int(line.split()[1]) for line in f if line.startswith("Threads:"))
    return threads, len(os.listdir(f"/proc/{os_pid}/fd"))


@dataclass
class Slot:
    """One member position: its node id never changes, its process does."""

    index: int
    name: str
    id: str
    handle: NodeHandle
    state: str = "up"            # up | suspended | cut | restarting
    incarnation: int = 0
    holders: dict[str, Any] = field(default_factory=dict)
    process_count: int = -1      # at setup of the current incarnation
    base_threads: int = -1       # of the first incarnation, once meshed
    base_fds: int = -1
    crash_tried: collections.Counter[str] = field(default_factory=collections.Counter)
    crash_done: collections.Counter[str] = field(default_factory=collections.Counter)
    needs_heal: bool = False


class ChaosRun:
    """Drives the faults on ``cluster`` (LocalCluster, 5 processes) with ``seed``."""

    def __init__(self, cluster: noexpp.LocalCluster, seed: int) -> None:
        self.cluster = cluster
        self.seed = seed
        self.rng = random.Random(seed)
        self.ctl = cluster.controller
        assert self.ctl is not None
        self.lock = threading.RLock()
        self.started = time.monotonic()
        self.log: list[str] = []
        self.errors: list[str] = []
        self.threads: list[threading.Thread] = []
        self.net_fault: tuple[str, list[Slot], float] | None = None  # kind, minority, until
        self.resume_at: dict[int, float] = {}
        self.slots = []
        for i, h in enumerate(cluster.nodes):
            assert isinstance(h, NodeHandle)
            self.slots.append(Slot(i, h.name, h.id, h))
        self.counts = collections.Counter[str]()
        self.stopping = False

    # ---- reporting -------------------------------------------------------
    def note(self, text: str) -> None:
        """Adds a line to the fault log, with the time since the start."""
        with self.lock:
            self.log.append(f"{time.monotonic() - self.started:7.2f}s {text}")

    def context(self) -> str:
        """The seed and the fault log, for failure messages."""
        return (f"chaos seed {self.seed} (rerun: NOEXPP_CHAOS_SEED={self.seed}); "
                f"faults {dict(self.counts)}; log:\n  " + "\n  ".join(self.log[-200:]))

    def log_tails(self, lines: int = 15) -> str:
        """The last engine log lines of every node process (its stderr)."""
        out = []
        for slot in self.slots:
            tail = slot.handle.log().splitlines()[-lines:]
            out.append(f"--- {slot.name} (incarnation {slot.incarnation}):\n    "
                       + "\n    ".join(tail))
        return "\n".join(out)

    # ---- setup -------------------------------------------------------------
    def setup_slot(self, slot: Slot) -> None:
        """Spawns the agent on the slot's current process and sets it up."""
        assert self.ctl is not None
        agent = self.ctl.spawn_remote(slot.id, AGENT, name=AGENT_NAME, timeout=SETUP_TIMEOUT)
        result = agent.call(("setup", WORKERS, NAMES, SETUP_TIMEOUT - 5.0),
                            timeout=SETUP_TIMEOUT)
        if result["errors"]:
            self.errors.append(f"{slot.name} incarnation {slot.incarnation} could not register "
                               f"its names: {result['errors']}")
        with self.lock:
            slot.holders = dict(result["holders"])
            slot.process_count = int(result["process_count"])
            slot.crash_tried.clear()
            slot.crash_done.clear()

    def setup_all(self) -> None:
        """Sets up every node, waits until they agree, takes the baselines."""
        for slot in self.slots:
            self.setup_slot(slot)
        wait_for(lambda: not self.problems(check_leaks=False), 30.0, interval=0.1,
                 what="the initial cluster to agree")
        for slot in self.slots:  # the baseline: meshed, set up, quiet
            slot.base_threads, slot.base_fds = proc_counts(slot.handle.os_pid)
        self.note(f"baseline threads/fds {[(s.base_threads, s.base_fds) for s in self.slots]}")

    # ---- faults --------------------------------------------------------------
    def up(self) -> list[Slot]:
        """The healthy members: running, not frozen, cut off or restarting."""
        return [s for s in self.slots if s.state == "up"]

    def run(self, seconds: float) -> None:
        """Applies random faults for ``seconds``, then ends every one of them
        (resume, heal, restarts finished)."""
        end = time.monotonic() + seconds
        pause = threading.Event()
        while time.monotonic() < end:
            self._end_due(time.monotonic())
            self._one_fault()
            pause.wait(self.rng.uniform(0.15, 0.8))
        self.note("chaos over: ending every fault")
        self._end_due(float("inf"))
        for t in self.threads:
            t.join(SETUP_TIMEOUT + 15.0)
            assert not t.is_alive(), f"a node restart hung\n{self.context()}"

    def _one_fault(self) -> None:
        kinds = ["kill", "suspend", "suspend", "partition", "delay", "crash", "crash", "crash"]
        kind = self.rng.choice(kinds)
        with self.lock:
            up = self.up()
        spare = len(up) - MIN_UP
        frozen = [s for s in self.slots if s.state == "suspended"]
        if kind == "kill" and (spare >= 1 or frozen):
            # a frozen node can be killed too: it is down already
            self._kill(self.rng.choice((up if spare >= 1 else []) + frozen))
        elif kind == "suspend" and spare >= 1:
            slot = self.rng.choice(up)
            seconds = self.rng.uniform(0.2, 2.5)  # below and above detection (~1.6 s)
            slot.handle.suspend()
            slot.state = "suspended"
            self.resume_at[slot.index] = time.monotonic() + seconds
            self._count("suspend", f"SIGSTOP {slot.name} for {seconds:.2f}s")
        elif kind in ("partition", "delay") and spare >= 1 and self.net_fault is None:
            minority = self.rng.sample(up, self.rng.randint(1, min(2, spare)))
            majority = [s for s in up if s not in minority]
            seconds = self.rng.uniform(0.5, 3.0)
            groups = ([s.handle for s in minority], [s.handle for s in majority])
            if kind == "partition":
                self._with_controller(up, lambda: self.cluster.partition(*groups))
                what = "partition"
            else:
                lag = self.rng.uniform(0.02, 0.25)
                self._with_controller(up, lambda: self.cluster.delay(*groups, seconds=lag))
                what = f"delay {lag:.3f}s"
            for s in minority:
                s.state = "cut"
            self.net_fault = (kind, minority, time.monotonic() + seconds)
            self._count(kind, f"{what} {[s.name for s in minority]} | "
                              f"{[s.name for s in majority]} for {seconds:.2f}s")
        elif kind == "crash" and up:
            self._crash(self.rng.choice(up))

    def _with_controller(self, slots: list[Slot], action: Callable[[], None]) -> None:
        """Runs ``action`` (requests from the controller to ``slots``, which
        may be repeated); the controller may have lost a node that was frozen
        a moment ago and redial it only with backoff: dial them, again."""
        deadline = time.monotonic() + 15.0
        while True:
            try:
                action()
                return
            except (noexpp.NodeDown, noexpp.CallTimeout):
                if time.monotonic() >= deadline:
                    raise
                for slot in slots:
                    self._reconnect(slot)

    def _count(self, kind: str, text: str) -> None:
        self.counts[kind] += 1
        self.note(text)

    def _end_due(self, now: float) -> None:
        for slot in self.slots:
            due = self.resume_at.get(slot.index)
            if due is not None and due <= now:
                del self.resume_at[slot.index]
                slot.handle.resume()
                self.note(f"SIGCONT {slot.name}")
                with self.lock:
                    slot.state = "up"
                if slot.needs_heal:  # frozen when the network healed
                    self._heal_one(slot)
        if self.net_fault is not None and self.net_fault[2] <= now:
            kind, minority, _ = self.net_fault
            self.net_fault = None
            self.note(f"heal ({kind})")
            for slot in self.slots:
                with self.lock:
                    if slot.state == "suspended":
                        slot.needs_heal = True
                    elif slot.state in ("up", "cut"):
                        self._heal_one(slot)
            with self.lock:
                for s in minority:
                    if s.state == "cut":
                        s.state = "up"

    def _heal_one(self, slot: Slot) -> None:
        assert self.ctl is not None
        # The controller may have lost the node while it was frozen (and
        # redials it with backoff): dial it now, within a bound.
        deadline = time.monotonic() + 15.0
        while True:
            try:
                self.ctl._request(slot.id, ("heal",), timeout=5.0)
                slot.needs_heal = False
                return
            except (noexpp.NodeDown, noexpp.CallTimeout) as e:
                if time.monotonic() >= deadline:
                    self.errors.append(f"heal of {slot.name} failed: {type(e).__name__}: {e}")
                    return
                self._reconnect(slot)

    def _crash(self, slot: Slot) -> None:
        child = self.rng.choice(chaos_behaviors.worker_ids(WORKERS))
        assert self.ctl is not None
        slot.crash_tried[child] += 1
        self._count("crash", f"crash {slot.name}/{child}")
        try:
            agent_children = self._report(slot, timeout=3.0)["children"]
            ref = next(c[1] for c in agent_children if c[0] == child)
            if ref is None:
                return
            ref.call("crash", timeout=3.0)
        except noexpp.ProcessCrashed:
            slot.crash_done[child] += 1
        except (noexpp.NodeDown, noexpp.CallTimeout, noexpp.NoProcess, StopIteration) as e:
            self.note(f"  crash of {slot.name}/{child} not confirmed: {type(e).__name__}")

    def _kill(self, slot: Slot) -> None:
        with self.lock:
            was = slot.state
            slot.state = "restarting"
            self.resume_at.pop(slot.index, None)
        slot.handle.kill()
        self._count("kill", f"SIGKILL {slot.name} (incarnation {slot.incarnation}, {was})")
        t = threading.Thread(target=self._restart, args=(slot,), name=f"chaos-restart-{slot.name}",
                             daemon=True)
        self.threads.append(t)
        t.start()

    def _restart(self, slot: Slot) -> None:
        """Starts a new process under the slot's node id and sets it up."""
        try:
            state = self.cluster._state
            assert state.tmpdir is not None
            old_log = os.path.join(state.tmpdir, f"{slot.name}.log")
            if os.path.exists(old_log):
                shutil.copy(old_log, os.path.join(state.tmpdir,
                                                  f"{slot.name}.{slot.incarnation}.log"))
            port = slot.id.rsplit(":", 1)[1]
            deadline = time.monotonic() + SETUP_TIMEOUT
            while True:
                if self.stopping:
                    return
                with self.lock:  # (not self.rng: that is the main thread's)
                    seed = next(s.id for s in self.slots if s.state == "up")
                handle = start_node_process(
                    slot.name, cookie_path=os.path.join(state.tmpdir, "cookie"),
                    seed=seed, modules=self.cluster._modules,
                    options=self.cluster._node_options, env=child_env(), log_dir=state.tmpdir,
                    controller_box=state.controller_box, listen=f"127.0.0.1:{port}")
                state.handles.append(handle)  # the cluster stops it at close
                try:
                    handle._await_running(deadline, SETUP_TIMEOUT)
                    break
                except RuntimeError:  # e.g. the port was taken by an outgoing socket
                    if time.monotonic() >= deadline:
                        raise
                    self.note(f"  restart of {slot.name} failed at start, again: "
                              f"{handle.log()[-300:]!r}")
            assert handle.id == slot.id, (handle.id, slot.id)
            assert self.ctl is not None
            self.ctl.connect(slot.id, timeout=SETUP_TIMEOUT)
            with self.lock:
                slot.handle = handle
                slot.incarnation += 1
                slot.needs_heal = False
            self.setup_slot(slot)
            self.note(f"{slot.name} restarted (incarnation {slot.incarnation})")
            with self.lock:
                slot.state = "up"
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.errors.append(f"restart of {slot.name} failed: {type(e).__name__}: {e}")
            self.note(f"restart of {slot.name} FAILED: {e!r}")

    # ---- checks --------------------------------------------------------------
    def _report(self, slot: Slot, timeout: float = 5.0) -> dict[str, Any]:
        assert self.ctl is not None
        agent = slot.handle.whereis(AGENT_NAME, timeout=timeout)
        if agent is None:
            raise noexpp.NoProcess(f"no agent on {slot.name}")
        result: dict[str, Any] = agent.call("report", timeout=timeout)
        return result

    def _reconnect(self, slot: Slot) -> None:
        """The controller redials a lost member with backoff (up to 5 s): dial now."""
        assert self.ctl is not None
        with contextlib.suppress(noexpp.NodeDown, noexpp.CallTimeout):
            self.ctl.connect(slot.id, timeout=2.0)

    def stop(self) -> None:
        """Ends the run (also when the test failed): no more restarts, every
        frozen node continued, restart threads joined."""
        self.stopping = True
        for slot in self.slots:
            if slot.handle.suspended:
                slot.handle.resume()
        for t in self.threads:
            t.join(SETUP_TIMEOUT + 15.0)

    def proc_counts_of(self, slot: Slot) -> tuple[int, int]:
        """(threads, fds) of the slot's current process."""
        return proc_counts(slot.handle.os_pid)

    def expected_names(self) -> dict[str, Any]:
        """Every global name the live incarnations registered -> its holder."""
        out: dict[str, Any] = {}
        for s in self.slots:
            out.update(s.holders)
        return out

    def problems(self, check_leaks: bool = True) -> list[str]:
        """What is not (yet) as it must be once every fault has ended; empty
        when the cluster converged."""
        ids = sorted(s.id for s in self.slots)
        expected = self.expected_names()
        out: list[str] = []
        for slot in self.slots:
            if not slot.handle.alive:
                out.append(f"{slot.name}: process exited ({slot.handle.status})")
                continue
            try:
                members = sorted(slot.handle.members(timeout=5.0))
                report = self._report(slot)
            except (noexpp.NodeDown, noexpp.CallTimeout, noexpp.NoProcess) as e:
                out.append(f"{slot.name}: unreachable: {type(e).__name__}: {e}")
                self._reconnect(slot)
                continue
            if members != ids:
                out.append(f"{slot.name}: members {members} != {ids}")
            if report["names"] != expected:
                wrong = {n: r for n, r in report["names"].items() if expected.get(n) != r}
                missing = sorted(set(expected) - set(report["names"]))
                out.append(f"{slot.name}: global names differ: wrong/extra {wrong}, "
                           f"missing {missing}")
            if not report["sup_running"]:
                out.append(f"{slot.name}: supervisor not running")
            children = report["children"]
            want = chaos_behaviors.worker_ids(WORKERS)
            if [c[0] for c in children] != want:
                out.append(f"{slot.name}: children {[c[0] for c in children]} != {want}")
            bad = [c for c in children if c[3] != "running" or not c[4]]
            if bad:
                out.append(f"{slot.name}: children not running: {bad}")
            refs = [c[1] for c in children]
            if len(set(refs)) != len(refs):
                out.append(f"{slot.name}: a child ref appears twice: {refs}")
            for cid, _, restarts, _, _ in children:
                if not slot.crash_done[cid] <= restarts <= slot.crash_tried[cid]:
                    out.append(f"{slot.name}/{cid}: restart_count {restarts}, crashes confirmed "
                               f"{slot.crash_done[cid]}, tried {slot.crash_tried[cid]}")
            if not all(report["holders_alive"].values()):
                out.append(f"{slot.name}: a name holder died: {report['holders_alive']}")
            if report["process_count"] != slot.process_count:
                out.append(f"{slot.name}: {report['process_count']} processes, "
                           f"{slot.process_count} after setup")
            if check_leaks:
                out.extend(self.leaks(slot))
        return out

    def leaks(self, slot: Slot, thread_slack: int = 2, fd_slack: int = 2) -> list[str]:
        """Threads and fds of the slot's process beyond the baseline of its
        first incarnation (measured once meshed, before the chaos) + slack."""
        pid = slot.handle.os_pid
        threads, fds = proc_counts(pid)
        out = []
        if threads > slot.base_threads + thread_slack:
            out.append(f"{slot.name}: {threads} threads, {slot.base_threads} before the chaos")
        if fds > slot.base_fds + fd_slack:
            links = []
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):  # closed meanwhile
                    links.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
            out.append(f"{slot.name}: {fds} fds, {slot.base_fds} before the chaos: "
                       f"{sorted(links)}")
        return out
