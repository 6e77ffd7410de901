"""A process-local thread pool: a forked child runs work on a pool of its own."""

from __future__ import annotations

import os
import signal

from socialdesk.core.pools import ProcessLocalPool


def test_the_same_pool_serves_a_process_until_it_forks() -> None:
    pool = ProcessLocalPool(2, "test")
    first = pool.get()
    assert pool.get() is first
    assert first.submit(sum, [1, 2]).result(timeout=10) == 3
    child = os.fork()
    if child == 0:
        signal.alarm(20)  # an inherited pool never runs the work: end the child, not the run
        ok = False
        try:
            ok = pool.get() is not first and pool.get().submit(sum, [2, 2]).result() == 4
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
