"""The work item: what a conversation asks of the team, which routing assigns and priority ranks.

It belongs to no single domain: ingest opens it, priority scores it, routing assigns it and
conversations close it, so it lives in the core that all of them build on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.core.clock import utcnow
from socialdesk.core.db import Base, BigId, JsonData, UTCDateTime


class WorkQueue:
    """The department lists a task can sit on; a team of the same kind works that list."""

    CARE = "care"
    MARKETING = "marketing"
    SALES = "sales"
    OTHER = "other"
    ALL = (CARE, MARKETING, SALES, OTHER)


class TaskStatus:
    OPEN = "open"  # waiting for an agent
    ASSIGNED = "assigned"
    PENDING = "pending"  # answered, waiting on the customer
    DONE = "done"
    ACTIVE = (OPEN, ASSIGNED)
    ALL = (OPEN, ASSIGNED, PENDING, DONE)


class Task(Base):
    """The work a conversation asks of the team; at most one active task per conversation."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_ws_status_priority", "workspace_id", "status", "priority"),
        # Partial: most tasks are unassigned (new) or have no check due (answered, done), and
        # every query of these columns compares them with a value.
        Index(
            "ix_tasks_assignee_status",
            "assignee_id",
            "status",
            sqlite_where=text("assignee_id IS NOT NULL"),
            postgresql_where=text("assignee_id IS NOT NULL"),
        ),
        Index(
            "ix_tasks_ws_sla_next_check",
            "workspace_id",
            "sla_next_check_at",
            sqlite_where=text("sla_next_check_at IS NOT NULL"),
            postgresql_where=text("sla_next_check_at IS NOT NULL"),
        ),
        Index("ix_tasks_ws_updated", "workspace_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.OPEN)
    channel: Mapped[str] = mapped_column(String(32))
    # Which department's list the task belongs to: care, marketing, sales (WorkQueue).
    queue: Mapped[str] = mapped_column(String(16), default=WorkQueue.CARE)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), default=None)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    # Filled by the priority policy (business value and service level).
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    value_score: Mapped[float] = mapped_column(Float, default=0.0)
    value_breakdown: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    waiting_since: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Routing (migration 0003): what selection matches on, copied from triage and the CRM.
    kind: Mapped[str | None] = mapped_column(String(32), default=None)
    language: Mapped[str | None] = mapped_column(String(16), default=None)
    topic: Mapped[str | None] = mapped_column(String(64), default=None)
    customer_tier: Mapped[str | None] = mapped_column(String(40), default=None)
    # The agent who last handled this customer (stickiness); no foreign key on purpose:
    # it is a hint, and a deleted user must not block anything.
    last_agent_id: Mapped[int | None] = mapped_column(BigId, default=None)
    # Taken back on breach from this agent: the distributor hands it to someone else.
    avoid_agent_id: Mapped[int | None] = mapped_column(BigId, default=None)
    # The running service-level clock (see socialdesk.priority.sla.SlaClock).
    sla_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    sla_target_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    sla_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    sla_paused_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    sla_state: Mapped[str] = mapped_column(String(16), default="ok", server_default="ok")
    sla_warning_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the SLA timer must look at this task next (a warning or the breach).
    sla_next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    breach_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AssignmentReason:
    AUTO = "auto"  # the distributor
    PICKED = "picked"  # the agent took it from the team's list
    TRANSFER = "transfer"
    ALL = (AUTO, PICKED, TRANSFER)


class TaskAssignment(Base):
    """Who held a task and when: the history behind stickiness and handling times."""

    __tablename__ = "task_assignments"
    __table_args__ = (
        Index("ix_task_assignments_ws_customer", "workspace_id", "customer_id", "assigned_at"),
        Index("ix_task_assignments_task", "task_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    customer_id: Mapped[int | None] = mapped_column(BigId, default=None)
    channel: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(16), default=AssignmentReason.AUTO)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    release_reason: Mapped[str | None] = mapped_column(String(32), default=None)
