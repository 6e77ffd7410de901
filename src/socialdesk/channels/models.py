"""Channel accounts, the outbox, dead letters, channel shifts, callbacks and deflection links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.core import audit
from socialdesk.core.clock import utcnow
from socialdesk.core.db import Base, BigId, JsonData, UTCDateTime


class ChannelAccount(Base):
    """A brand's account on one channel (an X handle, a Facebook Page, a mailbox)."""

    __tablename__ = "channel_accounts"
    __table_args__ = (UniqueConstraint("workspace_id", "channel", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(200))
    handle: Mapped[str] = mapped_column(String(200), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    # Encrypted at rest with the key derived from settings.secret_key; never serialised.
    credentials_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    settings: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxStatus:
    PENDING = "pending"  # waiting for its next attempt
    SENDING = "sending"  # claimed by a sender; the outcome may be unknown after a crash
    SENT = "sent"
    FAILED = "failed"  # permanent failure, shown on the conversation
    CANCELLED = "cancelled"  # the agent gave up or moved the customer to another channel
    ALL = (PENDING, SENDING, SENT, FAILED, CANCELLED)
    OPEN = (PENDING, SENDING)


class OutboxItem(Base):
    """One outbound action, committed with the agent's reply and sent after commit."""

    __tablename__ = "outbox_items"
    __table_args__ = (
        UniqueConstraint("workspace_id", "idempotency_key"),
        Index("ix_outbox_items_status_due", "status", "next_attempt_at"),
        Index("ix_outbox_items_ws_conversation", "workspace_id", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    channel_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_accounts.id"), default=None
    )
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    # What the connector does, e.g. "x.reply", "facebook.private_reply", "email.send".
    action: Mapped[str] = mapped_column(String(48))
    # Platform ids the action needs (tweet to answer, recipient, comment, email headers).
    target: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    text: Mapped[str] = mapped_column(Text, default="")
    idempotency_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Set when an earlier attempt may have reached the platform: look before sending again.
    outcome_unknown: Mapped[bool] = mapped_column(Boolean, default=False)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    external_id: Mapped[str | None] = mapped_column(String(400), default=None)
    error_code: Mapped[str | None] = mapped_column(String(64), default=None)
    error_reason: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DeadLetterStatus:
    NEW = "new"
    REPLAYED = "replayed"
    DISCARDED = "discarded"


class DeadLetter(Base):
    """An inbound payload that was authentic but could not be understood, kept for an admin."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index("ix_dead_letters_ws_status", "workspace_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    channel: Mapped[str] = mapped_column(String(32))
    channel_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_accounts.id"), default=None
    )
    source: Mapped[str] = mapped_column(String(64), default="")
    content_type: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=DeadLetterStatus.NEW)
    replay_count: Mapped[int] = mapped_column(Integer, default=0)
    last_replay_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class ShiftKind:
    DM = "dm"
    EMAIL = "email"
    PHONE = "phone"
    ALL = (DM, EMAIL, PHONE)


class ChannelShift(Base):
    """A customer moved from one channel to another, with the agent's reason."""

    __tablename__ = "channel_shifts"
    __table_args__ = (
        Index("ix_channel_shifts_ws_created", "workspace_id", "created_at"),
        Index("ix_channel_shifts_conversation", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    kind: Mapped[str] = mapped_column(String(16))
    from_channel: Mapped[str] = mapped_column(String(32))
    to_channel: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), default=None)
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id"), default=None)
    # Set when the customer actually shows up on the new channel.
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CallbackStatus:
    OPEN = "open"
    DONE = "done"
    MISSED = "missed"
    CANCELLED = "cancelled"


class CallbackRequest(Base):
    """A phone callback promised to a customer: a number and a time window."""

    __tablename__ = "callback_requests"
    __table_args__ = (
        Index("ix_callback_requests_ws_status_start", "workspace_id", "status", "window_start"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("channel_shifts.id"))
    phone: Mapped[str] = mapped_column(String(40))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=CallbackStatus.OPEN)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    outcome: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class KbLink(Base):
    """A knowledge-base link carried by a reply (deflection), and whether it was used."""

    __tablename__ = "kb_links"
    __table_args__ = (Index("ix_kb_links_ws_created", "workspace_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    click_count: Mapped[int] = mapped_column(Integer, default=0)
    first_clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Cursors move with every poll: operational state, not a change anyone made. A renewed
# token is recorded (credentials redacted), its counters in the settings are not.
audit.watch(
    ChannelAccount,
    "channel_account",
    # rules_query, rules_hashtags and listen_terms follow the listening rules (whose changes
    # are audited themselves); hashtag ids are the platform's, looked up once.
    ignore=(
        "created_at",
        "settings.poll_cursors",
        "settings.imap_last_uid",
        "settings.rules_query",
        "settings.rules_hashtags",
        "settings.hashtag_ids",
        "settings.hashtag_cursors",
        "settings.tagged_cursor",
        "settings.imap_uidvalidity",
        "settings.listen_terms",
        "settings.listen_last_uid",
        "settings.listen_uidvalidity",
        "settings.token_rotated_at",
        "settings.token_rotations",
    ),
)
