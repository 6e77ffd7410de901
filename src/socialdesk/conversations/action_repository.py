"""All SQL of the agents' case actions (notes, notifications, snoozes, history, task moves)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from socialdesk.conversations.action_models import CaseEvent, Note, Notification, Snooze
from socialdesk.conversations.models import Conversation
from socialdesk.core.pagination import after_key
from socialdesk.core.work import Task
from socialdesk.people.models import User


def conversation(session: Session, workspace_id: int, conversation_id: int) -> Conversation | None:
    return session.scalars(
        select(Conversation).where(
            Conversation.workspace_id == workspace_id, Conversation.id == conversation_id
        )
    ).first()


def task_for(session: Session, workspace_id: int, conversation_id: int) -> Task | None:
    return session.scalars(
        select(Task).where(
            Task.workspace_id == workspace_id, Task.conversation_id == conversation_id
        )
    ).first()


def users_by_handles(session: Session, workspace_id: int, handles: Sequence[str]) -> list[User]:
    if not handles:
        return []
    wanted = {h.lower() for h in handles}
    users = session.scalars(
        select(User).where(User.workspace_id == workspace_id, User.is_active.is_(True))
    )
    return [u for u in users if u.email.split("@", 1)[0].lower() in wanted]


def add(session: Session, *rows: Note | Notification | Snooze | CaseEvent) -> None:
    session.add_all(rows)
    session.flush()


def snooze_for(session: Session, workspace_id: int, conversation_id: int) -> Snooze | None:
    return session.scalars(
        select(Snooze).where(
            Snooze.workspace_id == workspace_id, Snooze.conversation_id == conversation_id
        )
    ).first()


def clear_snooze(session: Session, workspace_id: int, conversation_id: int) -> None:
    session.execute(
        delete(Snooze).where(
            Snooze.workspace_id == workspace_id, Snooze.conversation_id == conversation_id
        )
    )


def notes_of(session: Session, workspace_id: int, conversation_id: int) -> list[Note]:
    return list(
        session.scalars(
            select(Note)
            .where(Note.workspace_id == workspace_id, Note.conversation_id == conversation_id)
            .order_by(Note.created_at, Note.id)
        )
    )


def events_of(session: Session, workspace_id: int, conversation_id: int) -> list[CaseEvent]:
    return list(
        session.scalars(
            select(CaseEvent)
            .where(
                CaseEvent.workspace_id == workspace_id,
                CaseEvent.conversation_id == conversation_id,
            )
            .order_by(CaseEvent.created_at, CaseEvent.id)
        )
    )


def unread_notifications(session: Session, workspace_id: int, user_id: int) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(
                Notification.workspace_id == workspace_id,
                Notification.user_id == user_id,
                Notification.read_at.is_(None),
            )
            .order_by(Notification.created_at.desc())
            .limit(50)
        )
    )


def notifications_of(
    session: Session,
    workspace_id: int,
    user_id: int,
    *,
    unread_only: bool,
    limit: int,
    after: Sequence[Any] | None = None,
) -> tuple[list[Notification], int]:
    """A person's notifications, newest first, and how many there are; ``after`` is the
    (created_at, id) of the one a page follows."""
    query = select(Notification).where(
        Notification.workspace_id == workspace_id, Notification.user_id == user_id
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = (Notification.created_at, Notification.id)
    if after is not None:
        query = query.where(after_key(order, after, descending=True))
    rows = session.scalars(query.order_by(*(c.desc() for c in order)).limit(limit))
    return list(rows), total


def mark_notifications_read(
    session: Session, workspace_id: int, user_id: int, now: datetime
) -> None:
    session.execute(
        update(Notification)
        .where(
            Notification.workspace_id == workspace_id,
            Notification.user_id == user_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )


def count_events(session: Session, workspace_id: int, kind: str, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(
                CaseEvent.workspace_id == workspace_id,
                CaseEvent.kind == kind,
                CaseEvent.created_at >= since,
            )
        )
        or 0
    )
