"""``python -m noexpp node`` and ``python -m noexpp nodes``: real OS processes
on 127.0.0.1. Every process a test starts is stopped (and reaped) by the
``start_node`` fixture, also when the test fails."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest
from helpers import wait_for
from noexpp.cli import main

#: Bound for a node process to print its id line, and to exit once signalled.
START_TIMEOUT = 20.0
RUNNING = re.compile(r"^node (\S+@\S+:\d+) running$")
#: Child environment: this directory importable (``--import cluster_behaviors``).
CHILD_ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(
    p for p in (os.path.dirname(os.path.abspath(__file__)), os.environ.get("PYTHONPATH")) if p))


def _cookie_file(directory: Path, name: str, cookie: str) -> str:
    path = directory / name
    path.write_text(cookie)
    path.chmod(0o600)
    return str(path)


@pytest.fixture
def cookie_file(tmp_path: Path) -> str:
    """A cookie file shared by the nodes of one test."""
    return _cookie_file(tmp_path, "cookie", "cli-test-cookie")


class NodeProcess:
    """A ``python -m noexpp node`` child; its stdout is read by a thread."""

    def __init__(self, args: list[str], stderr_path: Path) -> None:
        self.stderr_path = stderr_path
        with open(stderr_path, "wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "noexpp", "node", *args],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, text=True,
                env=CHILD_ENV)
        self.lines: list[str] = []
        self._first = threading.Event()
        assert self.process.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,),
                                        daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))
            self._first.set()
        self._first.set()

    def node_id(self) -> str:
        """Waits (bounded) for the ``node <id> running`` line; returns the id."""
        assert self._first.wait(START_TIMEOUT), f"no output within {START_TIMEOUT}s: {self.stderr()}"
        assert self.lines, f"exited with {self.process.poll()} before printing: {self.stderr()}"
        match = RUNNING.match(self.lines[0])
        assert match, self.lines
        return match.group(1)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def finish(self, timeout: float = START_TIMEOUT) -> int:
        """Waits for the exit and the end of stdout; returns the exit code."""
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=timeout)
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._reader.join(timeout=START_TIMEOUT)
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture
def start_node(tmp_path: Path) -> Iterator[Callable[..., NodeProcess]]:
    """``start_node(*args)`` -> a running ``node`` command, killed at teardown."""
    started: list[NodeProcess] = []

    def start(*args: str) -> NodeProcess:
        proc = NodeProcess(list(args), tmp_path / f"node{len(started)}.stderr")
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in started:
            proc.close()


def run_cli(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "noexpp", *args], capture_output=True,
                          text=True, timeout=timeout, check=False, env=CHILD_ENV)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- node ---------------------------------------------------------------------------

def test_node_prints_its_id_and_stops_on_sigterm(start_node: Callable[..., NodeProcess],
                                                  cookie_file: str) -> None:
    node = start_node("--name", "alpha", "--cookie-file", cookie_file, "--log-level", "warning")
    node_id = node.node_id()
    assert node_id.startswith("alpha@127.0.0.1:")
    node.process.send_signal(signal.SIGTERM)
    assert node.finish() == 0, node.stderr()
    assert node.lines == [f"node {node_id} running", f"node {node_id} stopped"]


def test_second_node_joins_through_seed_and_nodes_lists_both(
        start_node: Callable[..., NodeProcess], cookie_file: str) -> None:
    first = start_node("--name", "first", "--cookie-file", cookie_file)
    first_id = first.node_id()
    second = start_node("--name", "second", "--cookie-file", cookie_file, "--seed", first_id,
                        "--import", "cluster_behaviors", "--threads", "1")
    second_id = second.node_id()
    listing: list[list[str]] = []

    def both_listed() -> bool:
        out = run_cli("nodes", "--seed", first_id, "--cookie-file", cookie_file)
        assert out.returncode == 0, out.stderr
        listing.append(out.stdout.split())
        return sorted(listing[-1]) == sorted([first_id, second_id])

    wait_for(both_listed, timeout=START_TIMEOUT, interval=0.05, what="second node joined")
    assert listing[-1][0] == first_id  # the seed first
    second.process.send_signal(signal.SIGINT)  # SIGINT stops it as gracefully
    assert second.finish() == 0, second.stderr()
    assert second.lines[-1] == f"node {second_id} stopped"
    first.process.send_signal(signal.SIGTERM)
    assert first.finish() == 0, first.stderr()


def test_node_with_unknown_import_exits_2(start_node: Callable[..., NodeProcess],
                                          cookie_file: str) -> None:
    node = start_node("--name", "broken", "--cookie-file", cookie_file,
                      "--import", "no_such_module_for_cli")
    assert node.finish() == 2
    assert node.lines == []
    assert "no_such_module_for_cli" in node.stderr()


def test_node_on_a_taken_port_exits_1_with_one_line(start_node: Callable[..., NodeProcess],
                                                     cookie_file: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        node = start_node("--name", "late", "--cookie-file", cookie_file,
                          "--listen", f"127.0.0.1:{port}", "--log-level", "off")
        assert node.finish() == 1
    assert node.lines == []
    message = node.stderr().strip()
    assert message.startswith("python -m noexpp node:") and "\n" not in message, message


def test_node_with_a_bad_name_exits_1(start_node: Callable[..., NodeProcess],
                                      cookie_file: str) -> None:
    node = start_node("--name", "a@b", "--cookie-file", cookie_file)
    assert node.finish() == 1
    assert "name" in node.stderr()


# --- nodes --------------------------------------------------------------------------

def test_nodes_with_a_wrong_cookie_exits_1(start_node: Callable[..., NodeProcess],
                                           cookie_file: str, tmp_path: Path) -> None:
    node = start_node("--name", "guarded", "--cookie-file", cookie_file, "--log-level", "off")
    node_id = node.node_id()
    wrong = _cookie_file(tmp_path, "wrong", "not-the-cookie")
    out = run_cli("nodes", "--seed", node_id, "--cookie-file", wrong)
    assert out.returncode == 1
    assert out.stdout == ""
    assert "cookie" in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_nodes_with_nobody_listening_exits_1(cookie_file: str) -> None:
    seed = f"ghost@127.0.0.1:{_free_port()}"
    out = run_cli("nodes", "--seed", seed, "--cookie-file", cookie_file, "--timeout", "1")
    assert out.returncode == 1
    assert seed in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_nodes_with_a_malformed_seed_exits_1(cookie_file: str) -> None:
    out = run_cli("nodes", "--seed", "not-an-id", "--cookie-file", cookie_file, "--timeout", "1")
    assert out.returncode == 1 and out.stderr.strip(), out


# --- help and arguments (in this interpreter) -------------------------------------------

@pytest.mark.parametrize(("command", "options"), [
    ("node", ["--name", "--listen", "--cookie-file", "--seed", "--import", "--threads",
              "--log-level", "--heartbeat-interval", "--stop-on-stdin-eof", "--tls-cert",
              "--tls-key", "--tls-ca"]),
    ("nodes", ["--seed", "--cookie-file", "--timeout", "--tls-cert", "--tls-key", "--tls-ca"]),
])
def test_help_describes_every_option(command: str, options: list[str],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in options:
        assert option in text, option


@pytest.mark.parametrize("argv", [
    ["node"],                                        # --name is required
    ["node", "--name", "x", "--threads", "0"],
    ["node", "--name", "x", "--log-level", "loud"],
    ["node", "--name", "x", "--heartbeat-interval", "-1"],
    ["nodes"],                                       # --seed is required
    ["nodes", "--seed", "a@127.0.0.1:1", "--timeout", "soon"],
    ["teleport"],
])
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_main_module_delegates_to_cli() -> None:
    import noexpp.__main__ as entry

    assert entry.main is main
    assert os.path.basename(entry.__file__ or "") == "__main__.py"
