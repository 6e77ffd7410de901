"""Several processes' worth of ingestion at once: every event once, every author once."""

from __future__ import annotations

import logging
import threading

from pytest import LogCaptureFixture
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.events import InboundEvent
from socialdesk.channels.inbox import RawEvent
from socialdesk.conversations.models import Conversation, Message
from socialdesk.core.db import make_session_factory
from socialdesk.core.models import Workspace
from socialdesk.customers.models import Identity
from socialdesk.ingest.batch_state import ProcessResult
from socialdesk.ingest.pipeline import Pipeline
from tests.ingest.factories import event

WRITERS = 4


def overlapping_traffic(writer: int) -> list:  # type: ignore[type-arg]
    """Each writer sees the same 40 chains (posts and replies by 20 authors), in its own order,
    as when webhooks and polling deliver the same posts to several processes."""
    events = []
    for chain in range(40):
        author = f"author-{chain % 20}"
        events.append(event(f"p{chain}", author, minutes=chain))
        events.append(event(f"r{chain}", author, minutes=chain + 0.5, reply_to=f"p{chain}"))
    return events[writer::1] if writer % 2 == 0 else list(reversed(events))


def test_concurrent_writers_store_each_event_once_and_keep_chains_whole(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def write(writer: int) -> None:
        try:
            pipeline = Pipeline(session_factory, batch_size=10)
            start.wait()
            pipeline.ingest(workspace.id, overlapping_traffic(writer))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    Pipeline(session_factory).process_pending(workspace.id)  # anything left waiting

    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(RawEvent)) == 80
        assert s.scalar(select(func.count()).select_from(Message)) == 80
        assert s.scalar(select(func.count()).select_from(Identity)) == 20
        assert s.scalar(select(func.count()).where(RawEvent.status != "processed")) == 0
        case_of = dict(s.execute(select(Message.external_id, Message.conversation_id)).all())
        live = s.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.merged_into_id.is_(None))
        )
    assert all(case_of[f"p{c}"] == case_of[f"r{c}"] for c in range(40))
    assert live == 40


def test_workers_meeting_the_same_new_authors_never_collide(
    pg_engine: Engine, caplog: LogCaptureFixture
) -> None:
    """Distinct events by the same 60 new authors, processed by 4 workers at once: nobody
    falls back to one-by-one processing over a duplicate identity. (Workers of scale mode
    run on PostgreSQL; embedded mode has one process.)"""
    caplog.set_level(logging.ERROR, logger="socialdesk.ingest.pipeline")
    session_factory = make_session_factory(pg_engine)
    with session_factory() as s:
        workspace = Workspace(slug="acme", name="Acme")
        s.add(workspace)
        s.commit()
    pipeline = Pipeline(session_factory)
    batches = [
        [event(f"w{w}-{i}", f"new-author-{i}", minutes=i) for i in range(60)]
        for w in range(WRITERS)
    ]
    stored = [pipeline.accept(workspace.id, batch).stored for batch in batches]
    start = threading.Barrier(WRITERS)
    results: list[ProcessResult] = []

    def work(items: list[tuple[int, InboundEvent]]) -> None:
        start.wait()
        results.append(Pipeline(session_factory).process_events(workspace.id, items))

    threads = [threading.Thread(target=work, args=(items,)) for items in stored]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sum(r.processed for r in results) == 60 * WRITERS
    assert sum(r.failed for r in results) == 0
    assert "one by one" not in caplog.text
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Identity)) == 60
