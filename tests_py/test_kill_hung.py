"""A kill is unconditional even for a handler that never returns (issue 12
item 7): a Python handler is cut short by noexpp.ProcessKilled, one blocked
in C is left behind, and node.stop() keeps to its grace either way. Each case
runs in its own interpreter: a thread left behind stays until that OS
process exits."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    import threading
    import time
    import noexpp

    never = threading.Event()
    entered = threading.Event()
    cut_short = []

    class Hung(noexpp.GenServer):
        def handle_cast(self, how):
            entered.set()
            try:
                if how == "spin":
                    while True:
                        try:
                            sum(range(100))
                        except Exception:
                            print("swallowed", flush=True)   # must not happen
                else:
                    never.wait()                      # blocked in C: no bytecode runs
            finally:
                cut_short.append(how)

    how = sys.argv[1]
    node = noexpp.Node("hung")
    first, second = node.spawn(Hung), node.spawn(Hung)
    first.cast(how)
    assert entered.wait(60)
    watched = []
    node.monitor(first, lambda ref, reason: watched.append(str(reason)))
    print("killed", first.kill(), "alive", first.alive, flush=True)
    entered.clear()
    second.cast(how)                                  # the stop must kill this one
    assert entered.wait(60)
    start = time.monotonic()
    node.stop(grace=1.0)
    print("stop took", round(time.monotonic() - start, 1), flush=True)
    print("down", watched, flush=True)
    print("cut short", len(cut_short), flush=True)
    """
)


def run(how: str) -> tuple[list[str], str]:
    done = subprocess.run([sys.executable, "-c", SCRIPT, how], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert done.returncode == 0, (done.stdout, done.stderr)
    return done.stdout.splitlines(), done.stderr


def stop_time(lines: list[str]) -> float:
    return float(next(line for line in lines if line.startswith("stop took")).split()[-1])


def test_a_killed_python_handler_is_cut_short_and_the_stop_keeps_its_grace() -> None:
    lines, stderr = run("spin")
    assert "killed True alive False" in lines, lines
    assert "down ['killed']" in lines, lines
    # Both handlers (the killed one, and the one the stop killed) ended,
    # and `except Exception` did not swallow the interrupt.
    assert "cut short 2" in lines, lines
    assert "swallowed" not in lines
    assert "crashed" not in stderr, stderr              # a kill is no crash
    assert stop_time(lines) < 1.0 + 5.0, lines          # grace 1 s; generous for a loaded machine


def test_a_handler_blocked_in_c_is_left_behind_and_the_stop_still_returns() -> None:
    lines, stderr = run("block")
    assert "killed True alive False" in lines, lines
    assert "down ['killed']" in lines, lines
    assert "cut short 0" in lines, lines                # still blocked: the threads stay behind
    assert "left behind" in stderr, stderr
    assert stop_time(lines) < 1.0 + 5.0, lines
