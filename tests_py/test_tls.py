"""TLS on the cluster transport (``Node(tls=noexpp.TlsConfig(...))``), over
real TCP on 127.0.0.1, with a CA and node certificates made by the
``openssl`` command line into a temporary folder: TLS nodes call, cast and
monitor each other; LocalCluster passes TLS to every node (threads and
processes); a TLS node and a plain one refuse each other with a clear
AuthenticationError; a certificate of another CA and a wrong cookie are
refused; bad files give typed errors; ``python -m noexpp node --tls-*``.
Every node and node process a test starts is stopped, also on failure."""
from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import noexpp
import pytest
from cluster_support import wait_members_up
from cluster_test_behaviors import ECHO, PROBE
from helpers import TIMEOUT, Collector, MonitorRecorder, wait_for
from noexpp.cli import main

pytest_plugins = ["cluster_fixtures"]


# --- the certificates ---------------------------------------------------------------

class Pki:
    """A CA ("one"), node certificates it signed, a second CA ("two") with a
    node of its own, and broken files; all made with the openssl CLI."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.ca = self._ca("ca-one")
        self.ca_two = self._ca("ca-two")
        self.alpha = self._node("alpha", "ca-one")
        self.beta = self._node("beta", "ca-one")
        self.mallory = self._node("mallory", "ca-two")
        self.both_cas = self.dir / "both-cas.pem"
        self.both_cas.write_text(self.ca.read_text() + self.ca_two.read_text())
        self.garbage = self.dir / "garbage.pem"
        self.garbage.write_text("not a PEM file\n")
        self.encrypted_key = self.dir / "encrypted.key"
        self._openssl("pkey", "-in", str(self.alpha[1]), "-out", str(self.encrypted_key),
                      "-aes256", "-passout", "pass:a-passphrase")

    def config(self, node: tuple[Path, Path], cafile: Path | None = None) -> noexpp.TlsConfig:
        """The TlsConfig of ``node`` (cert, key), trusting CA one unless told."""
        return noexpp.TlsConfig(node[0], node[1], cafile if cafile is not None else self.ca)

    def _openssl(self, *args: str) -> None:
        done = subprocess.run(["openssl", *args], cwd=self.dir, capture_output=True, text=True,
                              timeout=60, check=False)
        assert done.returncode == 0, f"openssl {' '.join(args)}: {done.stderr}"

    def _ca(self, name: str) -> Path:
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "3650",
                      "-subj", f"/CN=noexpp test {name}",
                      "-addext", "basicConstraints=critical,CA:TRUE",
                      "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        return self.dir / f"{name}.pem"

    def _node(self, name: str, ca: str) -> tuple[Path, Path]:
        ext = self.dir / f"{name}.ext"
        ext.write_text("basicConstraints=critical,CA:FALSE\n"
                       "keyUsage=critical,digitalSignature,keyEncipherment\n"
                       "extendedKeyUsage=serverAuth,clientAuth\n")
        self._openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                      "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        self._openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem",
                      "-CAkey", f"{ca}.key", "-CAcreateserial", "-out", f"{name}.pem",
                      "-days", "365", "-extfile", str(ext))
        os.chmod(self.dir / f"{name}.key", 0o600)
        return self.dir / f"{name}.pem", self.dir / f"{name}.key"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    assert shutil.which("openssl"), "the openssl command is needed (scripts/setup.sh installs it)"
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def tls_pair(make_cluster_node: Callable[..., noexpp.Node],
             pki: Pki) -> tuple[noexpp.Node, noexpp.Node]:
    a = make_cluster_node("alpha", tls=pki.config(pki.alpha))
    b = make_cluster_node("beta", tls=pki.config(pki.beta), seeds=[a.id])
    wait_members_up([a, b])
    return a, b


# --- TLS between nodes --------------------------------------------------------------

def test_two_tls_nodes_call_cast_and_monitor_each_other(tls_pair: tuple[noexpp.Node, noexpp.Node],
                                                         remote_probe: str) -> None:
    a, b = tls_pair
    assert a.tls is not None and a.tls.certfile.endswith("alpha.pem")
    collector = Collector(a)
    ref = a.spawn_remote(b.id, remote_probe, 5, collector.ref)
    assert collector.get() == ("up", ref)
    assert ref.node_id == b.id
    assert ref.call("ping", timeout=TIMEOUT) == "pong"
    ref.cast("inc")
    ref.send("inc")
    assert ref.call("get", timeout=TIMEOUT) == 7
    monitors = MonitorRecorder()
    a.monitor(ref, monitors.callback)
    ref.cast("crash")
    [(down_ref, reason, _)] = monitors.wait()
    assert down_ref == ref and reason.kind == "error" and reason.message == "crash requested"
    assert [info.status for info in a.nodes()] == ["self", "up"]


def test_a_large_message_crosses_tls_whole(tls_pair: tuple[noexpp.Node, noexpp.Node]) -> None:
    a, b = tls_pair
    payload = bytes(range(256)) * 4096  # 1 MiB: many TLS records
    echo = a.spawn_remote(b.id, ECHO)
    assert echo.call(payload, timeout=TIMEOUT) == payload
    assert echo.call(("big", 3_000_000), timeout=TIMEOUT) == b"x" * 3_000_000


def test_local_cluster_threads_mode_with_tls(pki: Pki) -> None:
    tls = pki.config(pki.alpha)  # one certificate may serve every node
    with noexpp.LocalCluster(3, mode="threads", tls=tls) as cluster:
        assert cluster.tls == tls
        nodes = [x for x in cluster.nodes if isinstance(x, noexpp.Node)]
        assert len(nodes) == 3 and all(n.tls == tls for n in nodes)
        with noexpp.Node("outsider", cookie=cluster.cookie, tls=cluster.tls) as outsider:
            outsider.connect(nodes[0].id, timeout=TIMEOUT)
            ref = outsider.spawn_remote(nodes[0].id, PROBE, 1)
            assert ref.call("get", timeout=TIMEOUT) == 1


def test_local_cluster_processes_mode_with_tls(process_cluster: Callable[..., noexpp.LocalCluster],
                                               pki: Pki) -> None:
    cluster = process_cluster(2, tls=pki.config(pki.beta))
    handles = [x for x in cluster.nodes if isinstance(x, noexpp.NodeHandle)]
    assert sorted(handles[0].members()) == sorted(h.id for h in handles)
    assert cluster.controller is not None and cluster.controller.tls == cluster.tls
    ref = handles[1].spawn(PROBE, 3)
    assert ref.call(("add", 4), timeout=TIMEOUT) == 7
    assert "TLS on every connection" in handles[0].log()
    cluster.kill(handles[1])  # SIGKILL: its TLS connections end without a close_notify
    wait_for(lambda: handles[1].id not in handles[0].members(), what="the killed node seen down")


# --- refusals -------------------------------------------------------------------------

def test_a_plain_node_and_a_tls_node_refuse_each_other_with_a_clear_error(
        make_cluster_node: Callable[..., noexpp.Node], pki: Pki,
        still_serves: Callable[[noexpp.Node], None]) -> None:
    secure = make_cluster_node("secure", tls=pki.config(pki.alpha))
    plain = make_cluster_node("plain")
    with pytest.raises(noexpp.AuthenticationError, match="requires TLS"):
        plain.connect(secure.id, timeout=TIMEOUT)
    with pytest.raises(noexpp.AuthenticationError, match=r"TLS handshake failed.*TLS off"):
        secure.connect(plain.id, timeout=TIMEOUT)
    assert [i.id for i in secure.nodes()] == [secure.id]
    assert [i.id for i in plain.nodes()] == [plain.id]
    # Both keep running and still admit peers of their own kind.
    still_serves(secure)
    still_serves(plain)
    make_cluster_node("secure2", tls=pki.config(pki.beta)).connect(secure.id, timeout=TIMEOUT)
    make_cluster_node("plain2").connect(plain.id, timeout=TIMEOUT)


def test_a_certificate_of_another_ca_is_refused_both_ways(
        make_cluster_node: Callable[..., noexpp.Node], pki: Pki) -> None:
    alpha = make_cluster_node("alpha", tls=pki.config(pki.alpha))
    # Mallory's certificate is from CA two; she trusts both CAs, so only
    # alpha's check of her certificate can refuse her.
    mallory = make_cluster_node("mallory", tls=pki.config(pki.mallory, pki.both_cas))
    with pytest.raises(noexpp.AuthenticationError, match="TLS handshake failed"):
        mallory.connect(alpha.id, timeout=TIMEOUT)
    with pytest.raises(noexpp.AuthenticationError, match="certificate verify failed"):
        alpha.connect(mallory.id, timeout=TIMEOUT)
    assert [i.id for i in alpha.nodes()] == [alpha.id]


def test_a_wrong_cookie_is_still_refused_inside_tls(
        make_cluster_node: Callable[..., noexpp.Node], pki: Pki) -> None:
    a = make_cluster_node("alpha", tls=pki.config(pki.alpha))
    b = make_cluster_node("beta", tls=pki.config(pki.beta), cookie="not-the-cluster-cookie")
    with pytest.raises(noexpp.AuthenticationError, match="cookie"):
        b.connect(a.id, timeout=TIMEOUT)


# --- configuration errors ---------------------------------------------------------------

def test_tls_config_takes_str_or_pathlike_and_is_frozen(pki: Pki) -> None:
    by_path = noexpp.TlsConfig(pki.alpha[0], pki.alpha[1], pki.ca)
    by_str = noexpp.TlsConfig(str(pki.alpha[0]), str(pki.alpha[1]), str(pki.ca))
    assert by_path == by_str and by_path.certfile == str(pki.alpha[0])
    assert os.path.isabs(noexpp.TlsConfig(os.path.relpath(pki.ca), pki.alpha[1], pki.ca).certfile)
    with pytest.raises(dataclasses.FrozenInstanceError):
        by_path.certfile = "other"  # type: ignore[misc]
    assert issubclass(noexpp.TlsConfigError, noexpp.NoexppError)
    assert issubclass(noexpp.TlsConfigError, ValueError)


@pytest.mark.parametrize(("index", "bad", "match"), [
    (0, 123, "certfile must be a str or os.PathLike path, not int"),
    (1, b"key.pem", "keyfile must be a str or os.PathLike path, not bytes"),
    (2, None, "cafile must be a str or os.PathLike path, not NoneType"),
])
def test_tls_config_refuses_other_types(pki: Pki, index: int, bad: Any, match: str) -> None:
    files: list[Any] = [pki.alpha[0], pki.alpha[1], pki.ca]
    files[index] = bad
    with pytest.raises(TypeError, match=match):
        noexpp.TlsConfig(*files)


def test_tls_config_refuses_missing_empty_and_folder_paths(pki: Pki, tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    shown = re.escape(str(missing))
    with pytest.raises(noexpp.TlsConfigError, match=rf"certfile '{shown}' does not exist"):
        noexpp.TlsConfig(missing, pki.alpha[1], pki.ca)
    with pytest.raises(noexpp.TlsConfigError, match="keyfile is empty"):
        noexpp.TlsConfig(pki.alpha[0], "", pki.ca)
    with pytest.raises(noexpp.TlsConfigError, match=r"cafile .* is a directory"):
        noexpp.TlsConfig(pki.alpha[0], pki.alpha[1], tmp_path)


@pytest.mark.parametrize(("which", "match"), [
    ("garbage cert", r"certfile '.*garbage\.pem' holds no usable PEM certificate"),
    ("garbage key", r"keyfile '.*garbage\.pem' holds no PEM private key"),
    ("garbage ca", r"cafile '.*garbage\.pem' holds no usable PEM certificate"),
    ("key of another certificate", r"keyfile '.*beta\.key' does not match the certificate"),
    ("encrypted key", r"keyfile '.*encrypted\.key' is encrypted with a passphrase"),
    ("certificate of another CA", r"certfile '.*mallory\.pem' does not verify against cafile"),
])
def test_bad_tls_files_raise_tls_config_error_at_node_creation(pki: Pki, which: str,
                                                               match: str) -> None:
    cert, key, ca = pki.alpha[0], pki.alpha[1], pki.ca
    if which == "garbage cert":
        cert = pki.garbage
    elif which == "garbage key":
        key = pki.garbage
    elif which == "garbage ca":
        ca = pki.garbage
    elif which == "key of another certificate":
        key = pki.beta[1]
    elif which == "encrypted key":
        key = pki.encrypted_key
    else:
        cert, key = pki.mallory
    with pytest.raises(noexpp.TlsConfigError, match=match):
        noexpp.Node("broken", tls=noexpp.TlsConfig(cert, key, ca))


def test_tls_argument_errors(pki: Pki) -> None:
    with pytest.raises(TypeError, match=r"tls must be a noexpp\.TlsConfig or None, not dict"):
        noexpp.Node("broken", tls={"certfile": "x"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tls needs a listening node"):
        noexpp.Node("local", listen=None, tls=pki.config(pki.alpha))
    with pytest.raises(TypeError, match=r"tls must be a noexpp\.TlsConfig"):
        noexpp.LocalCluster(1, tls="alpha.pem")  # type: ignore[arg-type]


# --- the command line -------------------------------------------------------------------

RUNNING = re.compile(r"^node (\S+@\S+:\d+) running$")
CHILD_ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(
    p for p in (os.path.dirname(os.path.abspath(__file__)), os.environ.get("PYTHONPATH")) if p))


def _tls_flags(pki: Pki, node: tuple[Path, Path]) -> list[str]:
    return ["--tls-cert", str(node[0]), "--tls-key", str(node[1]), "--tls-ca", str(pki.ca)]


@pytest.fixture
def cookie_file(tmp_path: Path) -> str:
    path = tmp_path / "cookie"
    path.write_text("tls-cli-cookie")
    path.chmod(0o600)
    return str(path)


@pytest.fixture
def node_process(tmp_path: Path) -> Iterator[Callable[..., tuple[subprocess.Popen[str], str]]]:
    """``node_process(*args)`` -> (the ``python -m noexpp node`` process, its
    id once it printed it); killed and reaped at teardown."""
    started: list[subprocess.Popen[str]] = []
    logs: list[IO[bytes]] = []

    def start(*args: str) -> tuple[subprocess.Popen[str], str]:
        stderr = open(tmp_path / f"node{len(started)}.stderr", "w+b")  # noqa: SIM115
        logs.append(stderr)
        proc = subprocess.Popen([sys.executable, "-m", "noexpp", "node", *args],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr,
                                text=True, env=CHILD_ENV)
        started.append(proc)
        assert proc.stdout is not None
        lines: list[str] = []
        got = threading.Event()

        def read_first() -> None:
            assert proc.stdout is not None
            lines.append(proc.stdout.readline().rstrip("\n"))
            got.set()
        threading.Thread(target=read_first, daemon=True).start()
        assert got.wait(20.0), "the node process printed nothing within 20 s"
        stderr.seek(0)
        match = RUNNING.match(lines[0])
        assert match, f"{lines}: {stderr.read().decode(errors='replace')}"
        return proc, match.group(1)

    try:
        yield start
    finally:
        for proc in started:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            assert proc.stdout is not None
            proc.stdout.close()
        for log in logs:
            log.close()


def test_cli_node_with_tls_flags_joins_tls_nodes_only(
        node_process: Callable[..., tuple[subprocess.Popen[str], str]], cookie_file: str,
        pki: Pki, make_cluster_node: Callable[..., noexpp.Node]) -> None:
    proc, node_id = node_process("--name", "cli-tls", "--cookie-file", cookie_file,
                                 "--import", "cluster_test_behaviors", *_tls_flags(pki, pki.beta))
    with open(cookie_file) as f:
        cookie = f.read()
    local = make_cluster_node("local", cookie=cookie, tls=pki.config(pki.alpha))
    local.connect(node_id, timeout=TIMEOUT)
    ref = local.spawn_remote(node_id, PROBE, 2)
    assert ref.call("get", timeout=TIMEOUT) == 2
    plain = make_cluster_node("plain", cookie=cookie)
    with pytest.raises(noexpp.AuthenticationError, match="requires TLS"):
        plain.connect(node_id, timeout=TIMEOUT)
    listing = subprocess.run([sys.executable, "-m", "noexpp", "nodes", "--seed", node_id,
                              "--cookie-file", cookie_file, *_tls_flags(pki, pki.alpha)],
                             capture_output=True, text=True, timeout=60, check=False, env=CHILD_ENV)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.split()[0] == node_id
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20.0) == 0


@pytest.mark.parametrize("given", [["--tls-cert"], ["--tls-cert", "--tls-key"], ["--tls-ca"]])
def test_cli_tls_flags_go_together(given: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["node", "--name", "x"]
    for flag in given:
        argv += [flag, "some.pem"]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--tls-cert, --tls-key and --tls-ca go together" in err, err


def test_cli_node_with_a_missing_tls_file_exits_1_naming_it(
        cookie_file: str, pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.key"
    code = main(["node", "--name", "x", "--cookie-file", cookie_file, "--tls-cert",
                 str(pki.alpha[0]), "--tls-key", str(missing), "--tls-ca", str(pki.ca)])
    assert code == 1
    err = capsys.readouterr().err
    assert str(missing) in err and "does not exist" in err, err
