"""Listening rules, the mentions they catch, alerts, incidents and their bulk answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.core import audit
from socialdesk.core.clock import utcnow
from socialdesk.core.db import Base, BigId, JsonData, UTCDateTime


class ListeningRule(Base):
    """What the brand listens for beyond its own handle: names, handles, hashtags, phrases."""

    __tablename__ = "listening_rules"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(String(120))
    # Brand and product names and phrases; ``/regex/`` and ``word*`` patterns are allowed.
    terms: Mapped[list[Any]] = mapped_column(JsonData, default=list)
    handles: Mapped[list[Any]] = mapped_column(JsonData, default=list)
    hashtags: Mapped[list[Any]] = mapped_column(JsonData, default=list)
    exclusions: Mapped[list[Any]] = mapped_column(JsonData, default=list)
    # Empty: every language.
    languages: Mapped[list[Any]] = mapped_column(JsonData, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Admins configure rules: every change is in the audit log.
audit.watch(ListeningRule, "listening_rule", ignore=("created_at", "updated_at"))


class ListeningMatch(Base):
    """An inbound message one or more rules matched; ``mention`` when not addressed to us."""

    __tablename__ = "listening_matches"
    __table_args__ = (Index("ix_listening_matches_ws_created", "workspace_id", "created_at"),)

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    rule_ids: Mapped[list[Any]] = mapped_column(JsonData, default=list)
    mention: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertKind:
    SPIKE = "spike"  # abnormal volume
    NEGATIVE = "negative"  # abnormal negative share
    VIRAL = "viral"  # one complaint spreading fast or from a large audience
    ALL = (SPIKE, NEGATIVE, VIRAL)


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        # One alert per series and detection window: re-evaluating never raises it twice.
        UniqueConstraint("workspace_id", "kind", "series", "window_start"),
        Index("ix_alerts_ws_created", "workspace_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    kind: Mapped[str] = mapped_column(String(16))
    # What was watched: "topic:outage", "hashtag:#acmedown", "rule:3", "channel:x", "message:9".
    series: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    observed: Mapped[float] = mapped_column(Float, default=0.0)
    expected: Mapped[float] = mapped_column(Float, default=0.0)
    detail: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), default=None)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class AlertDelivery(Base):
    """An alert on its way out by email or webhook, retried until it goes or gives up."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel", "target"),
        Index("ix_alert_deliveries_status_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"))
    channel: Mapped[str] = mapped_column(String(16))  # email, webhook
    target: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)


class IncidentStatus:
    OPEN = "open"
    RESOLVED = "resolved"
    ALL = (OPEN, RESOLVED)


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_ws_status", "workspace_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default=IncidentStatus.OPEN)
    # What groups messages into it: {"topic": ..., "hashtags": [...], "terms": [...]}.
    criteria: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolution: Mapped[str] = mapped_column(Text, default="")


class IncidentMessage(Base):
    """A message grouped into an incident; a person's removal is kept so it stays out."""

    __tablename__ = "incident_messages"
    __table_args__ = (Index("ix_incident_messages_conversation", "conversation_id"),)

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IncidentEvent(Base):
    """The incident's timeline: every step, who took it and when."""

    __tablename__ = "incident_events"
    __table_args__ = (Index("ix_incident_events_incident", "incident_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IncidentReply(Base):
    """One bulk answer per incident and conversation: a second send finds it and skips."""

    __tablename__ = "incident_replies"
    __table_args__ = (UniqueConstraint("incident_id", "conversation_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    # The outbound message (its outbox row carries the idempotency key); None for a public
    # post, which has its own row with conversation_id of the brand's announcement case.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), default=None)
    kind: Mapped[str] = mapped_column(String(16), default="reply")  # reply, public_post
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
