"""Workers lease the events they process: a sweep takes only what no live worker holds."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.inbox import RawEvent
from socialdesk.conversations.models import Message
from socialdesk.core.bus import RedisStreamsBus
from socialdesk.core.clock import FrozenClock
from socialdesk.core.models import Workspace
from socialdesk.ingest.dispatch import Leases, Worker
from socialdesk.ingest.pipeline import Pipeline
from tests.ingest.factories import T0, event

ORPHAN_AFTER = 120.0
LEASE = 600.0
# The sweep and the leases below never reach Redis; a worker still needs a bus to be built.
UNUSED_REDIS = "redis://127.0.0.1:1/0"


def processed_ids(factory: sessionmaker[Session]) -> set[int]:
    with factory() as s:
        return set(s.scalars(select(RawEvent.id).where(RawEvent.status == "processed")))


def test_a_sweep_leaves_alone_what_a_live_worker_holds_and_takes_it_once_its_holder_died(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    clock = FrozenClock(T0)
    pipeline = Pipeline(session_factory, clock=clock)
    ids = pipeline.accept(workspace.id, [event(str(i), f"u{i}") for i in range(10)]).accepted
    busy = Worker(
        pipeline, RedisStreamsBus(UNUSED_REDIS), orphan_after=ORPHAN_AFTER, lease_seconds=LEASE
    )
    sweeper = Worker(
        pipeline, RedisStreamsBus(UNUSED_REDIS), orphan_after=ORPHAN_AFTER, lease_seconds=LEASE
    )
    # The busy worker read half of them from the stream and is working on them (slowly).
    assert busy.leases.take(ids[:5]) == sorted(ids[:5])

    clock.advance(timedelta(seconds=ORPHAN_AFTER + 1))  # all old enough to look orphaned
    assert sweeper.sweep() == 5
    assert processed_ids(session_factory) == set(ids[5:])
    # Their stream entry handed again to the sweeper (claimed after its idle time) is no
    # licence either: the events stay with their holder.
    sweeper.handle([{"workspace_id": workspace.id, "raw_ids": ids[:5]}])
    assert processed_ids(session_factory) == set(ids[5:])
    with session_factory() as s:
        holders = set(s.scalars(select(RawEvent.claimed_by).where(RawEvent.id.in_(ids[:5]))))
    assert holders == {busy.leases.holder}

    clock.advance(timedelta(seconds=LEASE))  # the busy worker died: its lease ran out
    assert sweeper.sweep() == 5
    assert processed_ids(session_factory) == set(ids)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 10


def test_a_holder_renews_its_lease_chunk_by_chunk(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    clock = FrozenClock(T0)
    pipeline = Pipeline(session_factory, clock=clock, batch_size=3)
    ids = pipeline.accept(workspace.id, [event(str(i), f"u{i}") for i in range(7)]).accepted
    leases = Leases(pipeline, "worker-a", LEASE)
    result = leases.process(workspace.id, ids)
    assert result.processed == 7
    # Once processed, an event is nobody's to take, whatever its lease says.
    clock.advance(timedelta(seconds=LEASE + 1))
    assert Leases(pipeline, "worker-b", LEASE).take(ids) == []


def test_two_workers_taking_the_same_events_at_once_never_both_get_one(
    pg_factory: sessionmaker[Session],
    pg_workspace: int,
) -> None:
    pipeline = Pipeline(pg_factory)
    ids = pipeline.accept(pg_workspace, [event(str(i), f"u{i}") for i in range(300)]).accepted
    start = threading.Barrier(4, timeout=30)
    taken: dict[str, list[int]] = {}

    def take(name: str) -> None:
        leases = Leases(pipeline, name, LEASE)
        start.wait()
        taken[name] = leases.take(ids)

    threads = [threading.Thread(target=take, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    every = [raw_id for got in taken.values() for raw_id in got]
    assert sorted(every) == sorted(ids)  # each event leased once, by one worker


def test_a_leased_batch_reads_its_events_in_the_lease_and_fails_only_the_unreadable(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    """The lease statement brings back the payloads the worker processes (JSON text on
    SQLite, JSON on PostgreSQL); a stored event no code can read is the batch's only failure,
    and an event another worker holds is neither read nor processed."""
    pipeline = Pipeline(session_factory)
    ids = pipeline.accept(workspace.id, [event(str(i), f"u{i}") for i in range(6)]).accepted
    with session_factory() as s:
        s.execute(update(RawEvent).where(RawEvent.id == ids[0]).values(payload={"no": "event"}))
        s.commit()
    assert Leases(pipeline, "worker-b", LEASE).take([ids[1]]) == [ids[1]]
    result = Leases(pipeline, "worker-a", LEASE).process(workspace.id, ids)
    assert (result.processed, result.failed) == (4, 1)
    with session_factory() as s:
        rows = s.execute(select(RawEvent.id, RawEvent.status).where(RawEvent.id.in_(ids))).all()
        status = {raw_id: state for raw_id, state in rows}
        texts = set(s.scalars(select(Message.external_id)))
    assert status[ids[0]] == "failed" and status[ids[1]] == "pending"
    assert texts == {str(i) for i in range(2, 6)}
