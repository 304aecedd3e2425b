"""Names: the local registry (whereis, release on death, duplicates), the
process-wide behavior registry (register_behavior, @behavior), Ref identity,
node ids and the process listing."""

from __future__ import annotations

import re
from typing import Any

import pytest

import noexpp


class Named(noexpp.GenServer):
    def init(self, tag: Any = None) -> None:
        self.tag = tag

    def handle_call(self, request: Any, caller: Any) -> Any:
        return self.tag

    def handle_cast(self, request: Any) -> None:
        raise RuntimeError("crash on request")


def process_count(node: noexpp.Node) -> int:
    """Node.processes() is a count or a collection of per-process info."""
    procs = node.processes()
    return procs if isinstance(procs, int) else len(procs)


# --- local registry ----------------------------------------------------------

def test_whereis_finds_a_registered_process(node: noexpp.Node, unique: Any) -> None:
    name = unique("svc")
    ref = node.spawn(Named, "tagged", name=name)
    found = node.whereis(name)
    assert found == ref
    assert found.call("tag") == "tagged"


def test_whereis_unknown_name_is_none(node: noexpp.Node) -> None:
    assert node.whereis("nobody-has-this-name") is None


def test_name_released_on_stop(node: noexpp.Node, unique: Any) -> None:
    name = unique("svc")
    old = node.spawn(Named, "old", name=name)
    old.stop()
    assert node.whereis(name) is None
    new = node.spawn(Named, "new", name=name)
    assert new != old
    assert node.whereis(name) == new
    assert node.whereis(name).call("tag") == "new"


def test_name_released_on_crash(node: noexpp.Node, unique: Any, inbox: Any, wait_for: Any) -> None:
    name = unique("svc")
    old = node.spawn(Named, "old", name=name)
    node.monitor(old, lambda r, reason: inbox.put(reason))
    old.cast("crash")
    assert inbox.get().kind == "error"
    wait_for(lambda: node.whereis(name) is None, what="the name to be released")
    new = node.spawn(Named, "new", name=name)
    assert node.whereis(name) == new


def test_duplicate_name_raises(node: noexpp.Node, unique: Any, still_serves: Any) -> None:
    name = unique("svc")
    first = node.spawn(Named, "first", name=name)
    count = process_count(node)
    with pytest.raises(noexpp.DuplicateNameError) as info:
        node.spawn(Named, "second", name=name)
    assert isinstance(info.value, noexpp.NoexppError)
    assert name in str(info.value)
    assert node.whereis(name) == first
    assert first.call("tag") == "first"
    assert process_count(node) == count  # the loser did not linger
    still_serves(node)


def test_failed_init_does_not_keep_the_name(node: noexpp.Node, unique: Any) -> None:
    class Fails(noexpp.GenServer):
        def init(self) -> None:
            raise RuntimeError("init failed")

    name = unique("svc")
    with pytest.raises(Exception):  # noqa: B017 - the type is tested in test_gen_server
        node.spawn(Fails, name=name)
    assert node.whereis(name) is None
    assert node.spawn(Named, "ok", name=name).call("x") == "ok"


def test_unnamed_processes_are_not_registered(node: noexpp.Node) -> None:
    node.spawn(Named)
    assert node.whereis("") is None


# --- Ref identity --------------------------------------------------------------

def test_ref_equality_and_hash(node: noexpp.Node, unique: Any) -> None:
    name = unique("svc")
    a = node.spawn(Named, name=name)
    b = node.spawn(Named)
    again = node.whereis(name)
    assert a == again and hash(a) == hash(again)
    assert a != b
    assert not (a == b)
    assert len({a, b, again}) == 2
    assert {a: "value"}[again] == "value"
    assert a != "not a ref" and a != None  # noqa: E711


def test_ref_from_a_reply_equals_the_original(node: noexpp.Node) -> None:
    class Me(noexpp.GenServer):
        def handle_call(self, request: Any, caller: Any) -> Any:
            return self.ref

    ref = node.spawn(Me)
    me = ref.call("me")
    assert me == ref and hash(me) == hash(ref)


def test_ref_node_id_and_repr(node: noexpp.Node) -> None:
    ref = node.spawn(Named)
    assert ref.node_id == node.id
    text = repr(ref)
    assert "Ref" in text
    assert " at 0x" not in text  # readable, not the default object repr
    other = node.spawn(Named)
    assert repr(other) != text


def test_refs_of_successive_processes_never_repeat(node: noexpp.Node) -> None:
    seen = set()
    for _ in range(20):
        ref = node.spawn(Named)
        assert ref not in seen
        seen.add(ref)
        ref.stop()


# --- node id and processes -----------------------------------------------------

def test_node_id_format() -> None:
    with noexpp.Node("alpha") as node:
        assert re.fullmatch(r"alpha@127\.0\.0\.1:\d+", node.id), node.id


def test_processes_counts_local_processes(node: noexpp.Node, unique: Any) -> None:
    base = process_count(node)
    refs = [node.spawn(Named) for _ in range(3)]
    refs.append(node.spawn(Named, name=unique("listed")))
    assert process_count(node) == base + 4
    refs[0].stop()
    refs[1].stop()
    assert process_count(node) == base + 2


def test_processes_info_mentions_registered_name(node: noexpp.Node, unique: Any) -> None:
    name = unique("listed")
    node.spawn(Named, name=name)
    procs = node.processes()
    if isinstance(procs, int):
        pytest.fail("processes() returned only a count; expected per-process info")
    assert name in repr(procs)


# --- behavior registry ---------------------------------------------------------

def test_register_behavior_then_spawn_by_name(node: noexpp.Node, unique: Any) -> None:
    behavior_name = unique("named")
    noexpp.register_behavior(behavior_name, Named)
    ref = node.spawn(behavior_name, "by-name")
    assert ref.call("tag") == "by-name"


def test_behavior_decorator_registers_and_returns_the_class(node: noexpp.Node, unique: Any) -> None:
    behavior_name = unique("decorated")

    @noexpp.behavior(behavior_name)
    class Decorated(noexpp.GenServer):
        def init(self, x: int = 0) -> None:
            self.x = x

        def handle_call(self, request: Any, caller: Any) -> Any:
            return ("decorated", self.x)

    assert isinstance(Decorated, type) and issubclass(Decorated, noexpp.GenServer)
    assert node.spawn(behavior_name, 7).call("x") == ("decorated", 7)
    assert node.spawn(Decorated, 8).call("x") == ("decorated", 8)


def test_spawn_by_name_with_registered_name(node: noexpp.Node, unique: Any) -> None:
    behavior_name, name = unique("named"), unique("proc")
    noexpp.register_behavior(behavior_name, Named)
    ref = node.spawn(behavior_name, "x", name=name)
    assert node.whereis(name) == ref


def test_unknown_behavior_raises(node: noexpp.Node, still_serves: Any) -> None:
    with pytest.raises(noexpp.BehaviorNotFoundError) as info:
        node.spawn("no-such-behavior-registered")
    assert isinstance(info.value, noexpp.NoexppError)
    assert "no-such-behavior-registered" in str(info.value)
    still_serves(node)
