"""Triage tables: a result per message, versioned models per workspace, and labels to learn from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.core.clock import utcnow
from socialdesk.core.db import Base, BigId, JsonData, UTCDateTime


class TriageResultRow(Base):
    """What triage said about one inbound message, and which model versions said it."""

    __tablename__ = "triage_results"
    __table_args__ = (
        UniqueConstraint("message_id"),
        Index("ix_triage_results_ws_kind", "workspace_id", "kind"),
        Index("ix_triage_results_ws_severity", "workspace_id", "severity"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    kind: Mapped[str] = mapped_column(String(32))
    kind_confidence: Mapped[float] = mapped_column(Float)
    needs_response: Mapped[float] = mapped_column(Float)
    route_to: Mapped[str] = mapped_column(String(16))
    # The label is read as ``sentiment_label``: readers that look for a number under
    # ``sentiment`` (priority scoring) then find ``sentiment_score`` instead.
    sentiment_label: Mapped[str] = mapped_column("sentiment", String(16))
    sentiment_score: Mapped[float] = mapped_column(Float)
    sentiment_confidence: Mapped[float] = mapped_column(Float)
    topic: Mapped[str | None] = mapped_column(String(64), default=None)
    topic_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    language: Mapped[str] = mapped_column(String(8))
    language_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    severity: Mapped[int] = mapped_column(Integer)
    signals: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    explanation: Mapped[list[Any]] = mapped_column(JsonData, default=list)
    model_versions: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    tier: Mapped[str] = mapped_column(String(16), default="fast")
    corrected: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TriageModelRow(Base):
    """One trained version of one task's model in a workspace; one version per task is active."""

    __tablename__ = "triage_models"
    __table_args__ = (
        UniqueConstraint("workspace_id", "task", "tier", "version"),
        Index("ix_triage_models_ws_task_active", "workspace_id", "task", "active"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    task: Mapped[str] = mapped_column(String(32))
    tier: Mapped[str] = mapped_column(String(16), default="fast")
    version: Mapped[int] = mapped_column(Integer)
    classes: Mapped[list[Any]] = mapped_column(JsonData, default=list)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    metrics: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    training: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    @property
    def label(self) -> str:
        return f"{self.task}-v{self.version}" + ("" if self.tier == "fast" else f"-{self.tier}")


class TriageLabelRow(Base):
    """A labeled example: an agent's correction of a message, or a row of an imported file.

    ``key`` makes a label replaceable: ``msg:<id>`` for an agent's correction (the latest
    correction wins), a digest of the text for imported rows (importing twice adds nothing).
    """

    __tablename__ = "triage_labels"
    __table_args__ = (
        UniqueConstraint("workspace_id", "task", "key"),
        Index("ix_triage_labels_ws_task_created", "workspace_id", "task", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    task: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(32))  # "agent" or "import"
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), default=None)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The name other domains look the stored results up by (priority scoring, the console).
TriageResult = TriageResultRow
