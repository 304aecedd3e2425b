"""Bad arguments to supervision: TypeError / ValueError naming what was
wrong, raised before anything starts, and the node keeps running."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import noexpp


class Worker(noexpp.GenServer):
    def handle_call(self, request: Any, caller: Any) -> Any:
        return request


@pytest.fixture
def unharmed(node: noexpp.Node, still_serves: Any) -> Iterator[None]:
    """After the test: no process was left behind and the node still serves."""
    before = node.process_count()
    yield
    assert node.process_count() == before
    still_serves(node)


GOOD = noexpp.ChildSpec("w", Worker)

START_SUPERVISOR_ERRORS = [
    pytest.param({"strategy": "one_for_everyone"}, ValueError, "strategy", id="unknown_strategy"),
    pytest.param({"strategy": 1}, TypeError, "strategy", id="strategy_not_str"),
    pytest.param({"max_restarts": -1}, ValueError, "max_restarts", id="negative_max_restarts"),
    pytest.param({"max_restarts": 2.5}, TypeError, "max_restarts", id="float_max_restarts"),
    pytest.param({"max_restarts": True}, TypeError, "max_restarts", id="bool_max_restarts"),
    pytest.param({"within": 0}, ValueError, "within", id="zero_within"),
    pytest.param({"within": -1.0}, ValueError, "within", id="negative_within"),
    pytest.param({"within": float("nan")}, ValueError, "within", id="nan_within"),
    pytest.param({"within": "5s"}, TypeError, "within", id="within_not_number"),
    pytest.param({"children": GOOD}, TypeError, "children", id="children_not_list"),
    pytest.param({"children": [GOOD, "w2"]}, TypeError, "ChildSpec", id="child_not_childspec"),
    pytest.param({"children": [("w", Worker)]}, TypeError, "ChildSpec", id="child_tuple"),
    pytest.param({"backoff": {"initial": 0.1}}, TypeError, "backoff", id="backoff_not_backoff"),
    pytest.param(
        {"backoff": noexpp.Backoff(initial=-0.1)},
        ValueError,
        "Backoff.initial",
        id="backoff_negative",
    ),
    pytest.param(
        {"backoff": noexpp.Backoff(initial=2.0, max=1.0)},
        ValueError,
        "Backoff.max",
        id="backoff_max_below_initial",
    ),
    pytest.param(
        {"backoff": noexpp.Backoff(factor=0.5)}, ValueError, "Backoff.factor", id="backoff_factor"
    ),
    pytest.param(
        {"backoff": noexpp.Backoff(factor="2")},  # type: ignore[arg-type]
        ValueError,
        "Backoff.factor",
        id="backoff_factor_str",
    ),
    pytest.param(
        {"backoff": noexpp.Backoff(jitter=1.0)}, ValueError, "Backoff.jitter", id="backoff_jitter"
    ),
    pytest.param(
        {"backoff": noexpp.Backoff(jitter=-0.1)},
        ValueError,
        "Backoff.jitter",
        id="backoff_jitter_neg",
    ),
    pytest.param(
        {"backoff": noexpp.Backoff(max="1")},  # type: ignore[arg-type]
        TypeError,
        "Backoff.max",
        id="backoff_max_str",
    ),
    pytest.param(
        {"backoff": noexpp.Backoff(reset_after=-1)},
        ValueError,
        "Backoff.reset_after",
        id="backoff_reset_after",
    ),
    pytest.param({"decider": "restart"}, TypeError, "decider", id="decider_not_callable"),
    pytest.param(
        {"auto_shutdown": "sometimes"}, ValueError, "auto_shutdown", id="unknown_auto_shutdown"
    ),
    pytest.param({"auto_shutdown": None}, TypeError, "auto_shutdown", id="auto_shutdown_none"),
    pytest.param(
        {"strategy": "simple_one_for_one", "child_template": Worker},
        TypeError,
        "child_template",
        id="template_not_childspec",
    ),
    pytest.param({"name": ""}, TypeError, "name", id="empty_name"),
    pytest.param({"name": 5}, TypeError, "name", id="name_not_str"),
    pytest.param({"link": "parent"}, TypeError, "Ref", id="link_not_ref"),
]


@pytest.mark.parametrize("kwargs, error, names", START_SUPERVISOR_ERRORS)
def test_start_supervisor_rejects_bad_arguments(
    node: noexpp.Node, unharmed: None, kwargs: dict[str, Any], error: type[Exception], names: str
) -> None:
    kwargs.setdefault("children", [GOOD])
    with pytest.raises(error, match=names):
        node.start_supervisor(**kwargs)


CHILD_SPEC_ERRORS = [
    pytest.param({"id": 1}, TypeError, "id", id="id_not_str"),
    pytest.param({"behavior": 42}, TypeError, "GenServer", id="behavior_int"),
    pytest.param({"behavior": object}, TypeError, "GenServer", id="behavior_not_genserver"),
    pytest.param({"behavior": Worker()}, TypeError, "GenServer", id="behavior_instance"),
    pytest.param({"behavior": ""}, ValueError, "behavior", id="behavior_empty_name"),
    pytest.param({"args": 5}, TypeError, "args", id="args_not_sequence"),
    pytest.param({"args": "abc"}, TypeError, "args", id="args_str"),
    pytest.param({"restart": "sometimes"}, ValueError, "restart", id="unknown_restart"),
    pytest.param({"restart": None}, TypeError, "restart", id="restart_none"),
    pytest.param({"shutdown": -1}, ValueError, "shutdown", id="negative_shutdown"),
    pytest.param({"shutdown": "soon"}, TypeError, "shutdown", id="shutdown_word"),
    pytest.param({"significant": "yes"}, TypeError, "significant", id="significant_not_bool"),
    pytest.param({"significant": True}, ValueError, "significant", id="significant_permanent"),
    pytest.param({"name": ""}, TypeError, "name", id="empty_name"),
]


@pytest.mark.parametrize("kwargs, error, names", CHILD_SPEC_ERRORS)
def test_child_spec_rejects_bad_arguments(
    kwargs: dict[str, Any], error: type[Exception], names: str
) -> None:
    spec: dict[str, Any] = {"id": "w", "behavior": Worker} | kwargs
    with pytest.raises(error, match=names):
        noexpp.ChildSpec(**spec)


def test_unknown_behavior_name_raises_behavior_not_found(node: noexpp.Node, unharmed: None) -> None:
    with pytest.raises(noexpp.BehaviorNotFoundError, match=r"no\.such\.behavior"):
        node.start_supervisor([noexpp.ChildSpec("w", "no.such.behavior")])


def test_unencodable_child_args_raise_type_error(node: noexpp.Node, unharmed: None) -> None:
    with pytest.raises(TypeError, match="object"):
        node.start_supervisor([noexpp.ChildSpec("w", Worker, args=(object(),))])


def test_taken_supervisor_name_raises_duplicate_name(node: noexpp.Node, unharmed: None) -> None:
    taken = node.spawn(Worker, name="sup")
    try:
        with pytest.raises(noexpp.DuplicateNameError, match="sup"):
            node.start_supervisor([GOOD], name="sup")
    finally:
        taken.stop()


def test_taken_child_name_fails_the_start(node: noexpp.Node, unharmed: None) -> None:
    taken = node.spawn(Worker, name="w")
    try:
        with pytest.raises(noexpp.NoexppError, match="'w'"):
            node.start_supervisor([noexpp.ChildSpec("w", Worker, name="w")])
    finally:
        taken.stop()


def test_nested_spec_is_checked_too(node: noexpp.Node, unharmed: None) -> None:
    with pytest.raises(ValueError, match="strategy"):
        noexpp.SupervisorSpec([GOOD], strategy="all_for_one")
    with pytest.raises(TypeError, match="ChildSpec"):
        noexpp.SupervisorSpec([GOOD, None])  # type: ignore[list-item]


@pytest.fixture
def sup(node: noexpp.Node) -> Iterator[noexpp.Supervisor]:
    s = node.start_supervisor([GOOD])
    yield s
    s.stop()


@pytest.mark.parametrize(
    "call, error, names",
    [
        pytest.param(lambda s: s.start_child(42), TypeError, "ChildSpec", id="start_child_int"),
        pytest.param(lambda s: s.start_child("w"), TypeError, "ChildSpec", id="start_child_str"),
        pytest.param(
            lambda s: s.start_child(GOOD, timeout=-1),
            ValueError,
            "timeout",
            id="start_child_timeout",
        ),
        pytest.param(lambda s: s.terminate_child(42), TypeError, "Ref", id="terminate_child_int"),
        pytest.param(
            lambda s: s.restart_child(None), TypeError, "child id", id="restart_child_none"
        ),
        pytest.param(lambda s: s.delete_child(3), TypeError, "child id", id="delete_child_int"),
        pytest.param(
            lambda s: s.which_children(timeout="1"),
            TypeError,
            "timeout",
            id="which_children_timeout",
        ),
        pytest.param(lambda s: s.stats(timeout=-2), ValueError, "timeout", id="stats_timeout"),
    ],
)
def test_supervisor_requests_reject_bad_arguments(
    sup: noexpp.Supervisor, call: Any, error: type[Exception], names: str
) -> None:
    with pytest.raises(error, match=names):
        call(sup)
    assert [c.id for c in sup.which_children()] == ["w"]
    assert sup.is_running


def test_start_supervisor_on_a_stopped_node_raises(make_node: Any) -> None:
    n = make_node()
    n.stop()
    with pytest.raises(noexpp.NodeStopped):
        n.start_supervisor([GOOD])
