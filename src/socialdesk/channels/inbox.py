"""The inbox: raw inbound events as connectors delivered them, stored once before any processing
(DESIGN.md rule 5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.core.clock import utcnow
from socialdesk.core.db import Base, BigId, JsonData, UTCDateTime


class RawEventStatus:
    PENDING = "pending"
    PROCESSED = "processed"
    FAILED = "failed"


class RawEvent(Base):
    __tablename__ = "raw_events"
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel", "external_id"),
        Index(
            "ix_raw_events_ws_status",
            "workspace_id",
            "status",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(400))
    source: Mapped[str] = mapped_column(String(64), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JsonData)
    status: Mapped[str] = mapped_column(String(16), default=RawEventStatus.PENDING)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # When the payload was dropped (retention, or a customer's erasure); the key stays so a
    # redelivery of the same event is still recognised as a duplicate.
    pruned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Scale mode: the worker processing a pending event, and until when it holds it. A sweep
    # takes a pending event only once its lease has run out (its holder died).
    claimed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
