"""The audit log: an append-only record of who changed what, when, before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.core.clock import utcnow
from socialdesk.core.db import Base, BigId, JsonData, UTCDateTime


class AuditEvent(Base):
    """One change an admin (or a sign-in, or a GDPR request) made; never updated.

    ``actor`` is written out (an email, ``token:NAME`` or ``cli``) so the record still says
    who acted after that person is removed; ``actor_user_id`` carries no foreign key for the
    same reason.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_ws_created", "workspace_id", "created_at"),
        Index("ix_audit_events_ws_action", "workspace_id", "action"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    actor: Mapped[str] = mapped_column(String(400))
    actor_user_id: Mapped[int | None] = mapped_column(BigId, default=None)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(200), default="")
    before: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    client: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
