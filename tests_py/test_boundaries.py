"""The layering rules of STYLE.md, checked on the source tree: the GIL is
touched in one file only, the engine has no Python in it, tests_cpp links
only the engine, and the modules of the Python package import each other
without a cycle."""
from __future__ import annotations

import ast
import importlib.util
import re
from collections.abc import Mapping
from typing import Any
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CPP = ROOT / "cpp"
PACKAGE = ROOT / "python" / "noexpp"
#: Modules that import no other module of the package, so anything may use them.
LEAVES = ("noexpp._checks", "noexpp._node_registry", "noexpp.errors")

pytestmark = pytest.mark.skipif(not CPP.is_dir(), reason="needs the source tree")

GIL_CALLS = re.compile(r"gil_scoped_(acquire|release)|PyGILState_Ensure|PyEval_SaveThread|"
                       r"PyEval_RestoreThread|Py_BEGIN_ALLOW_THREADS|call_guard")


def sources(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in {".cpp", ".hpp", ".h"})


def test_gil_is_touched_only_in_the_gil_boundary() -> None:
    offenders = [p.relative_to(ROOT) for p in sources(CPP)
                 if GIL_CALLS.search(p.read_text()) and p.stem != "gil_boundary"]
    assert offenders == []


def test_engine_has_no_python() -> None:
    engine = [p for p in sources(CPP) if "bindings" not in p.parts]
    assert engine, "engine sources not found"
    offenders = [p.relative_to(ROOT) for p in engine
                 if re.search(r"#include\s*[<\"](pybind11|Python\.h)", p.read_text())]
    assert offenders == []


def test_cpp_tests_link_only_the_engine() -> None:
    cmake = (ROOT / "tests_cpp" / "CMakeLists.txt").read_text()
    assert "noexpp::engine" in cmake
    assert not re.search(r"(?<!\w)_core\b", cmake) and "pybind11" not in cmake


# --- C++ layers: includes ------------------------------------------------------

def layer_checker() -> Any:
    spec = importlib.util.spec_from_file_location("check_layers", ROOT / "scripts" / "check_layers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_cpp_include_runs_down_the_layers() -> None:
    assert layer_checker().violations(ROOT) == []


@pytest.mark.parametrize(("path", "include", "complaint"), [
    ("cpp/src/core/node.cpp", '"cluster/membership.hpp"', "runs up from core to cluster"),
    ("cpp/src/core/node.cpp", "<noexpp/dist/node.hpp>", "runs up from core to dist"),
    ("cpp/src/dist/x.cpp", '"cluster/connection.hpp"', "reaches cluster's private header"),
    ("cpp/include/noexpp/node.hpp", '"core/process.hpp"', "a public header includes a private one"),
    ("cpp/bindings/x.cpp", '"core/process.hpp"', "reaches core's private header"),
])
def test_the_layer_check_refuses_an_include_that_breaks_the_layers(
        tmp_path: Path, path: str, include: str, complaint: str) -> None:
    source = tmp_path / path
    source.parent.mkdir(parents=True)
    source.write_text(f"#include {include}\n")
    allowed = tmp_path / "cpp" / "src" / "sup" / "ok.cpp"
    allowed.parent.mkdir(parents=True, exist_ok=True)
    allowed.write_text('#include "core/internal/executor.hpp"\n#include <noexpp/node.hpp>\n#include "sup/x.hpp"\n')
    found = layer_checker().violations(tmp_path)
    assert len(found) == 1 and complaint in found[0], found


# --- Python package: imports --------------------------------------------------

def module_names(package: Path) -> dict[str, Path | None]:
    """Every module of the package by dotted name: its .py file, or None for
    a compiled module known from its stub (``_core``)."""
    root = package.parent
    names: dict[str, Path | None] = {}
    for path in sorted(package.rglob("*.py*")):
        if path.suffix not in (".py", ".pyi"):
            continue
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        if path.suffix == ".py" or name not in names:
            names[name] = path if path.suffix == ".py" else None
    return names


def imports_of(source: str, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``source`` imports anywhere: at module
    level, inside functions, classes, ``if TYPE_CHECKING`` and ``try``;
    relative and absolute. ``from pkg import name`` counts as importing the
    submodule ``pkg.name`` when there is one, else ``pkg`` itself."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in known else target)
    return found & known


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    names = module_names(package)
    known = set(names)
    return {name: (imports_of(path.read_text(encoding="utf-8"), name,
                              path.name == "__init__.py", known) - {name}
                   if path is not None else set())
            for name, path in names.items()}


def cyclic_groups(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or round about
    (Tarjan's strongly connected components of more than one module, or of
    one that imports itself), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1 or v in graph.get(v, ()):
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def cycle_through(graph: Mapping[str, set[str]], group: list[str]) -> list[str]:
    """A shortest import path from the group's first module back to itself."""
    start = group[0]
    members = set(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph.get(v, set()) & members):
                if w == start:
                    return [*paths[v], start]
                if w not in paths:
                    paths[w] = [*paths[v], w]
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle through {sorted(group)}")


def test_the_cycle_finder_sees_every_import_and_names_each_cycle() -> None:
    known = {"p", "p.a", "p.b", "p.c", "p.d"}
    lazy = imports_of("def f():\n    from .b import x\n", "p.a", False, known)
    assert lazy == {"p.b"}
    assert imports_of("from . import c, nothing\nimport p.d\n", "p.a", False, known) == \
        {"p.c", "p", "p.d"}
    assert imports_of("from .. import a\n", "p.sub.x", False, known) == {"p.a"}
    graph = {"p.a": {"p.b", "p.c"}, "p.b": {"p.c"}, "p.c": {"p.a"}, "p.d": {"p.d"},
             "p": {"p.a"}}
    assert cyclic_groups(graph) == [["p.a", "p.b", "p.c"], ["p.d"]]
    assert cycle_through(graph, ["p.a", "p.b", "p.c"]) == ["p.a", "p.c", "p.a"]
    assert cycle_through(graph, ["p.d"]) == ["p.d", "p.d"]
    assert cyclic_groups({"p.a": {"p.b"}, "p.b": set()}) == []


@pytest.mark.skipif(not PACKAGE.is_dir(), reason="needs the source tree")
def test_python_package_has_no_import_cycle() -> None:
    graph = import_graph(PACKAGE)
    assert {"noexpp", "noexpp.node", "noexpp.gen_server", "noexpp._core"} <= set(graph)
    cycles = [f"{' -> '.join(cycle_through(graph, group))} (importing each other: "
              f"{', '.join(group)})" for group in cyclic_groups(graph)]
    assert cycles == [], "import cycles among python/noexpp modules:\n" + "\n".join(cycles)


@pytest.mark.skipif(not PACKAGE.is_dir(), reason="needs the source tree")
@pytest.mark.parametrize("leaf", LEAVES)
def test_leaf_modules_import_nothing_of_the_package(leaf: str) -> None:
    assert import_graph(PACKAGE)[leaf] == set()
