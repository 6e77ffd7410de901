"""Several processes' worth of ingestion at once: every event once, every author once."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.inbox import RawEvent
from socialdesk.conversations.models import Conversation, Message
from socialdesk.core.models import Workspace
from socialdesk.customers.models import Identity
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
