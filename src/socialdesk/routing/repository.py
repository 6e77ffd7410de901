"""Routing's SQL: agents, loads, teams, tasks as routing sees them, service-level checks and
notifications. The assignment writes are in ``socialdesk.routing.assignment_repository``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, or_, select, update
from sqlalchemy.orm import Session

from socialdesk.conversations.models import Conversation
from socialdesk.core.bulk import id_in
from socialdesk.core.clock import as_utc
from socialdesk.core.models import Workspace
from socialdesk.core.pagination import after_key
from socialdesk.core.scoping import workspace_check
from socialdesk.core.work import Task, TaskAssignment, TaskStatus
from socialdesk.people.models import Person, Team, TeamMember, User
from socialdesk.routing.models import RoutingNotification
from socialdesk.routing.selection import RoutingPolicy, order_key_ts

# What ranks tasks: the routing policy carries the SLA policy's ordering knobs.
Ordering = RoutingPolicy

# Columns routing reads of a task; one query shape everywhere.
TASK_COLUMNS = (
    Task.id,
    Task.workspace_id,
    Task.status,
    Task.channel,
    Task.queue,
    Task.team_id,
    Task.assignee_id,
    Task.priority,
    Task.value_score,
    Task.due_at,
    Task.waiting_since,
    Task.first_response_at,
    Task.kind,
    Task.language,
    Task.topic,
    Task.customer_tier,
    Task.last_agent_id,
    Task.avoid_agent_id,
    Task.sla_started_at,
    Task.sla_target_seconds,
    Task.sla_paused_at,
    Task.sla_paused_seconds,
    Task.sla_state,
    Task.sla_warning_level,
    Task.sla_next_check_at,
    Task.breach_count,
    Task.updated_at,
)


def _task_rows() -> Any:
    return select(*TASK_COLUMNS, Conversation.customer_id.label("customer_id")).join(
        Conversation, Conversation.id == Task.conversation_id
    )


@dataclass(frozen=True, slots=True)
class AgentRecord:
    id: int
    presence: str
    languages: tuple[str, ...]
    topics: tuple[str, ...]
    tiers: tuple[str, ...]
    capacity: dict[str, int]
    last_assigned_at: datetime | None
    team_ids: tuple[int, ...]
    queues: tuple[str, ...]
    # A team of the agent counts answered items waiting on the customer as held slots.
    waiting_holds_slot: bool = False


# The team setting (``Team.settings``): answered items waiting on the customer keep holding
# a slot of the agent who answered them (off by default: a slot is for work in hand).
WAITING_HOLDS_SLOT = "waiting_holds_slot"


def waiting_holds_slot(settings: dict[str, Any] | None) -> bool:
    return bool((settings or {}).get(WAITING_HOLDS_SLOT, False))


def agents_holding_waiting(
    session: Session, workspace_id: int, user_ids: Iterable[int] | None = None
) -> set[int]:
    """Agents in a team whose answered items waiting on the customer still hold slots."""
    query = (
        select(TeamMember.user_id, Team.settings)
        .join(Team, Team.id == TeamMember.team_id)
        .where(Team.workspace_id == workspace_id)
    )
    if user_ids is not None:
        query = query.where(TeamMember.user_id.in_(list(user_ids)))
    return {
        int(user_id) for user_id, settings in session.execute(query) if waiting_holds_slot(settings)
    }


def _held(waiting_for: Iterable[int]) -> Any:
    """The tasks that take an agent's slot: assigned, and for the agents in ``waiting_for``
    also answered and waiting on the customer."""
    agents = sorted(set(waiting_for))
    if not agents:
        return Task.status == TaskStatus.ASSIGNED
    return or_(
        Task.status == TaskStatus.ASSIGNED,
        (Task.status == TaskStatus.PENDING) & Task.assignee_id.in_(agents),
    )


def load_agents(
    session: Session, workspace_id: int, user_ids: Iterable[int] | None = None
) -> list[AgentRecord]:
    """Active users of the workspace with their teams (routable or not: callers filter)."""
    query = select(
        User.id,
        User.presence,
        User.languages,
        User.topics,
        User.tiers,
        User.capacity,
        User.last_assigned_at,
    ).where(User.workspace_id == workspace_id, User.is_active.is_(True))
    ids = None if user_ids is None else list(user_ids)
    if ids is not None:
        query = query.where(User.id.in_(ids))
    users = session.execute(query).all()
    memberships = select(TeamMember.user_id, Team.id, Team.kind, Team.settings).join(
        Team, Team.id == TeamMember.team_id
    )
    memberships = memberships.where(Team.workspace_id == workspace_id)
    if ids is not None:
        memberships = memberships.where(TeamMember.user_id.in_(ids))
    teams: dict[int, list[tuple[int, str]]] = {}
    holding: set[int] = set()
    for user_id, team_id, kind, settings in session.execute(memberships):
        teams.setdefault(user_id, []).append((team_id, kind))
        if waiting_holds_slot(settings):
            holding.add(user_id)
    return [
        AgentRecord(
            id=u.id,
            presence=u.presence,
            languages=tuple(u.languages or ()),
            topics=tuple(u.topics or ()),
            tiers=tuple(u.tiers or ()),
            capacity={str(k): int(v) for k, v in (u.capacity or {}).items()},
            last_assigned_at=u.last_assigned_at,
            team_ids=tuple(sorted({t for t, _ in teams.get(u.id, [])})),
            queues=tuple(sorted({k for _, k in teams.get(u.id, [])})),
            waiting_holds_slot=u.id in holding,
        )
        for u in users
    ]


def agent_loads(
    session: Session, workspace_id: int, user_ids: Iterable[int] | None = None
) -> dict[int, dict[str, int]]:
    """Items each agent holds now, per channel: assigned items, and answered items waiting on
    the customer where the agent's team says they hold a slot."""
    waiting_for = agents_holding_waiting(session, workspace_id, user_ids)
    query = (
        select(Task.assignee_id, Task.channel, func.count())
        .where(
            Task.workspace_id == workspace_id,
            _held(waiting_for),
            Task.assignee_id.is_not(None),
        )
        .group_by(Task.assignee_id, Task.channel)
    )
    if user_ids is not None:
        query = query.where(Task.assignee_id.in_(list(user_ids)))
    loads: dict[int, dict[str, int]] = {}
    for user_id, channel, count in session.execute(query):
        loads.setdefault(int(user_id or 0), {})[channel] = int(count)
    return loads


def open_tasks(session: Session, workspace_id: int) -> Sequence[Row[Any]]:
    return session.execute(
        _task_rows().where(Task.workspace_id == workspace_id, Task.status == TaskStatus.OPEN)
    ).all()


def assigned_tasks(
    session: Session,
    workspace_id: int,
    user_ids: Iterable[int] | None = None,
    *,
    waiting_for: Iterable[int] = (),
) -> Sequence[Row[Any]]:
    """The tasks holding agents' slots (see ``agent_loads``); ``waiting_for``: the agents
    whose answered items waiting on the customer hold one."""
    query = select(Task.id, Task.assignee_id, Task.channel).where(
        Task.workspace_id == workspace_id,
        _held(waiting_for),
        Task.assignee_id.is_not(None),
    )
    if user_ids is not None:
        query = query.where(Task.assignee_id.in_(list(user_ids)))
    return list(session.execute(query).all())  # type: ignore[arg-type]


def tasks_by_id(session: Session, workspace_id: int, task_ids: Iterable[int]) -> Sequence[Row[Any]]:
    ids = list(task_ids)
    if not ids:
        return []
    return session.execute(
        _task_rows().where(workspace_check(Task.workspace_id, workspace_id), Task.id.in_(ids))
    ).all()


def tasks_changed_since(session: Session, workspace_id: int, since: datetime) -> Sequence[Row[Any]]:
    return session.execute(
        _task_rows().where(Task.workspace_id == workspace_id, Task.updated_at >= since)
    ).all()


def task_changes_since(session: Session, workspace_id: int, since: datetime) -> list[Any]:
    """Who holds what among the tasks changed since ``since`` (no payload columns)."""
    return list(
        session.execute(
            select(Task.id, Task.status, Task.assignee_id, Task.channel, Task.updated_at).where(
                Task.workspace_id == workspace_id, Task.updated_at >= since
            )
        ).all()
    )


def open_task_stamps(session: Session, workspace_id: int) -> list[Any]:
    """Every open task's id and last change: the catch-up sweep compares them with its view."""
    return list(
        session.execute(
            select(Task.id, Task.updated_at).where(
                Task.workspace_id == workspace_id, Task.status == TaskStatus.OPEN
            )
        ).all()
    )


def presence_changed_since(session: Session, workspace_id: int, since: datetime) -> list[int]:
    return list(
        session.scalars(
            select(User.id).where(
                User.workspace_id == workspace_id, User.presence_changed_at >= since
            )
        )
    )


def get_task(session: Session, workspace_id: int, task_id: int) -> Task | None:
    return session.scalars(
        select(Task).where(Task.workspace_id == workspace_id, Task.id == task_id)
    ).one_or_none()


def get_user(session: Session, workspace_id: int, user_id: int) -> User | None:
    return session.scalars(
        select(User).where(User.workspace_id == workspace_id, User.id == user_id)
    ).one_or_none()


def get_team(session: Session, workspace_id: int, team_id: int) -> Team | None:
    return session.scalars(
        select(Team).where(Team.workspace_id == workspace_id, Team.id == team_id)
    ).one_or_none()


def get_team_by_name(session: Session, workspace_id: int, name: str) -> Team | None:
    return session.scalars(
        select(Team).where(Team.workspace_id == workspace_id, Team.name == name)
    ).one_or_none()


def list_teams(session: Session, workspace_id: int) -> Sequence[Team]:
    return session.scalars(
        select(Team).where(Team.workspace_id == workspace_id).order_by(Team.name)
    ).all()


def list_users(session: Session, workspace_id: int) -> Sequence[User]:
    return session.scalars(
        select(User).where(User.workspace_id == workspace_id).order_by(User.id)
    ).all()


def person_id_by_email(session: Session, email: str) -> int | None:
    """The person who signs in with this e-mail, if any (they may work in other workspaces)."""
    return session.scalar(select(Person.id).where(Person.email == email))


def replace_memberships(session: Session, user_id: int, team_ids: Sequence[int]) -> list[int]:
    """Put a person in exactly these teams; returns the teams they were in before."""
    before = sorted(
        session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == user_id))
    )
    after = sorted(set(team_ids))
    if before != after:
        session.execute(delete(TeamMember).where(TeamMember.user_id == user_id))
        session.add_all(TeamMember(team_id=t, user_id=user_id) for t in after)
        session.flush()
    return before


def member_ids_by_team(session: Session, workspace_id: int) -> dict[int, list[int]]:
    """team id -> the ids of its members, in id order."""
    out: dict[int, list[int]] = {}
    for team_id, user_id in session.execute(
        select(TeamMember.team_id, TeamMember.user_id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(Team.workspace_id == workspace_id)
        .order_by(TeamMember.user_id)
    ):
        out.setdefault(team_id, []).append(user_id)
    return out


def team_ids_of(session: Session, workspace_id: int, user_id: int) -> list[int]:
    return list(
        session.scalars(
            select(TeamMember.team_id)
            .join(Team, Team.id == TeamMember.team_id)
            .where(Team.workspace_id == workspace_id, TeamMember.user_id == user_id)
        )
    )


def is_member(session: Session, team_id: int, user_id: int) -> bool:
    return (
        session.scalars(
            select(TeamMember.user_id).where(
                TeamMember.team_id == team_id, TeamMember.user_id == user_id
            )
        ).first()
        is not None
    )


def add_member(session: Session, team_id: int, user_id: int) -> bool:
    """Whether the person was added (False: already a member)."""
    if is_member(session, team_id, user_id):
        return False
    session.add(TeamMember(team_id=team_id, user_id=user_id))
    session.flush()
    return True


def ranked_task_ids(
    session: Session, conditions: Sequence[Any], now: datetime, order: Ordering, limit: int
) -> list[int]:
    """Ids of the tasks matching ``conditions`` in work-list order (the distributor's
    ``selection.order_key``: value, capped time pressure, rescue), the first ``limit``.

    The top value class comes first (the longest waiting first), then the rescued items.
    The effective priority of any other item lies between its stored priority and that plus
    the pressure weight, so only those within the pressure weight of the ``limit``-th stored
    priority can make the page; they are ranked exactly.
    """
    columns = select(Task.id, Task.priority, Task.waiting_since, Task.due_at).where(*conditions)
    rows: list[Any] = []
    rest = columns
    if order.top_class_from is not None:
        # The top value class comes first, the longest waiting first.
        rows += session.execute(
            columns.where(Task.priority >= order.top_class_from)
            .order_by(Task.waiting_since, Task.id)
            .limit(limit)
        ).all()
        rest = columns.where(Task.priority < order.top_class_from)
    if len(rows) < limit and order.rescue_after is not None:
        cutoff = now - order.rescue_after
        rows += session.execute(
            rest.where(Task.due_at <= cutoff).order_by(Task.due_at, Task.id).limit(limit)
        ).all()
        rest = rest.where(or_(Task.due_at.is_(None), Task.due_at > cutoff))
    if len(rows) < limit:
        top = session.execute(rest.order_by(Task.priority.desc(), Task.id).limit(limit)).all()
        if len(top) == limit:
            floor = float(top[-1].priority or 0.0) - order.pressure_weight
            top = session.execute(rest.where(Task.priority >= floor)).all()
        rows += top
    at = as_utc(now).timestamp()
    rescue = None if order.rescue_after is None else order.rescue_after.total_seconds()

    def key(row: Any) -> tuple[float, float, int]:
        due = None if row.due_at is None else as_utc(row.due_at).timestamp()
        since = as_utc(row.waiting_since).timestamp()
        return order_key_ts(
            float(row.priority or 0.0),
            since,
            due,
            row.id,
            at,
            order.pressure_weight,
            rescue,
            order.top_class_from,
        )

    return [row.id for row in sorted(rows, key=key)[:limit]]


def team_list(
    session: Session,
    workspace_id: int,
    team_ids: Sequence[int],
    queues: Sequence[str],
    limit: int,
    now: datetime,
    order: Ordering,
) -> Sequence[Task]:
    """Open tasks of the given teams or queues in work-list order (the team's list)."""
    scope: list[Any] = [Task.queue.in_(list(queues)) & Task.team_id.is_(None)] if queues else []
    if team_ids:
        scope.append(Task.team_id.in_(list(team_ids)))
    if not scope:
        return []
    conditions = [Task.workspace_id == workspace_id, Task.status == TaskStatus.OPEN, or_(*scope)]
    ids = ranked_task_ids(session, conditions, now, order, limit)
    if not ids:
        return []
    rank = {task_id: i for i, task_id in enumerate(ids)}
    tasks = session.scalars(select(Task).where(Task.id.in_(ids))).all()
    return sorted(tasks, key=lambda t: rank[t.id])


def set_presence(
    session: Session, workspace_id: int, user_id: int, presence: str, now: datetime
) -> bool:
    result = session.execute(
        update(User)
        .where(User.workspace_id == workspace_id, User.id == user_id)
        .values(presence=presence, presence_changed_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def customer_of_tasks(session: Session, task_ids: Sequence[int]) -> dict[int, int | None]:
    if not task_ids:
        return {}
    rows = session.execute(
        select(Task.id, Conversation.customer_id)
        .join(Conversation, Conversation.id == Task.conversation_id)
        .where(Task.id.in_(list(task_ids)))
    )
    return {task_id: customer_id for task_id, customer_id in rows}


def last_agents_of_customers(
    session: Session, workspace_id: int, customer_ids: Iterable[int]
) -> dict[int, int]:
    """The agent who most recently took an item of each customer."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    latest = (
        select(TaskAssignment.customer_id, func.max(TaskAssignment.id).label("last_id"))
        .where(
            TaskAssignment.workspace_id == workspace_id,
            id_in(session, TaskAssignment.customer_id, ids),
        )
        .group_by(TaskAssignment.customer_id)
        .subquery()
    )
    rows = session.execute(
        select(TaskAssignment.customer_id, TaskAssignment.user_id).join(
            latest, TaskAssignment.id == latest.c.last_id
        )
    )
    return {int(c or 0): int(u) for c, u in rows}


# -- service levels ------------------------------------------------------------------------


def tasks_due_for_sla_check(
    session: Session, workspace_id: int, now: datetime, limit: int = 500
) -> Sequence[Row[Any]]:
    return session.execute(
        _task_rows()
        .where(Task.workspace_id == workspace_id, Task.sla_next_check_at <= now)
        .order_by(Task.sla_next_check_at)
        .limit(limit)
    ).all()


def next_sla_check(session: Session, workspace_id: int) -> datetime | None:
    # Answered or closed tasks have their check cleared by the monitor, so the index's
    # first entry is the next moment due (the NOT NULL lets the partial index answer).
    value: datetime | None = session.scalar(
        select(func.min(Task.sla_next_check_at)).where(
            Task.workspace_id == workspace_id, Task.sla_next_check_at.is_not(None)
        )
    )
    return value


def update_task_fields(session: Session, workspace_id: int, task_id: int, **values: Any) -> None:
    session.execute(
        update(Task)
        .where(Task.workspace_id == workspace_id, Task.id == task_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def add_notification(
    session: Session,
    workspace_id: int,
    task_id: int,
    kind: str,
    detail: dict[str, Any],
    now: datetime,
    team_id: int | None = None,
    user_id: int | None = None,
) -> None:
    session.add(
        RoutingNotification(
            workspace_id=workspace_id,
            task_id=task_id,
            kind=kind,
            detail=detail,
            created_at=now,
            team_id=team_id,
            user_id=user_id,
        )
    )
    session.flush()


def list_notifications(
    session: Session,
    workspace_id: int,
    *,
    unacknowledged_only: bool = True,
    limit: int = 100,
    after: Sequence[Any] | None = None,
) -> Sequence[RoutingNotification]:
    """Newest first; ``after`` is the (created_at, id) of the one a page follows."""
    query = select(RoutingNotification).where(RoutingNotification.workspace_id == workspace_id)
    if unacknowledged_only:
        query = query.where(RoutingNotification.acknowledged_at.is_(None))
    order = (RoutingNotification.created_at, RoutingNotification.id)
    if after is not None:
        query = query.where(after_key(order, after, descending=True))
    return session.scalars(query.order_by(*(c.desc() for c in order)).limit(limit)).all()


def workspace_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Workspace.id).order_by(Workspace.id)))


def assignments_of(session: Session, task_id: int) -> Sequence[TaskAssignment]:
    return session.scalars(
        select(TaskAssignment).where(TaskAssignment.task_id == task_id).order_by(TaskAssignment.id)
    ).all()


def over_capacity(session: Session, workspace_id: int) -> list[tuple[int, str, int, int]]:
    """(agent, channel, held, capacity) wherever an agent holds more than its capacity."""
    loads = agent_loads(session, workspace_id)
    caps = {
        u.id: {str(k): int(v) for k, v in (u.capacity or {}).items()}
        for u in list_users(session, workspace_id)
    }
    out = []
    for user_id, per_channel in loads.items():
        for channel, held in per_channel.items():
            capacity = caps.get(user_id, {}).get(channel, 0)
            if held > capacity:
                out.append((user_id, channel, held, capacity))
    return out
