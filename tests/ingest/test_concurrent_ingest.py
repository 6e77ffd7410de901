"""Several processes' worth of ingestion at once: every event once, every author once."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from pytest import LogCaptureFixture, MonkeyPatch
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.events import InboundEvent
from socialdesk.channels.inbox import RawEvent
from socialdesk.conversations.models import Conversation, Message
from socialdesk.core.models import Workspace
from socialdesk.customers.models import Customer, Identity
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


def process_at_once(
    session_factory: sessionmaker[Session],
    workspace_id: int,
    stored: list[list[tuple[int, InboundEvent]]],
) -> list[ProcessResult]:
    """Each list of stored events processed by a worker of its own, all starting together."""
    start = threading.Barrier(len(stored), timeout=60)
    results: list[ProcessResult] = []

    def work(items: list[tuple[int, InboundEvent]]) -> None:
        start.wait()
        results.append(Pipeline(session_factory).process_events(workspace_id, items))

    threads = [threading.Thread(target=work, args=(items,)) for items in stored]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


def channel_workers(
    session_factory: sessionmaker[Session],
    workspace_id: int,
    people: int,
    channels: list[str],
    of: Callable[[str, int], InboundEvent],
) -> None:
    """Each channel's events of every person in a worker of its own, all at once; then each
    person must be one customer with an identity on every channel."""
    pipeline = Pipeline(session_factory)
    stored = [
        pipeline.accept(workspace_id, [of(channel, p) for p in range(people)]).stored
        for channel in channels
    ]
    results = process_at_once(session_factory, workspace_id, stored)
    assert sum(r.processed for r in results) == people * len(channels)
    assert sum(r.failed for r in results) == 0
    with session_factory() as s:
        customers = s.scalar(
            select(func.count()).select_from(Customer).where(Customer.merged_into_id.is_(None))
        )
        per_customer = s.execute(
            select(Identity.customer_id, func.count()).group_by(Identity.customer_id)
        ).all()
    assert customers == people
    assert sorted(n for _, n in per_customer) == [len(channels)] * people


def test_concurrent_writers_store_each_event_once_and_keep_chains_whole(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS, timeout=60)

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
    pg_factory: sessionmaker[Session], pg_workspace: int, caplog: LogCaptureFixture
) -> None:
    """Distinct events by the same 60 new authors, processed by 4 workers at once: nobody
    falls back to one-by-one processing over a duplicate identity. (Workers of scale mode
    run on PostgreSQL; embedded mode has one process.)"""
    caplog.set_level(logging.ERROR, logger="socialdesk.ingest.pipeline")
    pipeline = Pipeline(pg_factory)
    batches = [
        [event(f"w{w}-{i}", f"new-author-{i}", minutes=i) for i in range(60)]
        for w in range(WRITERS)
    ]
    stored = [pipeline.accept(pg_workspace, batch).stored for batch in batches]
    results = process_at_once(pg_factory, pg_workspace, stored)
    assert sum(r.processed for r in results) == 60 * WRITERS
    assert sum(r.failed for r in results) == 0
    assert "one by one" not in caplog.text
    with pg_factory() as s:
        assert s.scalar(select(func.count()).select_from(Identity)) == 60


def test_workers_meeting_one_person_on_several_channels_make_one_customer(
    pg_factory: sessionmaker[Session],
    pg_workspace: int,
) -> None:
    """30 people write at once on four channels (e-mail, and X, Facebook and Instagram
    profiles that carry the same address, in other letter cases), each channel's events in
    another worker. Every person ends up one customer with four identities: a worker creating
    a customer for an address waits for another doing the same, then finds it."""
    people = 30

    def of(channel: str, person: int) -> InboundEvent:
        address = f"person{person}@example.com"
        if channel == "email":
            return event(f"mail-{person}", address, channel="email", text="where is my order")
        return event(
            f"{channel}-{person}",
            f"{channel}-id-{person}",
            channel=channel,
            handle=f"{channel}_handle_{person}",
            text="where is my order",
            author_fields={"email": address.upper() if person % 2 else address},
        )

    channels = ["email", "x", "facebook", "instagram"]
    channel_workers(pg_factory, pg_workspace, people, channels, of)


def test_workers_meeting_one_handle_on_several_channels_make_one_customer(
    pg_factory: sessionmaker[Session],
    pg_workspace: int,
) -> None:
    """30 people write at once on X, Facebook and Instagram under the same handle (in other
    letter cases, with and without the @), each channel's events in another worker, with no
    address to go by. Every person ends up one customer with three identities: a worker
    creating a customer for a handle waits for another claiming the same, then finds its
    customer (without the claims: about 90 customers)."""
    people = 30
    channels = ["x", "facebook", "instagram"]

    def of(channel: str, person: int) -> InboundEvent:
        handle = f"Shopper_{person}" if channel == "x" else f"@shopper_{person}"
        return event(
            f"{channel}-{person}",
            f"{channel}-id-{person}",
            channel=channel,
            handle=handle.upper() if channel == "facebook" else handle,
            text="where is my order",
        )

    channel_workers(pg_factory, pg_workspace, people, channels, of)


def test_a_handle_claimed_by_an_open_transaction_waits_for_its_commit(
    pg_factory: sessionmaker[Session],
    pg_workspace: int,
) -> None:
    """The race step by step: one worker has created a customer for a new handle and not yet
    committed; another meets the same handle on another channel. It waits, and when the first
    commits it joins that customer instead of making a second."""
    pipeline = Pipeline(pg_factory)
    (first,) = pipeline.accept(
        pg_workspace, [event("x-1", "x-id", channel="x", handle="sam")]
    ).stored
    (second,) = pipeline.accept(
        pg_workspace, [event("ig-1", "ig-id", channel="instagram", handle="@Sam")]
    ).stored
    holder = pg_factory()
    pipeline.process_in(holder, pg_workspace, [first])  # flushed, not committed
    done = threading.Event()

    def other_worker() -> None:
        pipeline.process_events(pg_workspace, [second])
        done.set()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert not done.wait(1.0)  # it waits for the first worker's claim
    finally:
        holder.commit()
        holder.close()
    thread.join(timeout=60)
    assert done.is_set()
    with pg_factory() as s:
        owners = set(s.scalars(select(Identity.customer_id)))
        assert len(owners) == 1
        assert s.scalar(select(func.count()).select_from(Customer)) == 1


def test_a_worker_reading_texts_holds_no_lock_another_worker_needs(
    pg_factory: sessionmaker[Session], pg_workspace: int, monkeypatch: MonkeyPatch
) -> None:
    """Two workers meet the same new author. While the first is still reading its batch's
    texts (triage: the CPU-heavy part of a batch, seconds on a busy machine), the second
    processes its own batch to the end: the first has taken no lock on the new author yet.
    (With triage read inside the transaction, the second waited on the first's lock on the
    new author for all of that reading: the tail of accept-to-assigned with two workers.)
    Then the first finishes too, and the author is one identity."""
    from socialdesk.config import Settings
    from socialdesk.ingest.wiring import build_pipeline
    from socialdesk.triage import service

    mark = uuid.uuid4().hex  # texts never read before: no answer from the reading memory
    first_texts = {f"my order {mark} never came, please help"}
    reading, release = threading.Event(), threading.Event()
    from socialdesk.triage.classifier import read_texts as real_read
    from socialdesk.triage.classifier import triage_batch

    def held_read(texts: Any, models: Any) -> Any:
        if first_texts & set(texts):
            reading.set()
            assert release.wait(600)  # longer than the second worker is given below
        return real_read(texts, models)

    triage_batch(["warming up"])  # models loaded, as a worker does before it consumes
    monkeypatch.setattr(service, "read_texts", held_read)
    pipeline = build_pipeline(Settings(), pg_factory)
    (first,) = pipeline.accept(
        pg_workspace, [event("a-1", "new-author", text=next(iter(first_texts)))]
    ).stored
    (second,) = pipeline.accept(
        pg_workspace, [event("a-2", "new-author", minutes=1, text=f"still waiting {mark}")]
    ).stored
    results: list[ProcessResult] = []
    first_worker = threading.Thread(
        target=lambda: results.append(pipeline.process_events(pg_workspace, [first]))
    )
    first_worker.start()
    try:
        assert reading.wait(60)
        second_worker = threading.Thread(
            target=lambda: results.append(pipeline.process_events(pg_workspace, [second]))
        )
        second_worker.start()
        second_worker.join(timeout=90)  # seconds on a loaded machine; forever if it waits
        assert not second_worker.is_alive(), "the second worker waited for the first"
    finally:
        release.set()
        first_worker.join(timeout=60)
    assert sum(r.processed for r in results) == 2
    with pg_factory() as s:
        assert s.scalar(select(func.count()).select_from(Identity)) == 1
        assert s.scalar(select(func.count()).select_from(Message)) == 2
