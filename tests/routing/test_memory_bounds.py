"""Routing's in-memory views hold the open work, never a trace of all traffic seen."""

from __future__ import annotations

from datetime import timedelta

from socialdesk.routing.selection import RoutingPolicy, TaskView
from socialdesk.routing.worklist import WorkList
from tests.routing.factories import T0


def test_the_widening_heap_keeps_only_the_moments_of_tasks_still_waiting() -> None:
    # Steady traffic: each task waits a moment and is assigned (removed), long before its
    # 10-minute widening moment; a few stay waiting throughout.
    wl = WorkList(RoutingPolicy(overflow_after=timedelta(minutes=10)))
    waiting = [TaskView(i, "x", T0, topic="billing") for i in range(1, 11)]
    for t in waiting:
        wl.upsert(t, T0)
    for i in range(100, 20_100):
        now = T0 + timedelta(seconds=i / 100)
        wl.upsert(TaskView(i, "x", now, topic="billing"), now)
        wl.upsert(TaskView(i, "x", now, topic="billing", priority=5.0), now)  # re-scored
        wl.remove(i)
    assert len(wl) == 10
    # Not 40,000 stale moments: a small multiple of the waiting tasks.
    assert wl.overflow_entries() <= 2 * len(wl) + 64 + 2
    # The waiting tasks still widen on time: their moments survived every rebuild.
    moved = wl.promote_overflowed(T0 + timedelta(minutes=10, seconds=1))
    assert moved == 10
    assert all(key.topic is None for key in wl.bucket_keys())
