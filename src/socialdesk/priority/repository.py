"""All SQL of the priority domain: stored policies and what scoring reads about tasks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from socialdesk.conversations.models import Conversation, Message
from socialdesk.conversations.repository import latest_inbound_message_id
from socialdesk.core.bulk import bulk_update, id_in
from socialdesk.core.scoping import workspace_check
from socialdesk.core.work import Task, TaskStatus
from socialdesk.customers.models import Customer, Identity
from socialdesk.people.models import Team
from socialdesk.priority.models import WorkspacePolicy


def get_policy(session: Session, workspace_id: int) -> WorkspacePolicy | None:
    return session.get(WorkspacePolicy, workspace_id)


def get_or_create_policy(session: Session, workspace_id: int) -> WorkspacePolicy:
    row = session.get(WorkspacePolicy, workspace_id)
    if row is None:
        row = WorkspacePolicy(
            workspace_id=workspace_id, value={}, sla={}, routing={}, business_hours={}
        )
        session.add(row)
        session.flush()
    return row


def team_settings(session: Session, workspace_id: int) -> dict[int, dict[str, Any]]:
    rows = session.execute(select(Team.id, Team.settings).where(Team.workspace_id == workspace_id))
    return {team_id: settings or {} for team_id, settings in rows}


def scoring_rows(session: Session, workspace_id: int, task_ids: Sequence[int]) -> list[Any]:
    """Per task: the task, its customer and the latest inbound message with its author."""
    # Looked up per task (a grouped join of every inbound message turned into a scan of the
    # whole table where its statistics lagged behind its growth: 80 ms a batch at 20,000).
    latest = latest_inbound_message_id()
    query = (
        select(
            Task.id.label("task_id"),
            Task.channel,
            Task.team_id,
            Task.waiting_since,
            Task.first_response_at,
            Task.kind.label("task_kind"),
            Task.priority.label("old_priority"),
            Task.value_score.label("old_value"),
            Conversation.id.label("conversation_id"),
            Conversation.customer_id,
            Customer.tier,
            Customer.lifetime_value,
            Message.id.label("message_id"),
            Message.visibility,
            Message.created_at.label("message_created_at"),
            Message.metrics,
            Identity.followers,
            Identity.verified,
            Identity.profile,
        )
        .join(Conversation, Conversation.id == Task.conversation_id)
        .outerjoin(Customer, Customer.id == Conversation.customer_id)
        .outerjoin(Message, Message.id == latest)
        .outerjoin(Identity, Identity.id == Message.author_identity_id)
        .where(workspace_check(Task.workspace_id, workspace_id), id_in(session, Task.id, task_ids))
    )
    return list(session.execute(query).all())


def earlier_contacts(
    session: Session, workspace_id: int, customer_ids: Sequence[int], since: datetime
) -> dict[int, int]:
    """Conversations each customer started since ``since`` (the current one included)."""
    if not customer_ids:
        return {}
    rows = session.execute(
        select(Conversation.customer_id, func.count())
        .where(
            Conversation.workspace_id == workspace_id,
            id_in(session, Conversation.customer_id, customer_ids),
            Conversation.first_message_at >= since,
        )
        .group_by(Conversation.customer_id)
    )
    return {int(c or 0): int(n) for c, n in rows}


# The columns a new score sets, by the key ``score_tasks`` gives each; the rest of the
# response clock starts afresh (no pause, no warning, no breach, no agent to avoid).
_SCORE_COLUMNS = {
    "b_priority": "priority",
    "b_value": "value_score",
    "b_breakdown": "value_breakdown",
    "b_due": "due_at",
    "b_kind": "kind",
    "b_language": "language",
    "b_topic": "topic",
    "b_tier": "customer_tier",
    "b_last_agent": "last_agent_id",
    "b_sla_started": "sla_started_at",
    "b_sla_target": "sla_target_seconds",
    "b_next_check": "sla_next_check_at",
    "b_now": "updated_at",
}
_CLOCK_RESET: dict[str, Any] = {
    "avoid_agent_id": None,
    "sla_paused_at": None,
    "sla_paused_seconds": 0.0,
    "sla_state": "ok",
    "sla_warning_level": 0,
    "breached_at": None,
}
TASKS: Table = Task.__table__  # type: ignore[assignment]


def write_scores(session: Session, rows: list[dict[str, Any]]) -> None:
    """Store new scores and restart the tasks' response clocks, in one driver-level
    executemany: SQLAlchemy's per-row parameter processing cost several times the
    database's own work on the ingest path."""
    bulk_update(
        session,
        TASKS,
        [
            {"id": row["b_id"], **{c: row[k] for k, c in _SCORE_COLUMNS.items()}, **_CLOCK_RESET}
            for row in rows
        ],
    )


def active_tasks_of_customers(
    session: Session, workspace_id: int, customer_ids: Sequence[int]
) -> list[int]:
    if not customer_ids:
        return []
    return list(
        session.scalars(
            select(Task.id)
            .join(Conversation, Conversation.id == Task.conversation_id)
            .where(
                Task.workspace_id == workspace_id,
                Task.status.in_(TaskStatus.ACTIVE),
                id_in(session, Conversation.customer_id, customer_ids),
            )
        )
    )


_RESCORE = (
    update(Task)
    .where(Task.id == bindparam("b_id"))
    .values(
        priority=bindparam("b_priority"),
        value_score=bindparam("b_value"),
        value_breakdown=bindparam("b_breakdown"),
        customer_tier=bindparam("b_tier"),
        updated_at=bindparam("b_now"),
    )
    .execution_options(synchronize_session=False)
)


def write_rescores(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.connection().execute(_RESCORE, rows)


def active_task_ids(session: Session, workspace_id: int) -> list[int]:
    """The workspace's work still to be done (open, assigned or pending)."""
    return list(
        session.scalars(
            select(Task.id).where(
                Task.workspace_id == workspace_id, Task.status.in_(TaskStatus.ACTIVE)
            )
        )
    )
