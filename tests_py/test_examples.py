"""Every script in examples/ runs to completion and prints what it shows.

The scripts are part of the documentation (docs/supervision.md quotes them),
so a change that breaks one fails here. A new script is picked up by the
glob; add the lines it must print to EXPECTED.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# *_behaviors.py are modules the examples import (node processes too), not scripts.
SCRIPTS = sorted(p for p in EXAMPLES.glob("*.py") if not p.name.endswith("_behaviors.py"))

#: Lines (substrings of stdout) each script must print.
EXPECTED: dict[str, list[str]] = {
    "one_for_one.py": [
        "cache: untouched (restart_count=0)",
        "db: restarted (restart_count=1)",
        "web: untouched (restart_count=0)",
        "cache has answered 2 call(s)",
    ],
    "one_for_all.py": [
        ("terminate session (shutdown)\n  terminate config (shutdown)\n"
         "  start config\n  start connection\n  start session"),
        "config: restarted",
        "session: restarted",
        "total restarts counted: 1",
    ],
    "rest_for_one.py": [
        "terminate api (shutdown)\n  start cache\n  start api",
        "db: untouched",
        "cache: restarted",
        "api: restarted",
    ],
    "simple_one_for_one.py": [
        "alice@eu-west: 1 hit(s)",
        "restarted: bob@eu-west: 1 hit(s)",
        "after alice logged out: {'specs': 1, 'active': 2",
        "after terminate_child(carol): {'specs': 1, 'active': 1",
        "InvalidSimpleOneForOneError:",
    ],
    "restart_intensity.py": [
        "event restart_intensity_exceeded: {'child_id': 'flaky', 'max_restarts': 3, 'within': 5.0}",
        "steady: terminate(shutdown)",
        "is_running: False",
        "health: failed",
        "total_restarts: 3",
        "error: MaxRestartsExceededError",
        "stop_reason: more than 3 restarts",
    ],
    "backoff.py": [
        "attempt  nominal  measured",
        "      1   0.050s",
        "      3   0.200s",
        "      6   0.400s",
        "connected after 7 starts",
        "restart_count: 6",
    ],
    "decider.py": [
        "-> 'resume'",
        "the call failed: error InsufficientFunds",
        "same process: True | balance kept: 100",
        "new process: True | balance: 0",
        "children now: ['alice']",
        "supervisor stopped: child 'alice' escalated: error LedgerCorrupted",
        "error: MaxRestartsExceededError",
    ],
    "nested_tree.py": [
        "    pool: restart_intensity_exceeded conn1",
        " storage: child_restarted pool",
        "db restarted: True",
        "api untouched: True",
        "root stats: {'health': 'healthy', 'total_restarts': 0}",
    ],
    "auto_shutdown.py": [
        "race: supervisor_stopped  (auto_shutdown (any_significant))",
        "is_running: False | stop_reason: auto_shutdown (any_significant)",
        "batch: supervisor_stopped  (auto_shutdown (all_significant))",
        "root: child_stopped batch (shutdown)",
        "not running: ref=None",
    ],
    "cpp_children.py": [
        "'noexpp.probe': 'cpp'",
        "native: pong 15",
        "python: hello from Python, C++",
        "native crashed: error std::runtime_error: crash requested",
        "restarted with its initial value: 10",
        "stopped stubborn: killed",
        "native's terminate at shutdown: shutdown",
    ],
    "restart_types.py": [
        "permanent       restarted      restarted      restarted      restarted      restarted",
        "transient     not running    not running    not running      restarted      restarted",
        "temporary       forgotten      forgotten      forgotten      forgotten      forgotten",
    ],
    "shutdown.py": [
        "stubborn: got Exit(shutdown), ignoring it",
        "trapping: terminate(shutdown)",
        "plain: terminate(shutdown)",
        "stubborn: killed\n  trapping: shutdown\n  brutal: killed\n  plain: shutdown",
    ],
    "dynamic_children.py": [
        "start_child a again: DuplicateChildError",
        "start_child broken: InitError",
        "restart_child b (running): ChildRunningError",
        "restart_child b: ok -> 'B'",
        "delete_child b again: ChildNotFoundError",
        "after terminating temporary tmp: ['a']",
        "start_child after stop: SupervisorNotRunning",
    ],
    "cluster_basics.py": [
        "alpha saw node_up: beta",
        "remote call after one cast: get -> 6",
        "watching from node alpha",
        "beta's watcher got from alpha: ('count', 7)",
        " self  rtt=-",
        " up    rtt=",
        "monitor: alpha process exited with reason 'maintenance'",
        "calling it now: NoProcess (noproc)",
        "beta saw node_down: alpha reason=shutdown",
        "beta.nodes() now: [('beta', 'self')]",
    ],
    "distributed_supervisor.py": [
        "placed: job0@node1, job1@node2, job2@node3, job3@node1, job4@node2, job5@node3",
        "job1 crashed: error RuntimeError: job job1 failed",
        "job1 restarted on node2, restart_count=1",
        "killed node1: job0, job3 moved to job0@node2, job3@node3 after",
        "every job answers once, none on node1: True",
        "children_by_node: {'node2': 3, 'node3': 3}",
        "total_restarts=3 node_failure_restarts=2 (not counted)",
        "supervisor stopped: is_running=False",
    ],
    "cluster_failover.py": [
        "store runs on node2",
        "get answer -> 42",
        "observer sees 3 members up",
        "killed node2: observer got node_down node2 reason=noconnection",
        "monitor on the store fired: reason noconnection",
        "call to the store: NodeDown after",
        "froze node3: observer got node_down node3 reason=noconnection (no heartbeat for",
        "resumed node3: observer got node_up node3 again",
    ],
    "cluster_partition.py": [
        "before: node2 greets node1 | node3 greets node2",
        ("  node1 saw node_down node2 (noconnection)\n  node1 saw node_down node3 (noconnection)\n"
         "  node2 saw node_down node1 (noconnection)\n  node3 saw node_down node1 (noconnection)"),
        "node1 -> node2 across the cut: NodeDown after",
        "node2 -> node3 on the same side: node3 greets node2",
        ("  node1 saw node_up node2\n  node1 saw node_up node3\n"
         "  node2 saw node_up node1\n  node3 saw node_up node1"),
        "after: node2 greets node1 | node3 greets node2",
    ],
}


def test_examples_folder_is_not_empty() -> None:
    assert SCRIPTS, f"no scripts in {EXAMPLES}"


def test_every_expectation_names_a_script() -> None:
    names = {s.name for s in SCRIPTS}
    assert set(EXPECTED) <= names, f"EXPECTED names missing scripts: {set(EXPECTED) - names}"


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_example_runs(script: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=EXAMPLES.parent,
    )
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
    assert proc.stdout.strip(), f"{script.name} printed nothing"
    for line in EXPECTED.get(script.name, []):
        assert line in proc.stdout, f"{script.name} did not print {line!r}:\n{proc.stdout}"
