"""Routing's own records: who held a task and when, and the notes it leaves for supervisors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.core.clock import utcnow
from socialdesk.core.db import Base, BigId, JsonData, UTCDateTime


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
