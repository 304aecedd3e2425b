"""The GIL and blocking waits: ref.call releases the GIL while it waits, and
Ctrl-C (SIGINT) interrupts a waiting call, and only the caller."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
from typing import Any

import pytest

import noexpp
from helpers import TIMEOUT, Echo


class Gate(noexpp.GenServer):
    """"wait" is answered only when the cast "open" arrives."""

    def init(self) -> None:
        self.waiting: Any = None

    def handle_call(self, request: Any, caller: Any) -> Any:
        self.waiting = caller
        return noexpp.NoReply

    def handle_cast(self, request: Any) -> None:
        self.reply(self.waiting, ("opened", request))


def test_call_releases_the_gil_while_waiting(node: noexpp.Node) -> None:
    """A Python thread makes progress while the main thread waits in call,
    and that progress is what ends the wait: a call holding the GIL would
    leave the counter stuck and the call would time out."""
    target = 20_000
    progress = {"count": 0}
    failures: list[BaseException] = []
    entered = threading.Event()

    class StartingGate(Gate):
        def handle_call(self, request: Any, caller: Any) -> Any:
            reply = super().handle_call(request, caller)
            entered.set()  # the main thread is (about to be) waiting in call
            return reply

    gate = node.spawn(StartingGate)

    def counter() -> None:
        try:
            if not entered.wait(TIMEOUT):
                return
            while progress["count"] < target:
                progress["count"] += 1
            gate.cast(progress["count"])
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            failures.append(exc)

    t = threading.Thread(target=counter)
    t.start()
    try:
        result = gate.call("wait", timeout=30.0)
    finally:
        t.join(TIMEOUT)
    assert failures == []
    assert progress["count"] == target
    assert result == ("opened", target)


def test_python_thread_runs_during_a_long_handler_call(node: noexpp.Node) -> None:
    """While one thread waits in a call whose handler blocks on a
    threading.Event, other threads keep calling other processes."""

    release = threading.Event()
    entered = threading.Event()

    class Blocking(noexpp.GenServer):
        def handle_call(self, request: Any, caller: Any) -> Any:
            entered.set()
            if not release.wait(30.0):
                return "never released"
            return "released"

    blocking = node.spawn(Blocking)
    echo = node.spawn(Echo)
    out: queue.Queue[Any] = queue.Queue()
    t = threading.Thread(target=lambda: out.put(blocking.call("go", timeout=60.0)))
    t.start()
    assert entered.wait(TIMEOUT)
    # The engine and the GIL are both free for other work meanwhile.
    for i in range(20):
        assert echo.call(i, timeout=TIMEOUT) == i
    release.set()
    assert out.get(timeout=TIMEOUT) == "released"
    t.join(TIMEOUT)


INTERRUPT_SCRIPT = textwrap.dedent(
    """
    import sys
    import noexpp

    class Never(noexpp.GenServer):
        def handle_call(self, request, caller):
            print("waiting", flush=True)   # the caller is blocked in call now
            return noexpp.NoReply

    with noexpp.Node("interrupted") as node:
        ref = node.spawn(Never)
        try:
            ref.call("never", timeout=120.0)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            raise
        print("call returned", flush=True)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery is POSIX")
def test_keyboard_interrupt_stops_a_waiting_call() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", INTERRUPT_SCRIPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.Queue[str] = queue.Queue()

    def read_stdout() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.strip())

    reader = threading.Thread(target=read_stdout, daemon=True)
    reader.start()
    try:
        try:
            first = lines.get(timeout=60)
        except queue.Empty:
            pytest.fail("the child never printed 'waiting'")
        assert first == "waiting"
        proc.send_signal(signal.SIGINT)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("SIGINT did not interrupt the waiting call within 30 s")
        reader.join(TIMEOUT)
        assert proc.stderr is not None
        stderr = proc.stderr.read()
        rest = []
        while not lines.empty():
            rest.append(lines.get_nowait())
        assert "interrupted" in rest, (rest, stderr)
        assert "call returned" not in rest
        assert "KeyboardInterrupt" in stderr
        assert rc != 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


# The caller's thread runs an idle callee's handler itself ("caller runs"),
# so a Ctrl-C may come while the main thread is inside the callee. The
# handler presses Ctrl-C on its own process `presses` times (os.kill on
# the main thread is delivered before the next bytecode, as a terminal's
# Ctrl-C would be), then does more work: the place a KeyboardInterrupt
# would land if it were delivered into the handler.
CALLER_RUNS_INTERRUPT_SCRIPT = textwrap.dedent(
    """
    import os
    import signal
    import sys
    import threading
    import noexpp

    class Counter(noexpp.GenServer):
        def init(self):
            self.handled = 0

        def handle_call(self, presses, caller):
            if presses == "count":
                return self.handled
            print("inline", threading.current_thread() is threading.main_thread(), flush=True)
            for _ in range(presses):
                os.kill(os.getpid(), signal.SIGINT)
            sum(range(100000))
            self.handled += 1
            return "handled"

    with noexpp.Node("caller-runs") as node:
        ref = node.spawn(Counter)
        try:
            print("returned", ref.call(int(sys.argv[1]), timeout=60.0), flush=True)
        except KeyboardInterrupt:
            print("caller interrupted", flush=True)
        print("alive", ref.alive, flush=True)
        if ref.alive:
            print("count", ref.call("count", timeout=60.0), flush=True)
    """
)


def run_caller_runs_script(presses: int) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", CALLER_RUNS_INTERRUPT_SCRIPT, str(presses)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines = done.stdout.split("\n")
    assert done.returncode == 0, (lines, done.stderr)
    assert "inline True" in lines, ("the handler did not run on the caller's thread", lines)
    return lines


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery is POSIX")
def test_ctrl_c_while_the_caller_runs_the_handler_interrupts_only_the_caller() -> None:
    lines = run_caller_runs_script(presses=1)
    # The handler ran to its end (its state kept), the caller got the interrupt.
    assert "caller interrupted" in lines, lines
    assert "alive True" in lines, lines
    assert "count 1" in lines, lines


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery is POSIX")
def test_a_second_ctrl_c_breaks_into_a_handler_the_caller_runs() -> None:
    # The way out of a handler that never returns: the second Ctrl-C is
    # not held, so that process crashes, and the caller is interrupted.
    lines = run_caller_runs_script(presses=2)
    assert "caller interrupted" in lines, lines
    assert "alive False" in lines, lines
