"""A process-local thread pool: a forked child runs work on a pool of its own."""

from __future__ import annotations

from socialdesk.core.pools import ProcessLocalPool
from tests.forking import passes_in_forked_child


def test_the_same_pool_serves_a_process_until_it_forks() -> None:
    pool = ProcessLocalPool(2, "test")
    first = pool.get()
    assert pool.get() is first
    assert first.submit(sum, [1, 2]).result(timeout=10) == 3
    # An inherited pool would never run the work: the child must make its own.
    assert passes_in_forked_child(
        lambda: pool.get() is not first and pool.get().submit(sum, [2, 2]).result() == 4,
        timeout_seconds=20,
    )
