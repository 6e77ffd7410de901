"""Embedded mode's drain: each round takes all that waits (up to a cap), once each."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.inbox import RawEvent
from socialdesk.conversations.models import Message
from socialdesk.core.models import Workspace
from socialdesk.ingest.dispatch import ProcessingDispatcher
from socialdesk.ingest.drain import EmbeddedDrain, chunk_size
from socialdesk.ingest.pipeline import Pipeline
from tests.ingest.factories import event


def test_a_round_takes_all_that_waits_up_to_the_cap() -> None:
    assert chunk_size(0, 500) == 0
    assert chunk_size(1, 500) == 1  # a quiet system does not wait to fill a round
    assert chunk_size(25, 500) == 25
    assert chunk_size(499, 500) == 499
    assert chunk_size(500, 500) == 500
    assert chunk_size(12_000, 500) == 500
    with pytest.raises(ValueError, match="cap"):
        chunk_size(10, 0)


class _Gate:
    """An after-commit hook that holds the drain's thread after its first round, as a long
    round would, while more events arrive."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.rounds: list[int] = []

    def __call__(self, workspace_id: int, task_ids: Sequence[int]) -> None:
        self.rounds.append(workspace_id)
        self.entered.set()
        assert self.release.wait(10)


def _requests(pipeline: Pipeline, workspace_id: int, first: int, count: int) -> list[int]:
    """``count`` API pushes of 5 events each, stored and committed: their raw ids."""
    ids: list[int] = []
    for r in range(first, first + count):
        events = [event(f"{r}-{i}", author=f"u{r}-{i}", text="my router is down") for i in range(5)]
        ids.extend(pipeline.accept(workspace_id, events).accepted)
    return ids


def _stored(session_factory: sessionmaker[Session]) -> tuple[int, int, int]:
    with session_factory() as s:
        messages = s.scalar(select(func.count()).select_from(Message)) or 0
        distinct = s.scalar(select(func.count(func.distinct(Message.raw_event_id)))) or 0
        pending = (
            s.scalar(select(func.count()).select_from(RawEvent).where(RawEvent.status == "pending"))
            or 0
        )
    return messages, distinct, pending


def test_a_backlog_is_taken_in_bigger_rounds_and_each_event_processed_once(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    pipeline = Pipeline(session_factory)
    gate = _Gate()
    pipeline.hooks.after_commit.append(gate)
    drain = EmbeddedDrain(pipeline, cap=20)
    dispatcher = ProcessingDispatcher(pipeline, drain=drain)
    try:
        dispatcher.dispatch(workspace.id, _requests(pipeline, workspace.id, 0, 1))
        assert gate.entered.wait(10)  # the first round (5 events) is committed and held
        # Nine more pushes arrive while it is busy: 45 events wait.
        for r in range(1, 10):
            dispatcher.dispatch(workspace.id, _requests(pipeline, workspace.id, r, 1))
        assert drain.waiting() == 45
        gate.release.set()
        assert drain.wait_idle(30)
    finally:
        gate.release.set()
        drain.stop()
    # Not nine rounds of 5: the waiting 45 went in rounds as big as the cap allows.
    assert drain.stats.rounds == 1 + 3
    assert drain.stats.largest == 20
    assert drain.stats.events == 50 and drain.stats.processed == 50
    assert _stored(session_factory) == (50, 50, 0)


def test_at_a_low_rate_each_push_is_processed_at_once_in_a_round_of_its_own(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    pipeline = Pipeline(session_factory)
    drain = EmbeddedDrain(pipeline)
    dispatcher = ProcessingDispatcher(pipeline, drain=drain)
    try:
        for r in range(3):
            dispatcher.dispatch(workspace.id, _requests(pipeline, workspace.id, r, 1))
            assert drain.wait_idle(30)
            assert _stored(session_factory) == (5 * (r + 1), 5 * (r + 1), 0)
    finally:
        drain.stop()
    assert (drain.stats.rounds, drain.stats.largest) == (3, 5)


def test_events_processed_meanwhile_elsewhere_are_not_processed_again(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    pipeline = Pipeline(session_factory)
    ids = _requests(pipeline, workspace.id, 0, 2)
    pipeline.process_pending(workspace.id, ids[:5])  # say, `socialdesk events retry`
    drain = EmbeddedDrain(pipeline)
    try:
        drain.put(workspace.id, ids)
        assert drain.wait_idle(30)
    finally:
        drain.stop()
    assert drain.stats.processed == 5  # only the five still pending
    assert _stored(session_factory) == (10, 10, 0)


def test_a_drain_refuses_a_cap_below_one(session_factory: sessionmaker[Session]) -> None:
    with pytest.raises(ValueError, match="cap"):
        EmbeddedDrain(Pipeline(session_factory), cap=0)


def test_a_start_resumes_every_event_a_stopped_process_left_pending(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        other = Workspace(slug="other", name="Other brand")
        s.add(other)
        s.commit()
        other_id = other.id
    pipeline = Pipeline(session_factory)
    # Accepted and committed, but the process stopped before their rounds: still pending.
    left = _requests(pipeline, workspace.id, 0, 3) + _requests(pipeline, other_id, 3, 2)
    pipeline.process_pending(workspace.id, left[:5])  # one round had committed
    assert _stored(session_factory) == (5, 5, 20)

    drain = EmbeddedDrain(pipeline)
    try:
        assert drain.resume_pending(page=7) == 20  # three pages, two workspaces
        assert drain.wait_idle(30)
        assert drain.resume_pending() == 0  # nothing left to resume
    finally:
        drain.stop()
    assert drain.stats.processed == 20
    assert _stored(session_factory) == (25, 25, 0)
