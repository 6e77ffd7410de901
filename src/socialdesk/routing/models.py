"""People (users and agents), teams, and tasks: the unit of work for a conversation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.core.clock import utcnow
from socialdesk.core.db import Base, BigId, JsonData, UTCDateTime


class Role:
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    ALL = (AGENT, SUPERVISOR, ADMIN)


class TeamKind:
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


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("workspace_id", "email"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(400), default=None)
    role: Mapped[str] = mapped_column(String(16), default=Role.AGENT)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Routing (migration 0003): presence, skills and capacity of an agent.
    presence: Mapped[str] = mapped_column(String(16), default="offline", server_default="offline")
    presence_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Skills; an empty list means "any" (a generalist).
    languages: Mapped[list[str]] = mapped_column(JsonData, default=list, server_default="[]")
    topics: Mapped[list[str]] = mapped_column(JsonData, default=list, server_default="[]")
    tiers: Mapped[list[str]] = mapped_column(JsonData, default=list, server_default="[]")
    # Concurrent items per channel; a channel not listed is one the agent does not work.
    capacity: Mapped[dict[str, int]] = mapped_column(JsonData, default=dict, server_default="{}")
    # When the agent last got an item: ties go to whoever has been idle longest.
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), default=TeamKind.CARE)
    settings: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)


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
    # Which department's list the task belongs to: care, marketing, sales (TeamKind).
    queue: Mapped[str] = mapped_column(String(16), default=TeamKind.CARE)
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


class NotificationKind:
    SLA_WARNING = "sla_warning"
    SLA_BREACH = "sla_breach"
    REASSIGNED = "reassigned"
    ALL = (SLA_WARNING, SLA_BREACH, REASSIGNED)


class RoutingNotification(Base):
    """A note for supervisors: a service level about to be missed or missed."""

    __tablename__ = "routing_notifications"
    __table_args__ = (Index("ix_routing_notifications_ws_created", "workspace_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), default=None)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
