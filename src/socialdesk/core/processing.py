"""The seams where triage, priority and routing plug into message processing.

Processing one batch of raw events runs, in one transaction: ``read_ahead`` (before any
write or lock) -> normalize -> thread -> resolve identity -> ``triage`` -> open/reopen tasks ->
``on_tasks_changed`` (scoring, SLA) -> commit -> ``after_commit`` (distribution, live push).
Each hook is optional, so the foundation works alone and each domain lights up as it lands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy.orm import Session

RouteTo = Literal["care", "marketing", "sales", "none"]


@dataclass(frozen=True, slots=True)
class ProcessedMessage:
    """An inbound message just stored by the pipeline, as the hooks see it."""

    message_id: int
    conversation_id: int
    customer_id: int | None
    channel: str
    visibility: str
    text: str
    created_at: datetime
    author_followers: int
    author_verified: bool


@dataclass(frozen=True, slots=True)
class TriageVerdict:
    """What processing needs from triage to decide on the task."""

    needs_response: bool
    route_to: RouteTo = "care"


class TriageHook(Protocol):
    def __call__(
        self, session: Session, workspace_id: int, messages: Sequence[ProcessedMessage]
    ) -> Mapping[int, TriageVerdict]:
        """Classify and store results; return a verdict per message id."""
        ...


class ReadAheadHook(Protocol):
    def __call__(self, session: Session, workspace_id: int, texts: Sequence[str]) -> None:
        """First in the batch's transaction, before it writes or locks anything: the
        CPU-heavy reading of the texts of its inbound messages (triage), remembered for the
        stage further on. Whatever the transaction locks (new authors, claimed handles, rows
        of tasks) is then held for its writes only, not while texts are read, so a worker
        whose batch meets the same rows waits that much less."""
        ...


class TasksChangedHook(Protocol):
    def __call__(self, session: Session, workspace_id: int, task_ids: Sequence[int]) -> None:
        """Runs inside the processing transaction for tasks opened or reopened."""
        ...


class AfterCommitHook(Protocol):
    def __call__(self, workspace_id: int, task_ids: Sequence[int]) -> None:
        """Runs after the transaction committed (side effects leave only then)."""
        ...


@dataclass
class PipelineHooks:
    triage: TriageHook | None = None
    read_ahead: list[ReadAheadHook] = field(default_factory=list)
    on_tasks_changed: list[TasksChangedHook] = field(default_factory=list)
    after_commit: list[AfterCommitHook] = field(default_factory=list)
