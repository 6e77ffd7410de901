"""Routing's own records: who held a task and when, and the notes it leaves for supervisors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.core.clock import utcnow
from socialdesk.core.db import Base, BigId, JsonData, UTCDateTime


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
    # Who acknowledged it (migration 0045): the supervisors' bell records the person.
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
