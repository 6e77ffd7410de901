"""Per-workspace policies: value weights, service levels and routing options."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.core import audit
from socialdesk.core.clock import utcnow
from socialdesk.core.db import Base, JsonData, UTCDateTime


class WorkspacePolicy(Base):
    """One row per workspace; an empty dict means the product defaults."""

    __tablename__ = "workspace_policies"

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    sla: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    routing: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    # The workspace's opening hours; a team's own (Team.settings["business_hours"]) win.
    business_hours: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


audit.watch(WorkspacePolicy, "policy", ignore=("updated_at",))
