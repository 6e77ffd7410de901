"""Thread pools that survive a fork: a forked child gets its own instead of its parent's.

A process that forks (a pre-forking server, a task queue's workers) copies its parent's pool
objects but not their threads, so work handed to an inherited pool would never run.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor


class ProcessLocalPool:
    """A thread pool created on first use in each process."""

    def __init__(self, workers: int, name: str) -> None:
        self.workers = workers
        self.name = name
        self._pool: ThreadPoolExecutor | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def get(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix=self.name)
                self._pid = os.getpid()
            return self._pool
