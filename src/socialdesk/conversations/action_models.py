"""What agents do to a case besides replying: internal notes, mentions, snoozes, a history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.core.clock import utcnow
from socialdesk.core.db import Base, BigId, JsonData, UTCDateTime


class Note(Base):
    """An internal note on a case: never sent to the customer."""

    __tablename__ = "conversation_notes"
    __table_args__ = (Index("ix_conversation_notes_conv", "conversation_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    author_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    mentioned_user_ids: Mapped[list[int]] = mapped_column(JsonData, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(Base):
    """Something a user should look at, e.g. a colleague @mentioned them in a note."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id"), default=None
    )
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Snooze(Base):
    """A case put aside until a time; it comes back to the list by itself then."""

    __tablename__ = "conversation_snoozes"
    __table_args__ = (UniqueConstraint("workspace_id", "conversation_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseEvent(Base):
    """The history of a case: resolved, reopened, snoozed, assigned, noted ...

    Also the change feed the live console watches: every agent action appends one row.
    """

    __tablename__ = "case_events"
    __table_args__ = (
        Index("ix_case_events_conv", "conversation_id", "created_at"),
        Index("ix_case_events_ws_id", "workspace_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id"), default=None
    )
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
