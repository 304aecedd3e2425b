#!/usr/bin/env python3
"""Checks that the engine's includes respect its layers (DESIGN §2).

The layers, bottom up: core, sup, cluster, dist; the bindings and the
benchmarks sit above them all. A file may include:

- public headers (<noexpp/...>) of its own layer or a lower one; the public
  headers themselves include nothing but public headers;
- private headers of its own layer (cpp/src/<layer>/...);
- the internal headers of a lower layer (cpp/src/<layer>/internal/...), the
  surface a layer offers the layers above it.

Tests (tests_cpp/<layer>/) are held to their layer's rules, with the private
headers of their own layer allowed. Any other include of a private header,
or of a higher layer, is an error. Like CAF's forbidden-includes check.

Usage: python3 scripts/check_layers.py [repo root]; exit code 1 on violations.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

LAYERS = ("core", "sup", "cluster", "dist")
TOP = len(LAYERS)  # the bindings and benchmarks: above every layer
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.MULTILINE)
SOURCE_SUFFIXES = {".cpp", ".hpp", ".h"}
UMBRELLA = "noexpp/noexpp.hpp"  # includes every layer's public headers


def rank(layer: str) -> int:
    return LAYERS.index(layer)


def public_layer(include: str) -> int | None:
    """The layer of a public header path ("noexpp/sup/x.hpp" -> sup), or None."""
    parts = include.split("/")
    if parts[0] != "noexpp":
        return None
    if include == UMBRELLA:
        return TOP
    if len(parts) > 2 and parts[1] in LAYERS:
        return rank(parts[1])
    return rank("core")


def private_layer(include: str) -> tuple[int, bool] | None:
    """(layer, is_internal) of a private header path ("cluster/wire.hpp"), or None."""
    parts = include.split("/")
    if len(parts) < 2 or parts[0] not in LAYERS:
        return None
    return rank(parts[0]), len(parts) > 2 and parts[1] == "internal"


def file_layer(root: Path, path: Path) -> tuple[int, str]:
    """The layer a file belongs to, and what kind of file it is."""
    rel = path.relative_to(root).parts
    if rel[:2] == ("cpp", "include"):
        if "/".join(rel[2:]) == UMBRELLA:
            return TOP, "public"
        layer = rel[3] if len(rel) > 4 and rel[3] in LAYERS else "core"
        return rank(layer), "public"
    if rel[:2] == ("cpp", "src"):
        if rel[2] in LAYERS:
            return rank(rel[2]), "private"
        return TOP, "engine"  # the shared library's own files (src/engine)
    if rel[0] == "tests_cpp" and len(rel) > 2 and rel[1] in LAYERS:
        return rank(rel[1]), "test"
    return TOP, "above"  # bindings, benchmarks, the public API test


def violations(root: Path) -> list[str]:
    out = []
    folders = [root / "cpp", root / "tests_cpp", root / "bench" / "cpp"]
    files = sorted(p for f in folders if f.is_dir() for p in f.rglob("*") if p.suffix in SOURCE_SUFFIXES)
    for path in files:
        layer, kind = file_layer(root, path)
        text = path.read_text(errors="replace")
        for match in INCLUDE.finditer(text):
            include = match.group(2)
            line = text.count("\n", 0, match.start()) + 1
            close = ">" if match.group(1) == "<" else '"'
            where = f"{path.relative_to(root)}:{line}: #include {match.group(1)}{include}{close}"
            pub = public_layer(include)
            if pub is not None:
                if pub > layer:
                    out.append(f"{where}: runs up from {name(layer)} to {name(pub)}")
                continue
            priv = private_layer(include)
            if priv is None:
                continue  # the standard library, a third party, or a file beside this one
            target, internal = priv
            if kind == "public":
                out.append(f"{where}: a public header includes a private one")
            elif target > layer:
                out.append(f"{where}: runs up from {name(layer)} to {name(target)}")
            elif target < layer and not internal:
                out.append(f"{where}: reaches {name(target)}'s private header (only {LAYERS[target]}/internal/ is shared)")
    return out


def name(layer: int) -> str:
    return LAYERS[layer] if layer < TOP else "the code above the engine"


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
    found = violations(root)
    for v in found:
        print(v)
    if found:
        print(f"{len(found)} include(s) break the layers (see scripts/check_layers.py)")
        return 1
    print("layers hold: every include runs downward")
    return 0


if __name__ == "__main__":
    sys.exit(main())
