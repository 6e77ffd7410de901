"""Scale mode: stored events travel to workers over Redis Streams, at least once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.conversations.models import Message
from socialdesk.core.bus import INGEST_STREAM, RedisStreamsBus
from socialdesk.core.clock import FrozenClock
from socialdesk.core.models import Workspace
from socialdesk.ingest.dispatch import (
    ProcessingDispatcher,
    Worker,
    handle_ingest_entries,
    next_read_count,
)
from socialdesk.ingest.pipeline import Pipeline
from tests.ingest.factories import T0, event


@pytest.fixture
def bus(redis_url: str) -> Iterator[RedisStreamsBus]:
    bus = RedisStreamsBus(redis_url, group=f"test-{uuid.uuid4().hex[:8]}")
    # A stream of its own per test, so parallel runs never share entries.
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    bus.key = lambda stream: prefix + stream  # type: ignore[method-assign]
    yield bus
    bus.client.delete(bus.key(INGEST_STREAM))
    bus.close()


def messages(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as s:
        return s.scalar(select(func.count()).select_from(Message)) or 0


def test_a_worker_processes_what_the_web_process_stored_and_announced(
    session_factory: sessionmaker[Session], workspace: Workspace, bus: RedisStreamsBus
) -> None:
    pipeline = Pipeline(session_factory)
    dispatcher = ProcessingDispatcher(pipeline, bus)
    accepted = pipeline.accept(workspace.id, [event("1", "u1"), event("2", "u2", minutes=1)])
    dispatcher.dispatch(workspace.id, accepted.accepted)
    assert messages(session_factory) == 0  # nothing processed in the accepting process

    worker = Worker(pipeline, bus, sweep_every=3600)
    worker.run(max_seconds=0.5, block_ms=100)
    assert worker.handled == 1
    assert messages(session_factory) == 2
    assert bus.pending(INGEST_STREAM) == 0


def test_entries_of_a_worker_that_died_are_claimed_by_another(
    session_factory: sessionmaker[Session], workspace: Workspace, bus: RedisStreamsBus
) -> None:
    pipeline = Pipeline(session_factory)
    accepted = pipeline.accept(workspace.id, [event("1", "u1")])
    ProcessingDispatcher(pipeline, bus).dispatch(workspace.id, accepted.accepted)
    bus.ensure_group(INGEST_STREAM)

    def crash(_payloads: list[dict[str, object]]) -> None:
        raise RuntimeError("worker killed mid-batch")

    with pytest.raises(RuntimeError):
        bus.consume_once(INGEST_STREAM, "doomed", crash, block_ms=100)
    assert bus.pending(INGEST_STREAM) == 1 and messages(session_factory) == 0

    bus.claim_idle_ms = 0
    handled = bus.consume_once(
        INGEST_STREAM, "healthy", lambda p: handle_ingest_entries(pipeline, p), block_ms=100
    )
    assert handled == 1
    assert messages(session_factory) == 1
    assert bus.pending(INGEST_STREAM) == 0


def test_the_sweep_processes_events_stored_but_never_announced_once_they_are_orphans(
    session_factory: sessionmaker[Session], workspace: Workspace, bus: RedisStreamsBus
) -> None:
    clock = FrozenClock(T0)
    pipeline = Pipeline(session_factory, clock=clock)
    pipeline.accept(workspace.id, [event("1", "u1")])  # the publish never happened
    worker = Worker(pipeline, bus, orphan_after=120)
    assert worker.sweep() == 0  # maybe another worker's: left alone
    assert messages(session_factory) == 0
    clock.advance(timedelta(seconds=121))
    assert worker.sweep() == 1
    assert messages(session_factory) == 1


def test_a_worker_makes_its_group_again_when_redis_lost_it(
    session_factory: sessionmaker[Session], workspace: Workspace, bus: RedisStreamsBus
) -> None:
    pipeline = Pipeline(session_factory)
    bus.ensure_group(INGEST_STREAM)
    bus.client.delete(bus.key(INGEST_STREAM))  # as after a restart without persistence
    handle = lambda p: handle_ingest_entries(pipeline, p)  # noqa: E731
    assert bus.consume_once(INGEST_STREAM, "w1", handle, block_ms=50) == 0
    accepted = pipeline.accept(workspace.id, [event("1", "u1")])
    ProcessingDispatcher(pipeline, bus).dispatch(workspace.id, accepted.accepted)
    assert bus.consume_once(INGEST_STREAM, "w1", handle, block_ms=50) == 1
    assert messages(session_factory) == 1


def test_embedded_dispatch_processes_at_once(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    pipeline = Pipeline(session_factory)
    accepted = pipeline.accept(workspace.id, [event("1", "u1")])
    ProcessingDispatcher(pipeline).dispatch(workspace.id, accepted.accepted)
    assert messages(session_factory) == 1


def test_the_read_size_follows_the_stream_length() -> None:
    assert next_read_count(0, 4, 64) == 4  # an idle stream: the smallest reads
    assert next_read_count(3, 4, 64) == 6  # a short stream: about what it holds, twice
    assert next_read_count(16, 4, 64) == 32  # a read that got all it asked: double
    assert next_read_count(64, 4, 64) == 64  # a long backlog: the largest batches


def test_a_worker_takes_a_backlog_in_growing_reads_and_leaves_the_rest_to_others(
    session_factory: sessionmaker[Session], bus: RedisStreamsBus
) -> None:
    """After a quiet stream a worker's first read is small, so a backlog that appears is
    shared with the other workers; then its reads double up to --batch."""
    sizes: list[int] = []

    class Recording(Worker):
        def handle(self, payloads: list[dict[str, Any]]) -> None:
            sizes.append(len(payloads))

    bus.ensure_group(INGEST_STREAM)
    bus.publish(INGEST_STREAM, [{"workspace_id": 1, "raw_ids": [i]} for i in range(40)])
    worker = Recording(Pipeline(session_factory), bus, sweep_every=3600, batch=32)
    worker.run(max_seconds=1.0, block_ms=50)
    assert sizes == [2, 4, 8, 16, 10]
    assert worker.handled == 40 and bus.pending(INGEST_STREAM) == 0
