"""The behavior registry (DESIGN §6): one per OS process, shared by every
node in it and by C++ and Python. ``noexpp.register_behavior(name, cls)``,
``@noexpp.behavior(name)``, ``noexpp.behaviors()``; a taken name with
another implementation raises DuplicateNameError; a node process started
with ``python -m noexpp node --import mod`` has the behaviors ``mod``
registers at import. (The C++ side, ``noexpp::register_behavior<T>``, is in
tests_cpp/dist/remote_spawn_test.cpp.)"""
from __future__ import annotations

import os
import threading
from typing import Any

import dist_test_behaviors as dtb
import noexpp
import pytest
from cluster_support import wait_members_up
from helpers import TIMEOUT, Collector

pytest_plugins = ["cluster_fixtures"]


class Counter(noexpp.GenServer):
    def init(self, start: int = 0) -> None:
        self.value = start

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "who":
            return "Counter"
        return self.value


class OtherCounter(noexpp.GenServer):
    def handle_call(self, request: Any, caller: Any) -> Any:
        return "OtherCounter"


def test_behaviors_lists_every_name_with_its_language(unique: Any) -> None:
    name = unique("breg.counter")
    assert name not in noexpp.behaviors()
    noexpp.register_behavior(name, Counter)
    listed = noexpp.behaviors()
    assert isinstance(listed, dict)
    assert listed[name] == "python"
    assert listed["noexpp.probe"] == "cpp"          # registered by the C++ module at import
    for dist_name in dtb.BEHAVIORS:                   # registered by dist_test_behaviors at import
        assert listed[dist_name] == "python"
    assert set(listed.values()) <= {"python", "cpp"}
    assert list(listed) == sorted(listed)


def test_registering_the_same_class_again_is_a_no_op(unique: Any, node: noexpp.Node) -> None:
    name = unique("breg.same")
    noexpp.register_behavior(name, Counter)
    noexpp.register_behavior(name, Counter)
    assert noexpp.behaviors()[name] == "python"
    assert node.spawn(name).call("who", timeout=TIMEOUT) == "Counter"


def test_another_class_under_a_taken_name_raises_duplicate_name_and_changes_nothing(
        unique: Any, node: noexpp.Node) -> None:
    name = unique("breg.taken")
    noexpp.register_behavior(name, Counter)
    with pytest.raises(noexpp.DuplicateNameError) as info:
        noexpp.register_behavior(name, OtherCounter)
    assert name in str(info.value)
    # the first registration stands
    assert node.spawn(name).call("who", timeout=TIMEOUT) == "Counter"


def test_a_python_class_cannot_take_a_cpp_behavior_name(node: noexpp.Node) -> None:
    # One registry for both languages: "noexpp.probe" is the C++ Probe.
    with pytest.raises(noexpp.DuplicateNameError) as info:
        noexpp.register_behavior("noexpp.probe", Counter)
    assert "noexpp.probe" in str(info.value)
    assert noexpp.behaviors()["noexpp.probe"] == "cpp"
    assert node.spawn("noexpp.probe", 4).call("get", timeout=TIMEOUT) == 4


def test_behavior_decorator_registers_and_returns_the_class(unique: Any, node: noexpp.Node) -> None:
    name = unique("breg.decorated")

    @noexpp.behavior(name)
    class Decorated(noexpp.GenServer):
        def handle_call(self, request: Any, caller: Any) -> Any:
            return ("decorated", request)

    assert isinstance(Decorated, type) and issubclass(Decorated, noexpp.GenServer)
    assert Decorated.__name__ == "Decorated"
    assert noexpp.behaviors()[name] == "python"
    assert node.spawn(name).call(1, timeout=TIMEOUT) == ("decorated", 1)

    # the decorator on a taken name fails at the class definition
    with pytest.raises(noexpp.DuplicateNameError):
        @noexpp.behavior(name)
        class Clash(noexpp.GenServer):
            pass
    assert node.spawn(name).call(2, timeout=TIMEOUT) == ("decorated", 2)


@pytest.mark.parametrize("name, cls, error", [
    ("", Counter, TypeError),
    (None, Counter, TypeError),
    (42, Counter, TypeError),
    ("breg.bad-class", object, TypeError),
    ("breg.bad-instance", Counter(), TypeError),
    ("breg.bad-function", lambda: None, TypeError),
])
def test_invalid_registrations_raise_type_error(name: Any, cls: Any, error: type[Exception]) -> None:
    before = noexpp.behaviors()
    with pytest.raises(error):
        noexpp.register_behavior(name, cls)
    assert noexpp.behaviors() == before


def test_spawn_of_an_unregistered_name_raises_behavior_not_found(unique: Any, node: noexpp.Node) -> None:
    name = unique("breg.missing")
    with pytest.raises(noexpp.BehaviorNotFoundError) as info:
        node.spawn(name)
    assert name in str(info.value)
    assert node.process_count() == 0


def test_the_registry_is_shared_by_every_node_of_the_process(
        unique: Any, make_cluster_node: Any) -> None:
    # Nodes started before the registration find it: lookup is by name, at spawn time.
    local_only = noexpp.Node("breg-local", listen=None)
    try:
        a = make_cluster_node("alpha")
        b = make_cluster_node("beta", seeds=[a.id])
        wait_members_up([a, b])
        name = unique("breg.shared")
        noexpp.register_behavior(name, Counter)
        assert local_only.spawn(name, 1).call("get", timeout=TIMEOUT) == 1
        assert a.spawn(name, 2).call("get", timeout=TIMEOUT) == 2
        # remote spawn between two nodes of this process: beta's registry is this one
        remote = a.spawn_remote(b.id, name, 3)
        assert remote.node_id == b.id
        assert remote.call("get", timeout=TIMEOUT) == 3
        assert b.processes()[0].ref == remote
    finally:
        local_only.stop()


def test_concurrent_registrations_of_one_name_exactly_one_class_wins(unique: Any, node: noexpp.Node) -> None:
    name = unique("breg.race")
    classes = [type(f"Racer{i}", (noexpp.GenServer,),
                    {"handle_call": lambda self, request, caller, i=i: i}) for i in range(8)]
    barrier = threading.Barrier(len(classes))
    results: list[Any] = [None] * len(classes)

    def register(i: int) -> None:
        barrier.wait(TIMEOUT)
        try:
            noexpp.register_behavior(name, classes[i])
            results[i] = "ok"
        except noexpp.DuplicateNameError:
            results[i] = "duplicate"

    threads = [threading.Thread(target=register, args=(i,)) for i in range(len(classes))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert results.count("ok") == 1, results
    assert results.count("duplicate") == len(classes) - 1, results
    winner = results.index("ok")
    assert node.spawn(name).call("which", timeout=TIMEOUT) == winner


def test_node_process_imports_modules_whose_behaviors_register_themselves(
        process_cluster: Any, unique: Any) -> None:
    # `python -m noexpp node --import dist_test_behaviors` (LocalCluster modules=[...])
    only_here = unique("breg.only-in-the-test-interpreter")
    noexpp.register_behavior(only_here, Counter)
    cluster = process_cluster(1, modules=["dist_test_behaviors"])
    (n1,) = cluster.nodes
    introspect = n1.spawn(dtb.INTROSPECT)
    assert introspect.node_id == n1.id
    node_pid = introspect.call("pid", timeout=TIMEOUT)
    assert node_pid == n1.os_pid != os.getpid()      # it runs in the node process
    there = introspect.call("behaviors", timeout=TIMEOUT)
    for name in dtb.BEHAVIORS:
        assert there[name] == "python", (name, there)
    assert there["noexpp.probe"] == "cpp"
    # one registry per OS process: what this interpreter registered is not there
    assert only_here not in there
    with pytest.raises(noexpp.BehaviorNotFoundError) as info:
        n1.spawn(only_here)
    assert only_here in str(info.value) and n1.id in str(info.value)
    # and both kinds registered there spawn there
    collector = Collector(cluster.controller)
    py = n1.spawn(dtb.ARGS, 5, collector.ref)
    assert collector.get() == ("up", py)
    assert py.call("pid", timeout=TIMEOUT) == n1.os_pid
    assert n1.spawn("noexpp.probe", 6).call("get", timeout=TIMEOUT) == 6


def test_node_process_imports_a_dotted_module_of_a_package(
        process_cluster: Any, unique: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # `--import pkg.mod`: a package module whose behavior registers itself
    # with the decorator at import (LocalCluster passes sys.path to the node).
    package = unique("breg_pkg").replace("-", "_")
    behavior_name = f"{package}.greeter"
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / package / "behaviors.py").write_text(
        "import noexpp\n\n"
        f"@noexpp.behavior({behavior_name!r})\n"
        "class Greeter(noexpp.GenServer):\n"
        "    def init(self, greeting='hello'):\n"
        "        self.greeting = greeting\n"
        "    def handle_call(self, request, caller):\n"
        "        return f'{self.greeting} {request}'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cluster = process_cluster(1, modules=["dist_test_behaviors", f"{package}.behaviors"])
    (n1,) = cluster.nodes
    assert behavior_name not in noexpp.behaviors()          # only imported there
    there = n1.spawn(dtb.INTROSPECT).call("behaviors", timeout=TIMEOUT)
    assert there[behavior_name] == "python"
    greeter = n1.spawn(behavior_name, "hi")
    assert greeter.call("there", timeout=TIMEOUT) == "hi there"
