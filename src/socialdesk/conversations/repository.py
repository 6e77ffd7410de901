"""SQL for conversations, threads and messages: reads for the API, merges of cases, and what
replies, channel shifts and the outbox sender read and write."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from socialdesk.conversations.models import (
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    Thread,
)
from socialdesk.core.clock import as_utc, utcnow
from socialdesk.core.pagination import after_key
from socialdesk.core.work import Task, TaskAssignment, TaskStatus
from socialdesk.customers.models import Identity


def latest_inbound_message_id() -> Any:
    """The id of the latest inbound message of the task's conversation, as a scalar subquery
    correlated to ``Task``: looked up per task by the messages' conversation index, a plan
    that does not turn into a scan of every message."""
    return (
        select(func.max(Message.id))
        .where(
            Message.conversation_id == Task.conversation_id,
            Message.direction == Direction.INBOUND,
        )
        .correlate(Task)
        .scalar_subquery()
    )


def get_conversation(
    session: Session, workspace_id: int, conversation_id: int
) -> Conversation | None:
    return session.scalars(
        select(Conversation).where(
            Conversation.workspace_id == workspace_id, Conversation.id == conversation_id
        )
    ).one_or_none()


def list_conversations(
    session: Session,
    workspace_id: int,
    *,
    status: str | None = None,
    channel: str | None = None,
    customer_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
    after: Sequence[Any] | None = None,
) -> tuple[list[Conversation], int]:
    """A page, newest activity first; ``after`` is the (last_message_at, id) of the row the
    page follows (a cursor), else ``offset`` rows are skipped."""
    stmt = select(Conversation).where(
        Conversation.workspace_id == workspace_id, Conversation.merged_into_id.is_(None)
    )
    if status:
        stmt = stmt.where(Conversation.status == status)
    if channel:
        stmt = stmt.where(Conversation.channel == channel)
    if customer_id is not None:
        stmt = stmt.where(Conversation.customer_id == customer_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order = (Conversation.last_message_at, Conversation.id)
    if after is not None:
        stmt = stmt.where(after_key(order, after, descending=True))
    rows = session.scalars(
        stmt.order_by(*(c.desc() for c in order)).limit(limit).offset(offset)
    ).all()
    return list(rows), total


def list_messages(
    session: Session,
    workspace_id: int,
    *,
    conversation_id: int | None = None,
    channel: str | None = None,
    direction: str | None = None,
    limit: int = 50,
    offset: int = 0,
    after: Sequence[Any] | None = None,
) -> tuple[list[Message], int]:
    """A page: a case's messages oldest first, else the newest first; ``after`` is the
    (created_at, id) of the row the page follows (a cursor), else ``offset`` rows are
    skipped."""
    stmt = select(Message).where(Message.workspace_id == workspace_id)
    if conversation_id is not None:
        stmt = stmt.where(Message.conversation_id == conversation_id)
    if channel:
        stmt = stmt.where(Message.channel == channel)
    if direction:
        stmt = stmt.where(Message.direction == direction)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    oldest_first = conversation_id is not None
    columns = (Message.created_at, Message.id)
    if after is not None:
        stmt = stmt.where(after_key(columns, after, descending=not oldest_first))
    order = columns if oldest_first else tuple(c.desc() for c in columns)
    rows = session.scalars(stmt.order_by(*order).limit(limit).offset(offset)).all()
    return list(rows), total


def threads_of(session: Session, conversation_id: int) -> Sequence[Thread]:
    return session.scalars(
        select(Thread).where(Thread.conversation_id == conversation_id).order_by(Thread.id)
    ).all()


def merge_conversations(session: Session, source_id: int, target_id: int) -> None:
    """Fold case ``source_id`` into ``target_id``: its threads, messages and open work move.

    The source stays as a resolved shell pointing at the target, so that anything that
    referred to it can still follow the link.
    """
    session.execute(
        update(Thread).where(Thread.conversation_id == source_id).values(conversation_id=target_id)
    )
    session.execute(
        update(Message)
        .where(Message.conversation_id == source_id)
        .values(conversation_id=target_id)
    )
    source_task = session.scalars(select(Task).where(Task.conversation_id == source_id)).first()
    target_task = session.scalars(select(Task).where(Task.conversation_id == target_id)).first()
    if source_task is not None:
        if target_task is None:
            source_task.conversation_id = target_id
        else:
            if source_task.status in TaskStatus.ACTIVE:
                if target_task.status not in TaskStatus.ACTIVE:
                    target_task.status = TaskStatus.OPEN
                    target_task.waiting_since = source_task.waiting_since
                else:
                    target_task.waiting_since = min(
                        target_task.waiting_since, source_task.waiting_since
                    )
            source_task.status = TaskStatus.DONE
            source_task.assignee_id = None
            end_assignments(session, source_task.id, utcnow(), "merged")
    session.flush()
    recount_conversation(session, target_id)
    source = session.get(Conversation, source_id)
    if source is not None:
        source.merged_into_id = target_id
        source.status = ConversationStatus.RESOLVED
        source.message_count = 0
        source.resolved_at = utcnow()
    session.flush()


def end_assignments(session: Session, task_id: int, now: datetime, reason: str) -> None:
    """Close whatever holding of the task is still open: the case left the agent's hands."""
    session.execute(
        update(TaskAssignment)
        .where(TaskAssignment.task_id == task_id, TaskAssignment.released_at.is_(None))
        .values(released_at=now, release_reason=reason)
        .execution_options(synchronize_session=False)
    )


def recount_conversation(session: Session, conversation_id: int) -> None:
    stats = session.execute(
        select(
            func.count(Message.id),
            func.min(Message.created_at),
            func.max(Message.created_at),
        ).where(Message.conversation_id == conversation_id)
    ).one()
    last_in = session.scalar(
        select(func.max(Message.created_at)).where(
            Message.conversation_id == conversation_id, Message.direction == "inbound"
        )
    )
    last_out = session.scalar(
        select(func.max(Message.created_at)).where(
            Message.conversation_id == conversation_id, Message.direction == "outbound"
        )
    )
    conv = session.get(Conversation, conversation_id)
    if conv is None:
        return
    count, first, last = stats
    conv.message_count = int(count)
    if first is not None:
        conv.first_message_at = first
        conv.last_message_at = last
    conv.last_inbound_at = last_in
    conv.last_outbound_at = last_out


def latest_message_at(session: Session, workspace_id: int) -> datetime | None:
    """When the workspace's newest message was written (None without any)."""
    value = session.scalar(
        select(func.max(Message.created_at)).where(Message.workspace_id == workspace_id)
    )
    return None if value is None else as_utc(value)


def latest_inbound_in_thread(session: Session, thread_id: int) -> Message | None:
    """The customer's newest message of a thread: it opens the platform's reply window."""
    return session.scalars(
        select(Message)
        .where(Message.thread_id == thread_id, Message.direction == Direction.INBOUND)
        .order_by(Message.created_at.desc(), Message.id.desc())
    ).first()


# -- read and written by replies, channel shifts and the outbox sender -------------------


def get_message(session: Session, workspace_id: int, message_id: int) -> Message | None:
    message = session.get(Message, message_id)
    if message is None or message.workspace_id != workspace_id:
        return None
    return message


def get_thread(session: Session, thread_id: int) -> Thread | None:
    return session.get(Thread, thread_id)


def get_thread_by_key(session: Session, workspace_id: int, channel: str, key: str) -> Thread | None:
    return session.scalars(
        select(Thread).where(
            Thread.workspace_id == workspace_id, Thread.channel == channel, Thread.key == key
        )
    ).first()


def add_thread(session: Session, thread: Thread) -> Thread:
    session.add(thread)
    session.flush()
    return thread


def latest_inbound_message(
    session: Session, workspace_id: int, conversation_id: int, channel: str | None = None
) -> Message | None:
    query = select(Message).where(
        Message.workspace_id == workspace_id,
        Message.conversation_id == conversation_id,
        Message.direction == Direction.INBOUND,
    )
    if channel is not None:
        query = query.where(Message.channel == channel)
    return session.scalars(query.order_by(Message.created_at.desc(), Message.id.desc())).first()


def messages_of_thread(session: Session, thread_id: int) -> Sequence[Message]:
    return session.scalars(
        select(Message).where(Message.thread_id == thread_id).order_by(Message.created_at)
    ).all()


def get_identity(session: Session, identity_id: int | None) -> Identity | None:
    return None if identity_id is None else session.get(Identity, identity_id)


def message_exists(session: Session, workspace_id: int, channel: str, external_id: str) -> bool:
    found = session.scalar(
        select(Message.id).where(
            Message.workspace_id == workspace_id,
            Message.channel == channel,
            Message.external_id == external_id,
        )
    )
    return found is not None


def get_task_for_conversation(session: Session, conversation_id: int) -> Task | None:
    return session.scalars(select(Task).where(Task.conversation_id == conversation_id)).first()


def add_message(session: Session, message: Message) -> Message:
    session.add(message)
    session.flush()
    return message


def set_message_external_id(session: Session, message_id: int, external_id: str) -> None:
    session.execute(update(Message).where(Message.id == message_id).values(external_id=external_id))


def inbound_in_thread_since(session: Session, thread_id: int, since: datetime) -> bool:
    found = session.scalar(
        select(Message.id).where(
            Message.thread_id == thread_id,
            Message.direction == Direction.INBOUND,
            Message.created_at >= since,
        )
    )
    return found is not None


def conversations_of_tasks(session: Session, task_ids: Sequence[int]) -> list[int]:
    """The conversation of each task (read as plain ids, no task loaded)."""
    if not task_ids:
        return []
    return list(session.scalars(select(Task.conversation_id).where(Task.id.in_(list(task_ids)))))


def tasks_by_id(session: Session, task_ids: Sequence[int]) -> Sequence[Task]:
    if not task_ids:
        return []
    return session.scalars(select(Task).where(Task.id.in_(list(task_ids)))).all()


def last_inbound_author(
    session: Session, workspace_id: int, conversation_id: int
) -> Identity | None:
    """Who wrote the case's latest inbound message that names its author."""
    identity_id = session.scalar(
        select(Message.author_identity_id)
        .where(
            Message.workspace_id == workspace_id,
            Message.conversation_id == conversation_id,
            Message.direction == Direction.INBOUND,
            Message.author_identity_id.is_not(None),
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    return get_identity(session, identity_id)
