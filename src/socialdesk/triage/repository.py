"""All of triage's SQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from socialdesk.conversations.models import Conversation, Direction, Message
from socialdesk.core.bulk import insert_returning_ids
from socialdesk.core.models import Workspace
from socialdesk.core.scoping import workspace_check
from socialdesk.triage.models import TriageLabelRow, TriageModelRow, TriageResultRow

RESULTS: Table = TriageResultRow.__table__  # type: ignore[assignment]

CHUNK = 500


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def workspace_settings(session: Session, workspace_id: int) -> dict[str, Any]:
    settings = session.scalar(select(Workspace.settings).where(Workspace.id == workspace_id))
    return dict(settings or {})


def set_workspace_settings(session: Session, workspace_id: int, settings: dict[str, Any]) -> None:
    session.execute(update(Workspace).where(Workspace.id == workspace_id).values(settings=settings))


# Results -----------------------------------------------------------------------------------


def replace_results(session: Session, workspace_id: int, rows: list[dict[str, Any]]) -> None:
    """Store results, replacing earlier ones of the same messages (reprocessing is safe)."""
    ids = [r["message_id"] for r in rows]
    for chunk in _chunks(ids):
        session.execute(
            delete(TriageResultRow).where(
                workspace_check(TriageResultRow.workspace_id, workspace_id),
                TriageResultRow.message_id.in_(chunk),
            )
        )
    # Through the driver's executemany: the ORM's insert costs more than triage itself here.
    insert_returning_ids(
        session,
        RESULTS,
        [{("sentiment" if k == "sentiment_label" else k): v for k, v in r.items()} for r in rows],
    )


def result_of_message(
    session: Session, workspace_id: int, message_id: int
) -> TriageResultRow | None:
    return session.scalars(
        select(TriageResultRow).where(
            TriageResultRow.workspace_id == workspace_id,
            TriageResultRow.message_id == message_id,
        )
    ).one_or_none()


def message_text(session: Session, workspace_id: int, message_id: int) -> str | None:
    return session.scalar(
        select(Message.text).where(Message.workspace_id == workspace_id, Message.id == message_id)
    )


def answered_conversations(
    session: Session, workspace_id: int, conversation_ids: set[int]
) -> set[int]:
    """Those of the conversations in which the brand has already written."""
    answered: set[int] = set()
    for chunk in _chunks(sorted(conversation_ids)):
        # By the messages' conversation index; the join keeps the workspace's wall.
        answered.update(
            session.scalars(
                select(Message.conversation_id)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(
                    Message.conversation_id.in_(chunk),
                    workspace_check(Conversation.workspace_id, workspace_id),
                    Message.direction == Direction.OUTBOUND,
                )
                .distinct()
            )
        )
    return answered


def earlier_inbound_times(
    session: Session,
    workspace_id: int,
    customer_ids: set[int],
    since: datetime,
    until: datetime,
    exclude_message_ids: set[int],
    latest_per_customer: int = 100,
) -> list[tuple[int, datetime]]:
    """(customer id, created_at) of the customers' inbound messages in a time window.

    Each customer gives at most its ``latest_per_customer`` messages, so one very busy
    author cannot crowd the others out of a batch, nor flood it with rows.
    """
    if not customer_ids:
        return []
    rows: list[tuple[int, datetime]] = []
    for chunk in _chunks(sorted(customer_ids)):
        # From the customers' conversations to their messages in the window, both by index;
        # scoping the messages themselves by workspace made SQLite walk every message.
        newest_first = (
            func.row_number()
            .over(partition_by=Conversation.customer_id, order_by=Message.created_at.desc())
            .label("newest_first")
        )
        windowed = (
            select(Conversation.customer_id, Message.created_at, newest_first)
            .select_from(Conversation)
            .join(Message, Message.conversation_id == Conversation.id)
            .where(
                Conversation.workspace_id == workspace_id,
                Conversation.customer_id.in_(chunk),
                Message.direction == Direction.INBOUND,
                Message.created_at >= since,
                Message.created_at < until,
            )
        )
        if exclude_message_ids:
            windowed = windowed.where(Message.id.not_in(sorted(exclude_message_ids)))
        recent = windowed.subquery()
        query = select(recent.c.customer_id, recent.c.created_at).where(
            recent.c.newest_first <= latest_per_customer
        )
        rows.extend((int(c), t) for c, t in session.execute(query) if c is not None)
    return rows


# Models ------------------------------------------------------------------------------------


def active_models(session: Session, workspace_id: int, tier: str) -> list[tuple[Any, ...]]:
    """(id, task, created_at, size) of the active models of a tier, without their weights."""
    return [
        (int(i), str(t), c, int(n or 0))
        for i, t, c, n in session.execute(
            select(
                TriageModelRow.id,
                TriageModelRow.task,
                TriageModelRow.created_at,
                func.length(TriageModelRow.blob),
            ).where(
                TriageModelRow.workspace_id == workspace_id,
                TriageModelRow.tier == tier,
                TriageModelRow.active.is_(True),
            )
        )
    ]


def model_by_id(session: Session, workspace_id: int, model_id: int) -> TriageModelRow | None:
    return session.scalars(
        select(TriageModelRow).where(
            TriageModelRow.workspace_id == workspace_id, TriageModelRow.id == model_id
        )
    ).one_or_none()


def models_of(session: Session, workspace_id: int, task: str | None = None) -> list[TriageModelRow]:
    query = select(TriageModelRow).where(TriageModelRow.workspace_id == workspace_id)
    if task is not None:
        query = query.where(TriageModelRow.task == task)
    return list(
        session.scalars(
            query.order_by(TriageModelRow.task, TriageModelRow.tier, TriageModelRow.version)
        )
    )


def next_version(session: Session, workspace_id: int, task: str, tier: str) -> int:
    current = session.scalar(
        select(func.max(TriageModelRow.version)).where(
            TriageModelRow.workspace_id == workspace_id,
            TriageModelRow.task == task,
            TriageModelRow.tier == tier,
        )
    )
    return int(current or 0) + 1


def add_model(session: Session, row: TriageModelRow) -> TriageModelRow:
    session.add(row)
    session.flush()
    return row


def deactivate(session: Session, workspace_id: int, task: str, tier: str) -> None:
    session.execute(
        update(TriageModelRow)
        .where(
            TriageModelRow.workspace_id == workspace_id,
            TriageModelRow.task == task,
            TriageModelRow.tier == tier,
        )
        .values(active=False)
    )


def latest_model_time(session: Session, workspace_id: int) -> datetime | None:
    return session.scalar(
        select(func.max(TriageModelRow.created_at)).where(
            TriageModelRow.workspace_id == workspace_id
        )
    )


# Labels ------------------------------------------------------------------------------------


def upsert_labels(session: Session, workspace_id: int, rows: list[dict[str, Any]]) -> int:
    """Insert labels, replacing those with the same (task, key); returns how many are new."""
    by_task: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_task.setdefault(row["task"], []).append(row)
    added = 0
    for task, task_rows in by_task.items():
        unique = {r["key"]: r for r in task_rows}
        keys = list(unique)
        existing: dict[str, int] = {}
        for chunk in _chunks(keys):
            existing.update(
                (str(k), int(i))
                for k, i in session.execute(
                    select(TriageLabelRow.key, TriageLabelRow.id).where(
                        TriageLabelRow.workspace_id == workspace_id,
                        TriageLabelRow.task == task,
                        TriageLabelRow.key.in_(chunk),
                    )
                )
            )
        new = [r | {"workspace_id": workspace_id} for k, r in unique.items() if k not in existing]
        if new:
            session.execute(insert(TriageLabelRow), new)
        for key, label_id in existing.items():
            row = unique[key]
            session.execute(
                update(TriageLabelRow)
                .where(TriageLabelRow.id == label_id)
                .values(
                    label=row["label"],
                    text=row["text"],
                    source=row["source"],
                    created_by=row.get("created_by"),
                    created_at=row["created_at"],
                )
            )
        added += len(new)
    return added


def labels_of(session: Session, workspace_id: int, task: str) -> list[TriageLabelRow]:
    return list(
        session.scalars(
            select(TriageLabelRow)
            .where(TriageLabelRow.workspace_id == workspace_id, TriageLabelRow.task == task)
            .order_by(TriageLabelRow.id)
        )
    )


def label_counts_since(
    session: Session, workspace_id: int, since: datetime | None
) -> dict[str, int]:
    query = select(TriageLabelRow.task, func.count()).where(
        TriageLabelRow.workspace_id == workspace_id
    )
    if since is not None:
        query = query.where(TriageLabelRow.created_at > since)
    return {str(t): int(n) for t, n in session.execute(query.group_by(TriageLabelRow.task))}
