"""Small builders for agents, teams and tasks in routing tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.conversations.models import Conversation
from socialdesk.core.work import Task, TaskStatus
from socialdesk.customers.models import Customer
from socialdesk.people.models import Team, TeamMember, User

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def team(session: Session, workspace_id: int, name: str, kind: str = "care") -> int:
    found = session.scalars(
        select(Team).where(Team.workspace_id == workspace_id, Team.name == name)
    ).first()
    if found is None:
        found = Team(workspace_id=workspace_id, name=name, kind=kind)
        session.add(found)
        session.flush()
    return found.id


def agent(
    factory: sessionmaker[Session],
    workspace_id: int,
    name: str,
    *,
    capacity: dict[str, int] | None = None,
    teams: tuple[tuple[str, str], ...] = (("Care", "care"),),
    presence: str = "online",
    languages: list[str] | None = None,
    topics: list[str] | None = None,
    tiers: list[str] | None = None,
    last_assigned_at: datetime | None = None,
) -> int:
    with factory() as s:
        user = User(
            workspace_id=workspace_id,
            email=f"{name.lower()}@acme.test",
            name=name,
            presence=presence,
            capacity=capacity if capacity is not None else {"x": 2},
            languages=languages or [],
            topics=topics or [],
            tiers=tiers or [],
            last_assigned_at=last_assigned_at,
        )
        s.add(user)
        s.flush()
        for team_name, kind in teams:
            s.add(TeamMember(team_id=team(s, workspace_id, team_name, kind), user_id=user.id))
        s.commit()
        return user.id


def task(
    factory: sessionmaker[Session],
    workspace_id: int,
    *,
    channel: str = "x",
    priority: float = 10.0,
    minutes_waiting: float = 1.0,
    now: datetime = T0,
    customer_id: int | None = None,
    **fields: Any,
) -> int:
    with factory() as s:
        since = now - timedelta(minutes=minutes_waiting)
        conv = Conversation(
            workspace_id=workspace_id,
            customer_id=customer_id,
            channel=channel,
            first_message_at=since,
            last_message_at=since,
        )
        s.add(conv)
        s.flush()
        row = Task(
            workspace_id=workspace_id,
            conversation_id=conv.id,
            channel=channel,
            priority=priority,
            value_score=priority,
            waiting_since=since,
            due_at=fields.pop("due_at", since + timedelta(minutes=30)),
            updated_at=now,
            **fields,
        )
        s.add(row)
        s.commit()
        return row.id


def customer(factory: sessionmaker[Session], workspace_id: int, **fields: Any) -> int:
    with factory() as s:
        row = Customer(workspace_id=workspace_id, **fields)
        s.add(row)
        s.commit()
        return row.id


def assignee(factory: sessionmaker[Session], task_id: int) -> int | None:
    with factory() as s:
        return s.scalar(select(Task.assignee_id).where(Task.id == task_id))


def status(factory: sessionmaker[Session], task_id: int) -> str:
    with factory() as s:
        return s.scalars(select(Task.status).where(Task.id == task_id)).one()


def held(factory: sessionmaker[Session], user_id: int) -> int:
    with factory() as s:
        return (
            s.scalar(
                select(func.count())
                .select_from(Task)
                .where(Task.assignee_id == user_id, Task.status == TaskStatus.ASSIGNED)
            )
            or 0
        )


def finish(factory: sessionmaker[Session], task_id: int, now: datetime = T0) -> None:
    """The agent answered: the task waits on the customer (its slot frees)."""
    with factory() as s:
        row = s.get(Task, task_id)
        assert row is not None
        row.status = TaskStatus.PENDING
        row.updated_at = now
        s.commit()
