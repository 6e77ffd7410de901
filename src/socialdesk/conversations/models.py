"""Cases, the threads they gather from every channel, and their messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.core.clock import utcnow
from socialdesk.core.db import Base, BigId, JsonData, UTCDateTime


class ConversationStatus:
    OPEN = "open"  # the customer waits for us
    PENDING = "pending"  # we answered; waiting on the customer
    RESOLVED = "resolved"
    ALL = (OPEN, PENDING, RESOLVED)


class Direction:
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    ALL = (INBOUND, OUTBOUND)


class Visibility:
    PUBLIC = "public"
    PRIVATE = "private"
    ALL = (PUBLIC, PRIVATE)


class Conversation(Base):
    """A case: one customer, possibly several threads on several channels."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_ws_status_last", "workspace_id", "status", "last_message_at"),
        Index("ix_conversations_ws_customer", "workspace_id", "customer_id"),
        Index("ix_conversations_ws_first_message", "workspace_id", "first_message_at"),
        Index("ix_conversations_merged_into_id", "merged_into_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), default=None)
    status: Mapped[str] = mapped_column(String(16), default=ConversationStatus.OPEN)
    channel: Mapped[str] = mapped_column(String(32))  # where the case started
    subject: Mapped[str] = mapped_column(String(200), default="")
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    first_message_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_outbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Set when this case was folded into another one (its threads and messages moved there).
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Thread(Base):
    """One channel's thread inside a case: a reply chain, a DM pair, an email chain.

    ``key`` names the thread on its channel: the root post's external id, ``dm:a|b`` for
    the private messages between two parties, or an explicit link given by a connector.
    """

    __tablename__ = "threads"
    __table_args__ = (UniqueConstraint("workspace_id", "channel", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(400))
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.PUBLIC)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel", "external_id"),
        Index("ix_messages_conversation_created", "conversation_id", "created_at"),
        Index("ix_messages_ws_created", "workspace_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), index=True)
    raw_event_id: Mapped[int | None] = mapped_column(ForeignKey("raw_events.id"), default=None)
    channel: Mapped[str] = mapped_column(String(32))
    channel_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_accounts.id"), default=None
    )
    direction: Mapped[str] = mapped_column(String(16))
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.PUBLIC)
    author_identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("identities.id"), index=True, default=None
    )
    external_id: Mapped[str] = mapped_column(String(400))
    reply_to_external_id: Mapped[str | None] = mapped_column(String(400), default=None)
    text: Mapped[str] = mapped_column(Text, default="")
    metrics: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The author edited the post on the platform: ``text`` is the latest version and the
    # first one is kept here for the audit. Removal keeps the text and marks the time.
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    original_text: Mapped[str | None] = mapped_column(Text, default=None)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
