"""The engine's thread-local storage stays small.

Python loads _core and libnoexpp.so with dlopen, after the program started,
so their thread-locals must fit in the small static TLS surplus glibc keeps
for such libraries (a few KB, shared by every library loaded that way). A
thread_local random generator of 5 KB once made the import fail with
"cannot allocate memory in static TLS block". This reads each library's
PT_TLS program header and bounds its size.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

import noexpp

PT_TLS = 7
#: Bytes of thread-locals each library may have (today: under 200).
TLS_BUDGET = 1024


def tls_size(library: Path) -> int:
    """p_memsz of the PT_TLS segment of a 64-bit little-endian ELF file (0: none)."""
    data = library.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, f"{library} is not ELF64 LE"
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, = struct.unpack_from("<I", data, phoff + i * phentsize)
        if p_type == PT_TLS:
            p_memsz, = struct.unpack_from("<Q", data, phoff + i * phentsize + 0x28)
            return int(p_memsz)
    return 0


LIBRARIES = sorted(Path(noexpp.__file__).parent.glob("*.so"))


def test_the_package_ships_its_libraries() -> None:
    names = [p.name for p in LIBRARIES]
    assert "libnoexpp.so" in names and any(n.startswith("_core.") for n in names), names


@pytest.mark.parametrize("library", LIBRARIES, ids=lambda p: p.name)
def test_thread_locals_fit_the_static_tls_budget(library: Path) -> None:
    size = tls_size(library)
    assert size <= TLS_BUDGET, (
        f"{library.name} has {size} bytes of thread-locals (budget {TLS_BUDGET}): "
        "keep large per-thread state on the heap, behind a thread_local pointer")
