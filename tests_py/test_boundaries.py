"""The layering rules of STYLE.md, checked on the source tree: the GIL is
touched in one file only, the engine has no Python in it, and tests_cpp links
only the engine."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CPP = ROOT / "cpp"

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
