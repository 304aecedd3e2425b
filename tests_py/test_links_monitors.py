"""Monitors (node.monitor callbacks and self.monitor DOWN messages) and links
(exit propagation, trap_exit turning exits into Exit messages)."""

from __future__ import annotations

import threading
from typing import Any

import noexpp
from helpers import TIMEOUT


class Idle(noexpp.GenServer):
    """Answers calls; crashes on the cast "crash"; stops on the cast "stop"."""

    def handle_call(self, request: Any, caller: Any) -> Any:
        return request

    def handle_cast(self, request: Any) -> None:
        if request == "crash":
            raise ValueError("idle crashed")
        if request == "stop":
            self.stop()


def make_watcher(inbox: Any) -> type[noexpp.GenServer]:
    class Watcher(noexpp.GenServer):
        """Monitors or links on request and reports every info message."""

        def handle_call(self, request: Any, caller: Any) -> Any:
            op, target = request
            if op == "monitor":
                self.monitor(target)
            elif op == "link":
                self.link(target)
            elif op == "trap_link":
                self.trap_exit(True)
                self.link(target)
            return "ok"

        def handle_info(self, message: Any) -> None:
            inbox.put(message)

    return Watcher


# --- node.monitor ------------------------------------------------------------

def test_node_monitor_callback_on_normal_stop(node: noexpp.Node, inbox: Any) -> None:
    ref = node.spawn(Idle)
    node.monitor(ref, lambda r, reason: inbox.put((r, reason)))
    ref.stop()
    down_ref, reason = inbox.get()
    assert down_ref == ref
    assert reason == "normal"


def test_node_monitor_callback_on_crash(node: noexpp.Node, inbox: Any) -> None:
    ref = node.spawn(Idle)
    node.monitor(ref, lambda r, reason: inbox.put((r, reason)))
    ref.cast("crash")
    down_ref, reason = inbox.get()
    assert down_ref == ref
    assert reason.kind == "error"
    assert reason.error_type == "ValueError"
    assert "idle crashed" in reason.message


def test_node_monitor_callback_fires_once(node: noexpp.Node, inbox: Any) -> None:
    ref = node.spawn(Idle)
    calls = []
    done = threading.Event()

    def callback(r: Any, reason: Any) -> None:
        calls.append(reason)
        done.set()

    node.monitor(ref, callback)
    ref.stop()
    assert done.wait(TIMEOUT)
    # Another monitored process dying afterwards is a barrier: callbacks
    # of one node run in order, so a duplicate would have come by now.
    other = node.spawn(Idle)
    node.monitor(other, lambda r, reason: inbox.put(reason))
    other.stop()
    assert inbox.get() == "normal"
    assert calls == ["normal"]


def test_node_monitor_on_dead_process_reports_noproc(node: noexpp.Node, inbox: Any) -> None:
    ref = node.spawn(Idle)
    ref.stop()
    node.monitor(ref, lambda r, reason: inbox.put((r, reason)))
    down_ref, reason = inbox.get()
    assert down_ref == ref
    assert reason == "noproc"


def test_node_monitor_callback_may_use_the_node(node: noexpp.Node, inbox: Any) -> None:
    """A callback that calls a process synchronously must not deadlock the engine."""
    echo = node.spawn(Idle)
    ref = node.spawn(Idle)
    node.monitor(ref, lambda r, reason: inbox.put(echo.call(("seen", reason == "normal"), timeout=TIMEOUT)))
    ref.stop()
    assert inbox.get() == ("seen", True)


# --- self.monitor -> Down ----------------------------------------------------

def test_monitor_delivers_down_on_crash(node: noexpp.Node, inbox: Any) -> None:
    watcher = node.spawn(make_watcher(inbox))
    target = node.spawn(Idle)
    assert watcher.call(("monitor", target)) == "ok"
    target.cast("crash")
    down = inbox.get()
    assert isinstance(down, noexpp.Down)
    assert down.ref == target
    assert down.reason.kind == "error"
    assert down.reason.error_type == "ValueError"
    assert watcher.alive  # a monitor never kills the watcher


def test_monitor_delivers_down_on_normal_exit(node: noexpp.Node, inbox: Any) -> None:
    watcher = node.spawn(make_watcher(inbox))
    target = node.spawn(Idle)
    watcher.call(("monitor", target))
    target.stop()
    down = inbox.get()
    assert isinstance(down, noexpp.Down)
    assert down.ref == target
    assert down.reason == "normal"


def test_monitor_of_dead_process_delivers_noproc(node: noexpp.Node, inbox: Any) -> None:
    watcher = node.spawn(make_watcher(inbox))
    target = node.spawn(Idle)
    target.stop()
    watcher.call(("monitor", target))
    down = inbox.get()
    assert isinstance(down, noexpp.Down)
    assert down.reason == "noproc"


# --- links ---------------------------------------------------------------------

def test_trapped_link_delivers_exit_message(node: noexpp.Node, inbox: Any) -> None:
    watcher = node.spawn(make_watcher(inbox))
    target = node.spawn(Idle)
    watcher.call(("trap_link", target))
    target.cast("crash")
    exit_msg = inbox.get()
    assert isinstance(exit_msg, noexpp.Exit)
    assert exit_msg.ref == target
    assert exit_msg.reason.kind == "error"
    assert exit_msg.reason.error_type == "ValueError"
    assert watcher.alive
    assert watcher.call(("noop", None)) == "ok"


def test_trapped_link_delivers_normal_exit_too(node: noexpp.Node, inbox: Any) -> None:
    watcher = node.spawn(make_watcher(inbox))
    target = node.spawn(Idle)
    watcher.call(("trap_link", target))
    target.cast("stop")
    exit_msg = inbox.get()
    assert isinstance(exit_msg, noexpp.Exit)
    assert exit_msg.ref == target
    assert exit_msg.reason == "normal"


def test_untrapped_link_propagates_abnormal_exit(node: noexpp.Node, make_inbox: Any) -> None:
    infos, down = make_inbox(), make_inbox()
    watcher = node.spawn(make_watcher(infos))
    target = node.spawn(Idle)
    watcher.call(("link", target))
    node.monitor(watcher, lambda r, reason: down.put(reason))
    target.cast("crash")
    reason = down.get()
    assert reason.kind == "error"
    assert reason.error_type == "ValueError"
    assert not watcher.alive
    assert infos.drain() == []  # not trapping: no Exit message, just death


def test_untrapped_link_ignores_normal_exit(node: noexpp.Node, make_inbox: Any) -> None:
    infos, down = make_inbox(), make_inbox()
    watcher = node.spawn(make_watcher(infos))
    target = node.spawn(Idle)
    watcher.call(("link", target))
    node.monitor(target, lambda r, reason: down.put(reason))
    target.cast("stop")
    assert down.get() == "normal"
    assert watcher.call(("noop", None)) == "ok"
    assert watcher.alive


def test_link_is_bidirectional(node: noexpp.Node, make_inbox: Any) -> None:
    """The watcher links to the target; the watcher crashing takes the target down."""
    infos, down = make_inbox(), make_inbox()

    class CrashingWatcher(noexpp.GenServer):
        def handle_call(self, request: Any, caller: Any) -> Any:
            self.link(request)
            return "linked"

        def handle_cast(self, request: Any) -> None:
            raise RuntimeError("watcher crashed")

    watcher = node.spawn(CrashingWatcher)
    target = node.spawn(Idle)
    watcher.call(target)
    node.monitor(target, lambda r, reason: down.put(reason))
    watcher.cast("crash")
    reason = down.get()
    assert reason.kind == "error"
    assert reason.error_type == "RuntimeError"
    assert not target.alive
