"""Hand the C heap's free pages back to the system, now and then.

glibc keeps what a long-running process frees inside its heaps (the main one and one per
thread that allocated) for reuse; it returns only a free stretch at the very top of the
main heap. A process that processes batches for hours (the embedded pipeline, a worker)
therefore keeps the high-water mark of every heap, fragmented, as resident memory.
``malloc_trim`` gives every whole free page back (``madvise``) in all heaps. It walks the
heaps, so it runs at most once every ``TRIM_EVERY`` seconds. Linux with glibc only;
elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
from functools import lru_cache
from typing import Any

TRIM_EVERY = 30.0  # seconds

_lock = threading.Lock()
_last = [float("-inf")]


@lru_cache(maxsize=1)
def _libc() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int
    except (OSError, AttributeError):  # not glibc
        return None
    return libc


def trim_heap() -> bool:
    """Give the heaps' free pages back now; True if glibc returned any."""
    libc = _libc()
    return bool(libc is not None and libc.malloc_trim(0))


def trim_heap_now_and_then(every: float = TRIM_EVERY) -> bool:
    """``trim_heap`` if the last trim of this process is ``every`` seconds old."""
    now = time.monotonic()
    with _lock:
        if now - _last[0] < every:
            return False
        _last[0] = now
    return trim_heap()
