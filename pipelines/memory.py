"""Allocators that give memory back, for the commands that stream an account through threads (`extract`).

Every thread that allocates gets a glibc malloc arena of its own (up to 8 per core), and pages converted in
a dozen threads leave each arena holding freed memory: capped at two arenas, freed memory is reused across
threads. pyarrow's default pool (mimalloc) also keeps what it freed; the system allocator, whose pages the
arena cap already bounds, returns it. Together they took 74 MiB off the fetch and 64 MiB off the load of an
extract of 100,000 contacts (bench/extract.py), at no measurable cost in time."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from contextlib import suppress

M_ARENA_MAX = -8  # glibc's mallopt parameter
ARENAS = 2


def lean_allocators() -> None:
    """Cap glibc's malloc arenas (before the threads that would make more) and allocate Arrow buffers with
    the system allocator. Does nothing where there is no glibc."""
    if sys.platform.startswith("linux"):
        with suppress(OSError, AttributeError):
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            libc.mallopt(M_ARENA_MAX, ARENAS)
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())
