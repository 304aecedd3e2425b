"""python/noexpp/_core.pyi describes the bound module: every public function
and class of ``noexpp._core``, and every member of its classes, is in the
stub, and the stub names nothing the module lacks (a names diff; the
signatures are for mypy and the reader)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from noexpp import _core

SOURCE_STUB = Path(__file__).resolve().parents[1] / "python" / "noexpp" / "_core.pyi"
#: The stub of the source tree when there is one, else the installed one.
STUB = SOURCE_STUB if SOURCE_STUB.is_file() else Path(_core.__file__).with_name("_core.pyi")
#: What pybind11 puts on every class (and Python on every type): not API.
RUNTIME_ONLY = {"__doc__", "__module__", "__dict__", "__weakref__", "_pybind11_conduit_v1_"}


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def stub_names() -> tuple[set[str], dict[str, set[str]]]:
    """The stub's module-level names and, per class, its members' names."""
    tree = ast.parse(STUB.read_text(encoding="utf-8"), filename=str(STUB))
    names: set[str] = set()
    classes: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.add(node.name)
            classes[node.name] = {
                item.name for item in node.body
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
            } | {
                target.id for item in node.body if isinstance(item, (ast.Assign, ast.AnnAssign))
                for target in (item.targets if isinstance(item, ast.Assign) else [item.target])
                if isinstance(target, ast.Name)
            }
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names, classes


def bound_classes() -> dict[str, type]:
    return {name: obj for name, obj in vars(_core).items()
            if isinstance(obj, type) and not name.startswith("_")}


def test_stub_and_module_have_the_same_public_names() -> None:
    stub, _ = stub_names()
    bound = {name for name in dir(_core) if not name.startswith("_")}
    assert sorted(bound - stub) == [], f"bound in _core but missing from {STUB.name}"
    assert sorted(stub - bound) == [], f"in {STUB.name} but not bound in _core"


@pytest.mark.parametrize("class_name", sorted(bound_classes()))
def test_stub_and_class_have_the_same_members(class_name: str) -> None:
    _, stub_classes = stub_names()
    assert class_name in stub_classes, f"class {class_name} missing from {STUB.name}"
    bound = set(vars(bound_classes()[class_name])) - RUNTIME_ONLY
    stub = stub_classes[class_name]
    # Every named member both ways; special methods only one way, since
    # every class has some (__init__, __repr__) that need not be restated.
    assert sorted(n for n in bound - stub if not _is_dunder(n)) == [], \
        f"members of _core.{class_name} missing from {STUB.name}"
    assert sorted(stub - bound) == [], f"members of {class_name} in {STUB.name} but not bound"
