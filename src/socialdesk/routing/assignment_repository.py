"""Routing's assignment writes, each a compare-and-set.

A task is taken only while it is still open, and only while the agent holds fewer items on
its channel than its capacity, both checked by the database in the same statement. On
PostgreSQL the agents of a batch are locked first (``FOR UPDATE``, in id order, so two
distributors never deadlock) and the tasks are claimed with ``FOR UPDATE SKIP LOCKED``; on
SQLite a write transaction is already exclusive. Either way no task gets two assignees and
no agent goes over capacity.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from socialdesk.core.work import Task, TaskAssignment, TaskStatus
from socialdesk.people.models import User

_held = aliased(Task)


def _held_count(user_param: str, channel_param: str) -> Any:
    return (
        select(func.count())
        .select_from(_held)
        .where(
            _held.assignee_id == bindparam(user_param),
            # Assigned items hold a slot; answered ones waiting on the customer too where the
            # agent's team says so (the parameter is then "pending", else "assigned" again).
            or_(_held.status == TaskStatus.ASSIGNED, _held.status == bindparam("b_waiting")),
            _held.channel == bindparam(channel_param),
        )
        .scalar_subquery()
    )


_ASSIGN = (
    update(Task)
    .where(
        Task.id == bindparam("b_task"),
        Task.workspace_id == bindparam("b_ws"),
        Task.status == TaskStatus.OPEN,
        _held_count("b_user", "b_channel") < bindparam("b_capacity"),
    )
    .values(
        status=TaskStatus.ASSIGNED,
        assignee_id=bindparam("b_user"),
        assigned_at=bindparam("b_now"),
        updated_at=bindparam("b_now"),
    )
    .execution_options(synchronize_session=False)
)


_COMPILED: dict[str, tuple[str, tuple[str, ...] | None, Any, dict[str, Any]]] = {}


def _compiled_assign(dialect: Any) -> tuple[str, tuple[str, ...] | None, Any, dict[str, Any]]:
    """The assignment statement as driver SQL, its parameter order (positional styles)
    and the bind conversion of its timestamp, once per dialect."""
    found = _COMPILED.get(dialect.name)
    if found is None:
        compiled = _ASSIGN.compile(dialect=dialect)
        order = (
            tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        )
        # The same conversion SQLAlchemy applies (its string format on SQLite).
        processor = Task.__table__.c.assigned_at.type._cached_bind_processor(dialect)
        constants = {k: v for k, v in compiled.params.items() if v is not None}
        found = (str(compiled), order, processor or (lambda value: value), constants)
        _COMPILED[dialect.name] = found
    return found


@dataclass(frozen=True, slots=True)
class Claim:
    task_id: int
    user_id: int
    channel: str
    capacity: int  # the agent's capacity on the channel, as the caller knows it
    customer_id: int | None = None
    reason: str = "auto"
    # The agent's answered items waiting on the customer hold slots (a team setting).
    waiting_holds_slot: bool = False


def lock_agents(session: Session, user_ids: Iterable[int]) -> None:
    """PostgreSQL: serialise assignments to the same agents (ordered: no deadlocks).

    FOR NO KEY UPDATE, not FOR UPDATE: it still excludes every other distributor, but not
    the KEY SHARE lock PostgreSQL takes on a user for each row written that refers to them
    (a case event of an agent's reply or resolve). With FOR UPDATE, an agent resolving cases
    while the distributor assigned to them deadlocked (found by the scale-mode soak)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    ids = sorted(set(user_ids))
    if ids:
        session.execute(
            select(User.id)
            .where(User.id.in_(ids))
            .order_by(User.id)
            .with_for_update(key_share=True)
        )


def claimable(session: Session, workspace_id: int, task_ids: Iterable[int]) -> set[int]:
    """PostgreSQL: lock the still-open tasks nobody else is writing; others are skipped."""
    ids = sorted(set(task_ids))
    if session.get_bind().dialect.name != "postgresql":
        return set(ids)
    rows = session.scalars(
        select(Task.id)
        .where(Task.workspace_id == workspace_id, Task.id.in_(ids), Task.status == TaskStatus.OPEN)
        .order_by(Task.id)
        .with_for_update(skip_locked=True)
    )
    return set(rows)


def assign_batch(
    session: Session, workspace_id: int, claims: Sequence[Claim], now: datetime
) -> list[Claim]:
    """Apply claims in one transaction (the caller commits); returns those that took."""
    if not claims:
        return []
    lock_agents(session, (c.user_id for c in claims))
    free = claimable(session, workspace_id, (c.task_id for c in claims))
    done: list[Claim] = []
    connection = session.connection()
    sql, order, when, constants = _compiled_assign(connection.dialect)
    # The statement is compiled once; each claim is one driver call on this transaction's
    # connection (the per-statement overhead of the ORM would dominate at thousands/s).
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for claim in claims:
            if claim.task_id not in free:
                continue
            values = constants | {
                "b_task": claim.task_id,
                "b_ws": workspace_id,
                "b_user": claim.user_id,
                "b_channel": claim.channel,
                "b_capacity": claim.capacity,
                "b_waiting": TaskStatus.PENDING
                if claim.waiting_holds_slot
                else TaskStatus.ASSIGNED,
                "b_now": when(now),
            }
            cursor.execute(sql, values if order is None else tuple(values[k] for k in order))
            if cursor.rowcount == 1:
                done.append(claim)
    finally:
        cursor.close()
    if done:
        record_assignments(session, workspace_id, done, now)
    return done


_RECORD = insert(TaskAssignment).values(
    workspace_id=bindparam("b_ws"),
    task_id=bindparam("b_task"),
    user_id=bindparam("b_user"),
    customer_id=bindparam("b_customer"),
    channel=bindparam("b_channel"),
    reason=bindparam("b_reason"),
    assigned_at=bindparam("b_now"),
)
_LAST_ASSIGNED = (
    update(User)
    .where(User.id == bindparam("b_user"))
    .values(last_assigned_at=bindparam("b_now"))
    .execution_options(synchronize_session=False)
)
_DRIVER: dict[tuple[str, str], tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}


def _driver_sql(
    name: str, statement: Any, dialect: Any
) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
    found = _DRIVER.get((name, dialect.name))
    if found is None:
        compiled = statement.compile(dialect=dialect)
        order = (
            tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        )
        constants = {k: v for k, v in compiled.params.items() if v is not None}
        found = (str(compiled), order, constants)
        _DRIVER[(name, dialect.name)] = found
    return found


def _executemany(session: Session, name: str, statement: Any, rows: list[dict[str, Any]]) -> None:
    """One compiled statement, many parameter sets, straight to the driver."""
    connection = session.connection()
    sql, order, constants = _driver_sql(name, statement, connection.dialect)
    params: list[Any] = [constants | row for row in rows]
    if order is not None:
        params = [tuple(p[k] for k in order) for p in params]
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, params)
    finally:
        cursor.close()


def record_assignments(
    session: Session, workspace_id: int, claims: Sequence[Claim], now: datetime
) -> None:
    when = _compiled_assign(session.connection().dialect)[2](now)
    _executemany(
        session,
        "record",
        _RECORD,
        [
            {
                "b_ws": workspace_id,
                "b_task": c.task_id,
                "b_user": c.user_id,
                "b_customer": c.customer_id,
                "b_channel": c.channel,
                "b_reason": c.reason,
                "b_now": when,
            }
            for c in claims
        ],
    )
    _executemany(
        session,
        "last_assigned",
        _LAST_ASSIGNED,
        [{"b_user": uid, "b_now": when} for uid in sorted({c.user_id for c in claims})],
    )


def close_assignment(
    session: Session, task_id: int, user_id: int, now: datetime, reason: str
) -> None:
    session.execute(
        update(TaskAssignment)
        .where(
            TaskAssignment.task_id == task_id,
            TaskAssignment.user_id == user_id,
            TaskAssignment.released_at.is_(None),
        )
        .values(released_at=now, release_reason=reason)
        .execution_options(synchronize_session=False)
    )


def take_back(
    session: Session, workspace_id: int, task_id: int, from_user: int, now: datetime, **values: Any
) -> bool:
    """Compare-and-set: put an assigned task back in the list if ``from_user`` still has it."""
    result = session.execute(
        update(Task)
        .where(
            Task.workspace_id == workspace_id,
            Task.id == task_id,
            Task.status == TaskStatus.ASSIGNED,
            Task.assignee_id == from_user,
        )
        .values(status=TaskStatus.OPEN, assignee_id=None, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def retarget_open(
    session: Session, workspace_id: int, task_id: int, now: datetime, **values: Any
) -> bool:
    """Compare-and-set on an open task (a transfer to a team of a task nobody holds)."""
    result = session.execute(
        update(Task)
        .where(
            Task.workspace_id == workspace_id,
            Task.id == task_id,
            Task.status == TaskStatus.OPEN,
        )
        .values(updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
