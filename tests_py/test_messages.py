"""Values in messages: what round-trips (and keeps its Python type), what is
refused at the sender with a TypeError, and copy semantics."""

from __future__ import annotations

import math
from typing import Any

import pytest

import noexpp
from helpers import TIMEOUT, Echo

ROUND_TRIP = [
    None,
    True,
    False,
    0,
    1,
    -1,
    2**63 - 1,
    -(2**63),
    1.5,
    -0.25,
    1e300,
    float("inf"),
    float("-inf"),
    "",
    "hello",
    "h\u00e9llo \u2713 \U0001f600",
    "nul\x00inside",
    b"",
    b"\x00\x01\xfe\xff",
    [],
    [1, "a", None],
    (),
    (1,),
    (1, "two", 3.0),
    {},
    {"a": 1, "b": [1, 2]},
    {1: "int key", 2: None},
    [(1, 2), [3, (4, [5])]],
    ((), [], {}),
    {"nested": {"tuple": (1, (2, 3)), "list": [b"x", ("y",)]}},
    list(range(1000)),
    b"\xab" * (1 << 20),
]


def _ids(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def assert_same(got: Any, want: Any) -> None:
    """Equal, and of the same Python type all the way down (tuples stay
    tuples, lists stay lists, bools stay bools)."""
    assert type(got) is type(want), f"{got!r} is {type(got).__name__}, want {type(want).__name__}"
    if isinstance(want, (list, tuple)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert_same(g, w)
    elif isinstance(want, dict):
        assert set(got) == set(want)
        for key in want:
            assert_same(got[key], want[key])
    else:
        assert got == want


class Recorder(noexpp.GenServer):
    """Keeps every cast and info message; a call returns them."""

    def init(self) -> None:
        self.seen: list[Any] = []

    def handle_cast(self, request: Any) -> None:
        self.seen.append(("cast", request))

    def handle_info(self, message: Any) -> None:
        self.seen.append(("info", message))

    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "seen":
            return self.seen
        return None


@pytest.mark.parametrize("value", ROUND_TRIP, ids=_ids)
def test_call_round_trip_keeps_value_and_type(node: noexpp.Node, value: Any) -> None:
    ref = node.spawn(Echo)
    assert_same(ref.call(value, timeout=TIMEOUT), value)


@pytest.mark.parametrize("value", ROUND_TRIP, ids=_ids)
def test_cast_and_send_deliver_value_and_type(node: noexpp.Node, value: Any) -> None:
    ref = node.spawn(Recorder)
    ref.cast(value)
    ref.send(value)
    seen = ref.call("seen", timeout=TIMEOUT)
    assert len(seen) == 2
    assert seen[0][0] == "cast"
    assert_same(seen[0][1], value)
    assert seen[1][0] == "info"
    assert_same(seen[1][1], value)


def test_spawn_args_round_trip(node: noexpp.Node) -> None:
    class Keep(noexpp.GenServer):
        def init(self, *args: Any) -> None:
            self.args = args

        def handle_call(self, request: Any, caller: Any) -> Any:
            return list(self.args)

    args = [(1, 2), [3], {"k": (4,)}, b"\x00", None, True]
    got = node.spawn(Keep, *args).call("args")
    assert_same(got, args)


def test_nan_round_trips(node: noexpp.Node) -> None:
    got = node.spawn(Echo).call(float("nan"))
    assert isinstance(got, float) and math.isnan(got)


def test_ref_in_a_message_arrives_usable(node: noexpp.Node) -> None:
    class Forward(noexpp.GenServer):
        def handle_call(self, request: Any, caller: Any) -> Any:
            target, payload = request
            return ("via", target.call(payload, timeout=TIMEOUT))

    echo = node.spawn(Echo)
    fwd = node.spawn(Forward)
    assert fwd.call((echo, [1, 2])) == ("via", [1, 2])
    # A Ref also survives as a reply, inside containers.
    got = node.spawn(Echo).call({"ref": echo, "refs": [echo, (echo,)]})
    assert got["ref"] == echo
    assert got["refs"][0] == echo and got["refs"][1][0] == echo
    assert got["ref"].call("still works") == "still works"


def test_message_is_copied_not_shared(node: noexpp.Node) -> None:
    """DESIGN 3: local delivery may skip encoding, but a mutation after the send
    must not be seen by the receiver, and vice versa for replies."""

    class Store(noexpp.GenServer):
        def init(self) -> None:
            self.items: list[Any] = []

        def handle_cast(self, request: Any) -> None:
            self.items = request

        def handle_call(self, request: Any, caller: Any) -> Any:
            return self.items

    ref = node.spawn(Store)
    sent = [1, [2], {"k": [3]}]
    ref.cast(sent)
    first = ref.call("get")
    sent.append(99)
    sent[1].append(98)
    sent[2]["k"].append(97)
    assert ref.call("get") == [1, [2], {"k": [3]}]
    first.append("mutated reply")
    first[1].append("mutated nested")
    assert ref.call("get") == [1, [2], {"k": [3]}]


# --- refused at the sender -----------------------------------------------------

class Unencodable:
    pass


BAD = [
    pytest.param(object(), "object", id="object"),
    pytest.param({1, 2}, "set", id="set"),
    pytest.param(frozenset({1}), "frozenset", id="frozenset"),
    pytest.param(2**63, "int", id="int-too-big"),
    pytest.param(-(2**63) - 1, "int", id="int-too-small"),
    pytest.param(Unencodable(), "Unencodable", id="user-class"),
    pytest.param(lambda: None, "function", id="function"),
    pytest.param([1, {"deep": (2, {3})}], "set", id="nested-set"),
    pytest.param({"k": object()}, "object", id="object-in-dict"),
]


@pytest.mark.parametrize(("value", "type_name"), BAD)
@pytest.mark.parametrize("how", ["call", "cast", "send"])
def test_unencodable_message_raises_type_error_at_sender(
        node: noexpp.Node, value: Any, type_name: str, how: str) -> None:
    ref = node.spawn(Recorder)
    with pytest.raises(TypeError) as info:
        getattr(ref, how)(value)
    assert type_name in str(info.value)
    # Nothing reached the process, which (like the node) keeps working.
    ref.cast("after")
    assert ref.call("seen", timeout=TIMEOUT) == [("cast", "after")]
    assert ref.alive


def test_unencodable_dict_key_raises_type_error(node: noexpp.Node) -> None:
    ref = node.spawn(Echo)
    with pytest.raises(TypeError) as info:
        ref.call({object(): 1})
    assert "object" in str(info.value)
    assert ref.call("ok") == "ok"


def test_unencodable_spawn_arg_raises_type_error(node: noexpp.Node, still_serves: Any) -> None:
    before = node.whereis("never-started")
    with pytest.raises(TypeError) as info:
        node.spawn(Echo, {1, 2}, name="never-started")
    assert "set" in str(info.value)
    assert before is None and node.whereis("never-started") is None
    still_serves(node)


def test_unencodable_message_inside_a_handler_raises_there(node: noexpp.Node) -> None:
    """A behavior that sends something unencodable gets the TypeError itself
    (it may catch it); the target is untouched."""

    class Sender(noexpp.GenServer):
        def handle_call(self, request: Any, caller: Any) -> Any:
            try:
                request.cast(object())
            except TypeError as exc:
                return ("refused", "object" in str(exc))
            return "sent"

    rec = node.spawn(Recorder)
    assert node.spawn(Sender).call(rec) == ("refused", True)
    assert rec.call("seen") == []
