"""All SQL behind the supervisor dashboard; each query is scoped to one workspace."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, case, cast, func, select
from sqlalchemy.orm import Session

from socialdesk.conversations.models import Direction, Message
from socialdesk.core.work import Task, TaskStatus
from socialdesk.customers.models import Customer, Identity
from socialdesk.people.models import Team, User
from socialdesk.triage.models import TriageResultRow


def hour_of(session: Session, column: Any) -> Any:
    """The hour a UTC timestamp falls in, computed by the database (grouping stays in SQL)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("hour", func.timezone("UTC", column))
    return func.strftime("%Y-%m-%d %H:00:00", column)


def as_hour(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def minutes_between(session: Session, start: Any, end: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 60.0
    return (func.julianday(end) - func.julianday(start)) * 1440.0


def inbound_per_channel_hour(
    session: Session, workspace_id: int, since: datetime
) -> list[tuple[str, datetime, int]]:
    hour = hour_of(session, Message.created_at)
    rows = session.execute(
        select(Message.channel, hour.label("hour"), func.count())
        .where(
            Message.workspace_id == workspace_id,
            Message.direction == Direction.INBOUND,
            Message.created_at >= since,
        )
        .group_by(Message.channel, hour)
    ).all()
    out: list[tuple[str, datetime, int]] = []
    for channel, h, count in rows:
        out.append((channel, as_hour(h), int(count)))
    return out


def service_level_groups(
    session: Session, workspace_id: int, since: datetime, now: datetime
) -> list[tuple[str, int | None, str, int, int, int, int]]:
    """Per (channel, team, queue) of recent tasks: total, answered, decided, within target.

    Decided: answered, or past due unanswered; within: answered by the due time (or answered
    with no target at all).
    """
    # A reopened task waits again from the customer's new message; its stored first answer
    # is older than that wait and does not answer it.
    answered = Task.first_response_at.is_not(None) & (Task.first_response_at >= Task.waiting_since)
    decided = case((answered | (Task.due_at <= now), 1), else_=0)
    within = case(
        (answered & (Task.due_at.is_(None) | (Task.first_response_at <= Task.due_at)), 1),
        else_=0,
    )
    rows = session.execute(
        select(
            Task.channel,
            Task.team_id,
            Task.queue,
            func.count(),
            func.sum(case((answered, 1), else_=0)),
            func.sum(decided),
            func.sum(within),
        )
        .where(Task.workspace_id == workspace_id, Task.waiting_since >= since)
        .group_by(Task.channel, Task.team_id, Task.queue)
    ).all()
    return [
        (r[0], r[1], r[2], int(r[3]), int(r[4] or 0), int(r[5] or 0), int(r[6] or 0)) for r in rows
    ]


def first_response_minutes(session: Session, workspace_id: int, since: datetime) -> list[float]:
    """Minutes to the first answer of tasks that started waiting in the window. A reopened
    task waits again from the customer's new message while its first answer stays the old
    one: it has no first response in the window and is left out (not counted as negative)."""
    minutes = cast(minutes_between(session, Task.waiting_since, Task.first_response_at), Float)
    return [
        float(m)
        for m in session.scalars(
            select(minutes).where(
                Task.workspace_id == workspace_id,
                Task.waiting_since >= since,
                Task.first_response_at.is_not(None),
                Task.first_response_at >= Task.waiting_since,
            )
        )
        if m is not None
    ]


def queue_summary(
    session: Session, workspace_id: int
) -> list[tuple[str, int, int, datetime | None]]:
    """Per list of open work: depth, unassigned, and the oldest waiting time."""
    rows = session.execute(
        select(
            Task.queue,
            func.count(),
            func.sum(case((Task.assignee_id.is_(None), 1), else_=0)),
            func.min(Task.waiting_since),
        )
        .where(Task.workspace_id == workspace_id, Task.status.in_(TaskStatus.ACTIVE))
        .group_by(Task.queue)
    ).all()
    return [(r[0], int(r[1]), int(r[2] or 0), r[3]) for r in rows]


def team_names(session: Session, workspace_id: int) -> dict[int, str]:
    return dict(
        session.execute(select(Team.id, Team.name).where(Team.workspace_id == workspace_id)).all()
    )


def agents_with_load(session: Session, workspace_id: int) -> list[tuple[User, int]]:
    load = (
        select(Task.assignee_id, func.count().label("n"))
        .where(Task.workspace_id == workspace_id, Task.status == TaskStatus.ASSIGNED)
        .group_by(Task.assignee_id)
        .subquery()
    )
    rows = session.execute(
        select(User, func.coalesce(load.c.n, 0))
        .outerjoin(load, load.c.assignee_id == User.id)
        .where(User.workspace_id == workspace_id, User.is_active.is_(True))
        .order_by(User.name)
    ).all()
    return [(r[0], int(r[1])) for r in rows]


def resolved_count_since(session: Session, workspace_id: int, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Task)
            .where(
                Task.workspace_id == workspace_id,
                Task.status == TaskStatus.DONE,
                Task.updated_at >= since,
            )
        )
        or 0
    )


def stored_inbound(
    session: Session, workspace_id: int, since: datetime | None, until: datetime | None
) -> list[Any]:
    """Inbound messages of a period with their author, customer and stored triage (any of
    which may be missing), oldest first: the traffic a what-if simulation replays."""
    query = (
        select(
            Message.id,
            Message.external_id,
            Message.conversation_id,
            Message.channel,
            Message.visibility,
            Message.created_at,
            Message.reply_to_external_id,
            Message.metrics,
            Identity.external_id.label("author_id"),
            Identity.followers,
            Identity.verified,
            Identity.is_brand,
            Identity.customer_id,
            Customer.tier,
            Customer.lifetime_value,
            TriageResultRow.kind,
            TriageResultRow.needs_response,
            TriageResultRow.route_to,
            TriageResultRow.sentiment_score,
            TriageResultRow.severity,
            TriageResultRow.signals,
            TriageResultRow.language,
            TriageResultRow.topic,
        )
        .outerjoin(Identity, Identity.id == Message.author_identity_id)
        .outerjoin(Customer, Customer.id == Identity.customer_id)
        .outerjoin(
            TriageResultRow,
            (TriageResultRow.message_id == Message.id)
            & (TriageResultRow.workspace_id == workspace_id),
        )
        .where(Message.workspace_id == workspace_id, Message.direction == Direction.INBOUND)
        .order_by(Message.created_at, Message.id)
    )
    if since is not None:
        query = query.where(Message.created_at >= since)
    if until is not None:
        query = query.where(Message.created_at < until)
    return list(session.execute(query).all())
