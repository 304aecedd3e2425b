"""The C++ SDK inside the installed package (issue 14's first step): a
user's own CMake project finds noexpp with ``find_package(noexpp CONFIG)``
through ``noexpp.get_cmake_dir()`` (``python -m noexpp --cmake-dir``), builds
a plain C++ program and a pybind11 module against the engine library the
wheel ships, and their C++ behaviors run: the program's on its own node,
the module's (registered when Python imports it) spawned by name from
Python, next to Python behaviors.

The project is tests_py/sdk_project, configured and built once per test
session into a temporary directory (cmake and ninja, as set-up installs).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import noexpp
import pybind11
import pytest
from helpers import TIMEOUT, close_cluster

PROJECT = Path(__file__).resolve().parent / "sdk_project"
#: Configure and build, generously bounded for a loaded machine.
BUILD_TIMEOUT = 600


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False,
                          timeout=BUILD_TIMEOUT, **kw)  # type: ignore[call-overload]


def _configure(build: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return _run(["cmake", "-S", str(PROJECT), "-B", str(build), "-G", "Ninja",
                 f"-Dnoexpp_DIR={noexpp.get_cmake_dir()}",
                 f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
                 f"-DPython_EXECUTABLE={sys.executable}", *extra])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The user project, configured and built; its build directory."""
    build = tmp_path_factory.mktemp("sdk_build")
    configured = _configure(build)
    assert configured.returncode == 0, configured.stdout + configured.stderr
    made = _run(["cmake", "--build", str(build)])
    assert made.returncode == 0, made.stdout + made.stderr
    yield build
    shutil.rmtree(build, ignore_errors=True)


def test_the_package_holds_the_headers_and_the_cmake_package() -> None:
    include = Path(noexpp.get_include())
    assert (include / "noexpp" / "noexpp.hpp").is_file()
    assert (include / "noexpp" / "dist" / "distributed_supervisor.hpp").is_file()
    cmake_dir = Path(noexpp.get_cmake_dir())
    assert (cmake_dir / "noexppConfig.cmake").is_file()
    assert (cmake_dir / "noexppConfigVersion.cmake").is_file()


@pytest.mark.parametrize(("flag", "expected"), [("--include", noexpp.get_include),
                                                ("--cmake-dir", noexpp.get_cmake_dir)])
def test_python_m_noexpp_prints_the_sdk_directories(flag: str, expected: object) -> None:
    out = _run([sys.executable, "-m", "noexpp", flag])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected()  # type: ignore[operator]


def test_python_m_noexpp_without_a_command_or_flag_is_a_usage_error() -> None:
    out = _run([sys.executable, "-m", "noexpp"])
    assert out.returncode == 2
    assert "--cmake-dir" in out.stderr


@pytest.mark.slow
def test_a_plain_cpp_program_builds_against_the_installed_engine_and_runs(built: Path) -> None:
    out = _run([str(built / "sdk_program")])
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"headers {noexpp.__version__}, engine {noexpp.__version__}" in out.stdout
    assert "tripler answered 42" in out.stdout


class Echo(noexpp.GenServer):
    """Answers a call with ("echo", request, this node's id)."""

    def handle_call(self, request: object, caller: object) -> object:
        return ("echo", request, self.node.id)


@pytest.mark.slow
def test_a_plain_cpp_program_joins_a_cluster_of_python_nodes_and_spawns_there(
        built: Path) -> None:
    noexpp.register_behavior("sdk_py.echo", Echo)
    cookie = "sdk-" + os.urandom(8).hex()
    with noexpp.Node("pyside", cookie=cookie) as node:
        ups: list[str] = []
        node.on("node_up", lambda e: ups.append(e["node"]))
        out = _run([str(built / "sdk_program"), cookie, node.id])
        assert out.returncode == 0, out.stdout + out.stderr
        assert "tripler answered 42" in out.stdout
        assert "python node answered ('echo', ('from', 'sdk_cpp@" in out.stdout, out.stdout
        assert f"'{node.id}')" in out.stdout
        assert any(up.startswith("sdk_cpp@") for up in ups)


@pytest.mark.slow
def test_a_users_pybind11_module_registers_a_cpp_behavior_that_python_spawns(built: Path) -> None:
    script = (
        "import noexpp, sdk_user_module\n"
        "assert sdk_user_module.engine_version == noexpp.__version__\n"
        "assert noexpp.behaviors()['sdk_user.tripler'] == 'cpp', noexpp.behaviors()\n"
        "with noexpp.Node('sdk') as node:\n"
        "    ref = node.spawn('sdk_user.tripler')\n"
        "    sup = node.start_supervisor([noexpp.ChildSpec('t', 'sdk_user.tripler')])\n"
        "    child = sup.which_children()[0].ref\n"
        "    print('spawned', ref.call(5), 'supervised', child.call(7), child.call('where'))\n"
        "    print('times ten', node.spawn('sdk_user.times_ten').call(4))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(built))
    out = _run([sys.executable, "-c", script], env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "spawned 15 supervised 21 sdk@" in out.stdout
    assert "times ten 40" in out.stdout               # registered with constructor args


@pytest.mark.slow
def test_a_version_the_package_does_not_provide_is_refused_by_find_package(
        tmp_path: Path) -> None:
    project = tmp_path / "wants_9"
    project.mkdir()
    (project / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.22)\nproject(wants LANGUAGES CXX)\n"
        "find_package(noexpp 9.0 CONFIG REQUIRED)\n")
    out = _run(["cmake", "-S", str(project), "-B", str(tmp_path / "b"), "-G", "Ninja",
                f"-Dnoexpp_DIR={noexpp.get_cmake_dir()}"])
    assert out.returncode != 0
    assert "noexpp" in out.stderr and "9.0" in out.stderr


@pytest.mark.slow
def test_a_program_built_against_other_headers_is_refused_naming_both_versions(
        tmp_path: Path) -> None:
    other = tmp_path / "include"
    shutil.copytree(noexpp.get_include(), other)
    version = other / "noexpp" / "version.hpp"
    text = version.read_text()
    assert f'kHeaderVersion = "{noexpp.__version__}"' in text
    version.write_text(text.replace(f'kHeaderVersion = "{noexpp.__version__}"',
                                    'kHeaderVersion = "0.99.0"'))
    build = tmp_path / "build"
    configured = _configure(build, "-DSDK_PROGRAM_ONLY=ON", f"-DSDK_INCLUDE_FIRST={other}")
    assert configured.returncode == 0, configured.stdout + configured.stderr
    made = _run(["cmake", "--build", str(build)])
    assert made.returncode == 0, made.stdout + made.stderr
    out = _run([str(build / "sdk_program")])
    assert out.returncode == 1, out.stdout + out.stderr
    assert (f"built against noexpp 0.99.0 headers, but the engine loaded is noexpp "
            f"{noexpp.__version__}") in out.stdout


@pytest.mark.slow
def test_node_processes_import_the_native_module_and_run_its_behavior_remotely_and_supervised(
        built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(built))        # LocalCluster hands sys.path to its nodes
    cluster = noexpp.LocalCluster(2, mode="processes", modules=["sdk_user_module"])
    try:
        controller = cluster.controller
        assert controller is not None
        first, second = cluster.ids
        ref = controller.spawn_remote(first, "sdk_user.tripler")
        assert ref.call(4, timeout=TIMEOUT) == 12
        assert ref.call("where", timeout=TIMEOUT) == first
        child = noexpp.DistributedChildSpec("t", "sdk_user.tripler",
                                            node_selector={"node": second})
        with controller.start_distributed_supervisor([child]) as dsup:
            placed = dsup.child("t")
            assert placed.node_id == second and placed.behavior == "sdk_user.tripler"
            assert placed.ref is not None and placed.ref.call("where", timeout=TIMEOUT) == second
    finally:
        close_cluster(cluster)
