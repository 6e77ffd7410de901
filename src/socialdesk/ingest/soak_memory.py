"""Where a process's memory is, beyond Python's own objects: the C heap and SQLite.

RSS alone cannot tell a leak from a heap that holds freed memory (glibc keeps what was
freed inside its arenas for reuse, so a burst raises RSS for good) or from SQLite's page
caches. These figures, read in-process through ctypes, tell them apart. Linux with glibc
only; elsewhere the figures are absent.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache
from typing import Any

MB = 1024 * 1024


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",  # bytes the heap holds from the system (sbrk and arenas)
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",  # bytes in chunks mapped on their own (large allocations)
            "usmblks",
            "fsmblks",
            "uordblks",  # bytes in use
            "fordblks",  # bytes free inside the heap (kept for reuse)
            "keepcost",
        )
    ]


@lru_cache(maxsize=1)
def _libraries() -> tuple[Any, Any]:
    libc = sqlite = None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
    except (OSError, AttributeError):  # not glibc, or older than 2.33
        libc = None
    try:
        import _sqlite3  # the library Python's sqlite3 is linked to is already loaded

        sqlite = ctypes.CDLL(_sqlite3.__file__)
        sqlite.sqlite3_memory_used.restype = ctypes.c_int64
    except (OSError, AttributeError, ImportError):
        sqlite = None
    return libc, sqlite


def native_memory() -> dict[str, float]:
    """The C heap's bytes in use and free inside it, and SQLite's, in MB."""
    libc, sqlite = _libraries()
    out: dict[str, float] = {}
    if libc is not None:
        info = libc.mallinfo2()
        out["heap_in_use_mb"] = round(info.uordblks / MB, 1)
        out["heap_free_mb"] = round(info.fordblks / MB, 1)
        out["heap_mapped_mb"] = round(info.hblkhd / MB, 1)
    if sqlite is not None:
        out["sqlite_mb"] = round(sqlite.sqlite3_memory_used() / MB, 1)
    return out
