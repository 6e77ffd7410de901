"""Scoring takes the triage results the batch has just stored from the triage hook, and they
give the same signals as reading the stored rows back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.events import InboundEvent
from socialdesk.conversations.models import Message
from socialdesk.core.models import Workspace
from socialdesk.core.processing import PipelineHooks
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.priority import service
from socialdesk.priority.service import HandedTriage, TriageSignals, stored_triage
from socialdesk.triage.hook import FastTriageHook

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TEXTS = [
    "my internet has been down all day and nobody can tell me why",
    "I will take you to court over this bill, third time I write",
    "thanks, all sorted!",
    "my internet has been down all day and nobody can tell me why",
    "😢😢",
    "where do I find my invoice?",
]


def post(n: int, text: str, author: str) -> InboundEvent:
    return InboundEvent.model_validate(
        {
            "channel": "x",
            "external_id": f"m{n}",
            "author": {"id": author, "handle": f"@{author}"},
            "text": text,
            "created_at": T0 + timedelta(minutes=n),
        }
    )


def test_handed_results_give_the_stored_signals_and_are_taken_once(
    session_factory: sessionmaker[Session], workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_back: list[int] = []

    def counted(
        session: Session, workspace_id: int, ids: Sequence[int]
    ) -> dict[int, TriageSignals]:
        read_back.append(len(ids))
        return stored_triage(session, workspace_id, ids)

    monkeypatch.setattr(service, "stored_triage", counted)
    hook = FastTriageHook()
    handed = HandedTriage(hook)
    seen: list[tuple[dict[int, TriageSignals], dict[int, TriageSignals], int]] = []

    def compare(session: Session, workspace_id: int, task_ids: Sequence[int]) -> None:
        ids = list(session.scalars(select(Message.id).where(Message.direction == "inbound")))
        got = dict(handed(session, workspace_id, ids))
        # Taken once: a second look finds nothing handed and reads every row back.
        taken = len(hook.take_results(session, workspace_id, ids))
        seen.append((got, stored_triage(session, workspace_id, ids), taken))

    hooks = PipelineHooks(triage=hook)
    hooks.on_tasks_changed.append(compare)
    pipeline = Pipeline(session_factory, hooks)
    pipeline.ingest(workspace.id, [post(n, t, f"u{n % 3}") for n, t in enumerate(TEXTS)])
    pipeline.ingest(workspace.id, [post(9, "still down, I am leaving you", "u0")])
    (first, first_stored, taken), (second, second_stored, _) = seen
    assert len(first) == len(TEXTS) and first == first_stored and taken == 0
    assert read_back == [0, len(TEXTS)]  # nothing read back of the batch triage handed over
    # The second batch's lookup mixes a handed result and rows from the first batch.
    assert len(second) == len(TEXTS) + 1 and second == second_stored
    assert any(s.urgency > 0 for s in first.values()) and len({s.kind for s in first.values()}) > 2


def test_results_of_another_workspace_are_never_handed(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    hook = FastTriageHook()
    got: list[int] = []

    def other(session: Session, workspace_id: int, task_ids: Sequence[int]) -> None:
        ids = list(session.scalars(select(Message.id)))
        got.append(len(hook.take_results(session, workspace_id + 1, ids)))

    hooks = PipelineHooks(triage=hook)
    hooks.on_tasks_changed.append(other)
    Pipeline(session_factory, hooks).ingest(workspace.id, [post(1, TEXTS[0], "u1")])
    assert got == [0]
