"""Where the C++ SDK inside the installed package is: the engine's public
headers and its CMake package, for a user's own native module (as
``pybind11.get_include()`` and ``pybind11.get_cmake_dir()``; docs/native-behaviors.md).
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["get_cmake_dir", "get_include"]

_PACKAGE = Path(__file__).resolve().parent


def get_include() -> str:
    """The directory holding ``noexpp/noexpp.hpp`` (add it to the include path)."""
    return str(_PACKAGE / "include")


def get_cmake_dir() -> str:
    """The directory of ``noexppConfig.cmake``: pass it as ``noexpp_DIR`` (or
    on ``CMAKE_PREFIX_PATH``) to ``find_package(noexpp CONFIG REQUIRED)``."""
    return str(_PACKAGE / "share" / "cmake" / "noexpp")
