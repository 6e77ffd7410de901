"""All SQL behind the supervisor dashboard; each query is scoped to one workspace."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from socialdesk.conversations.models import Direction, Message
from socialdesk.routing.models import Task, TaskStatus, Team, User


def inbound_per_channel_hour(
    session: Session, workspace_id: int, since: datetime
) -> list[tuple[str, datetime, int]]:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        hour = func.date_trunc("hour", Message.created_at)
    else:
        hour = func.strftime("%Y-%m-%d %H:00:00", Message.created_at)
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
        at = h if isinstance(h, datetime) else datetime.fromisoformat(str(h))
        out.append((channel, at, int(count)))
    return out


def tasks_since(
    session: Session, workspace_id: int, since: datetime
) -> list[tuple[str, int | None, str, datetime, datetime | None, datetime | None]]:
    """(channel, team id, queue, waiting since, due at, first response at) of recent tasks."""
    rows = session.execute(
        select(
            Task.channel,
            Task.team_id,
            Task.queue,
            Task.waiting_since,
            Task.due_at,
            Task.first_response_at,
        ).where(Task.workspace_id == workspace_id, Task.waiting_since >= since)
    ).all()
    return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]


def open_tasks(session: Session, workspace_id: int) -> list[tuple[str, datetime, int | None]]:
    rows = session.execute(
        select(Task.queue, Task.waiting_since, Task.assignee_id).where(
            Task.workspace_id == workspace_id, Task.status.in_(TaskStatus.ACTIVE)
        )
    ).all()
    return [(r[0], r[1], r[2]) for r in rows]


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
