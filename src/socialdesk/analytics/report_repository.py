"""All SQL behind business reports and exports: one workspace, one range, read in chunks.

Every read here streams (``yield_per``: a server-side cursor on PostgreSQL, the driver's
lazy cursor on SQLite), so a year of data is never held in memory at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, Row, case, cast, func, select
from sqlalchemy.orm import Session

from socialdesk.channels.models import ChannelShift, KbLink, OutboxItem
from socialdesk.conversations.models import Conversation, Direction, Message
from socialdesk.core.work import Task, TaskAssignment
from socialdesk.customers.models import Identity
from socialdesk.people.models import Team, User
from socialdesk.triage.models import TriageResultRow

CHUNK = 1000


def team_names(session: Session, workspace_id: int) -> dict[int, str]:
    rows = session.execute(select(Team.id, Team.name).where(Team.workspace_id == workspace_id))
    return {int(r[0]): str(r[1]) for r in rows}


def user_names(session: Session, workspace_id: int) -> dict[int, str]:
    rows = session.execute(select(User.id, User.name).where(User.workspace_id == workspace_id))
    return {int(r[0]): str(r[1]) for r in rows}


def _stream(session: Session, query: Any) -> Iterator[Row[Any]]:
    yield from session.execute(query.execution_options(yield_per=CHUNK))


SLOT_SECONDS = 900  # every time zone's offset is a whole number of quarter hours


def _slot(session: Session) -> Any:
    """The quarter hour (seconds since 1970 divided by 900) a message was written in."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(
            func.floor(func.extract("epoch", Message.created_at) / SLOT_SECONDS), BigInteger
        )
    return cast(func.strftime("%s", Message.created_at), Integer) // SLOT_SECONDS


def message_groups(
    session: Session, workspace_id: int, start: datetime, end: datetime
) -> Iterator[Row[Any]]:
    """How many messages were written in ``[start, end)``, per quarter hour and per what the
    report groups them by: the message's triage, its case's task and, for our answers, the
    agent who wrote them. Counting happens in the database."""
    slot = _slot(session).label("slot")
    has_task = case((Task.id.is_(None), 0), else_=1).label("has_task")
    keys = (
        slot,
        Message.direction,
        Message.channel,
        TriageResultRow.kind,
        TriageResultRow.topic,
        has_task,
        Task.kind.label("task_kind"),
        Task.topic.label("task_topic"),
        Task.team_id,
        Task.assignee_id,
        Task.last_agent_id,
        OutboxItem.author_user_id,
    )
    query = (
        select(*keys, func.count().label("n"))
        .outerjoin(TriageResultRow, TriageResultRow.message_id == Message.id)
        .outerjoin(Task, Task.conversation_id == Message.conversation_id)
        .outerjoin(OutboxItem, OutboxItem.message_id == Message.id)
        .where(
            Message.workspace_id == workspace_id,
            Message.created_at >= start,
            Message.created_at < end,
        )
        .group_by(*keys)
    )
    return _stream(session, query)


CASE_COLUMNS = (
    Conversation.id,
    Conversation.channel,
    Conversation.status,
    Conversation.customer_id,
    Conversation.subject,
    Conversation.message_count,
    Conversation.first_message_at,
    Conversation.last_message_at,
    Conversation.resolved_at,
    Task.id.label("task_id"),
    Task.status.label("task_status"),
    Task.queue,
    Task.team_id,
    Task.assignee_id,
    Task.last_agent_id,
    Task.kind,
    Task.topic,
    Task.language,
    Task.value_score,
    Task.waiting_since,
    Task.first_response_at,
    Task.due_at,
    Task.sla_target_seconds,
    Task.sla_state,
    Task.breached_at,
    Task.breach_count,
    Task.reopen_count,
)


def cases_in_range(
    session: Session, workspace_id: int, start: datetime, end: datetime, *, with_task: bool
) -> Iterator[Row[Any]]:
    """Cases whose first message falls in ``[start, end)`` (folded cases left out: their
    messages were moved into another), with their task; by id."""
    query = select(*CASE_COLUMNS).where(
        Conversation.workspace_id == workspace_id,
        Conversation.first_message_at >= start,
        Conversation.first_message_at < end,
        Conversation.merged_into_id.is_(None),
    )
    if with_task:
        query = query.join(Task, Task.conversation_id == Conversation.id)
    else:
        query = query.outerjoin(Task, Task.conversation_id == Conversation.id)
    return _stream(session, query.order_by(Conversation.id))


def message_order(
    session: Session, conversation_ids: Sequence[int]
) -> dict[int, list[tuple[bool, datetime, float | None]]]:
    """Each case's messages as (inbound, at, triage's sentiment score) in time order."""
    out: dict[int, list[tuple[bool, datetime, float | None]]] = {
        cid: [] for cid in conversation_ids
    }
    if not conversation_ids:
        return out
    rows = session.execute(
        select(
            Message.conversation_id,
            Message.direction,
            Message.created_at,
            TriageResultRow.sentiment_score,
        )
        .outerjoin(TriageResultRow, TriageResultRow.message_id == Message.id)
        .where(Message.conversation_id.in_(conversation_ids))
        .order_by(Message.conversation_id, Message.created_at, Message.id)
    )
    for cid, direction, at, score in rows:
        out[int(cid)].append((direction == Direction.INBOUND, at, score))
    return out


def first_assignments(session: Session, task_ids: Sequence[int]) -> dict[int, datetime]:
    """When each task was first handed to an agent."""
    if not task_ids:
        return {}
    rows = session.execute(
        select(TaskAssignment.task_id, func.min(TaskAssignment.assigned_at))
        .where(TaskAssignment.task_id.in_(task_ids))
        .group_by(TaskAssignment.task_id)
    )
    return {int(task_id): at for task_id, at in rows if at is not None}


def shifts_and_links(
    session: Session, conversation_ids: Sequence[int]
) -> dict[int, tuple[int, int, int]]:
    """Per case: channel shifts, knowledge-base links sent, and of them links opened."""
    out: dict[int, list[int]] = {}
    if not conversation_ids:
        return {}
    for (cid,) in session.execute(
        select(ChannelShift.conversation_id).where(
            ChannelShift.conversation_id.in_(conversation_ids)
        )
    ):
        out.setdefault(int(cid), [0, 0, 0])[0] += 1
    for cid, clicks in session.execute(
        select(KbLink.conversation_id, KbLink.click_count).where(
            KbLink.conversation_id.in_(conversation_ids)
        )
    ):
        counts = out.setdefault(int(cid), [0, 0, 0])
        counts[1] += 1
        counts[2] += 1 if clicks else 0
    return {cid: (c[0], c[1], c[2]) for cid, c in out.items()}


def export_messages(
    session: Session, workspace_id: int, start: datetime, end: datetime
) -> Iterator[Row[Any]]:
    """Messages written in ``[start, end)`` with their author, triage and sending agent,
    in time order."""
    query = (
        select(
            Message.id,
            Message.conversation_id,
            Message.channel,
            Message.direction,
            Message.visibility,
            Message.created_at,
            Message.external_id,
            Identity.handle.label("author_handle"),
            OutboxItem.author_user_id,
            TriageResultRow.kind,
            TriageResultRow.topic,
            TriageResultRow.sentiment_label.label("sentiment"),
            TriageResultRow.sentiment_score,
            TriageResultRow.language,
            Message.text,
        )
        .outerjoin(Identity, Identity.id == Message.author_identity_id)
        .outerjoin(TriageResultRow, TriageResultRow.message_id == Message.id)
        .outerjoin(OutboxItem, OutboxItem.message_id == Message.id)
        .where(
            Message.workspace_id == workspace_id,
            Message.created_at >= start,
            Message.created_at < end,
        )
        .order_by(Message.created_at, Message.id)
    )
    return _stream(session, query)
