"""People and their memberships of workspaces (users: agents, supervisors, admins), roles, teams.

A person signs in once, with one e-mail and one password; each workspace the person works
for holds one ``users`` row for them: the membership, with its own role, presence, skills,
capacity and teams. An outsourcer's agent who serves three brands is one person with three
memberships.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.core import audit
from socialdesk.core.clock import utcnow
from socialdesk.core.db import Base, BigId, JsonData, UTCDateTime
from socialdesk.core.roles import AccessRole
from socialdesk.core.work import WorkQueue


class Role(AccessRole):
    """What a person may do: an admin what a supervisor may, a supervisor what an agent may."""


class TeamKind(WorkQueue):
    """A team works the queue of its own kind (care, marketing, sales, other)."""


class Person(Base):
    """Who signs in: one e-mail address and one password, shared by all their memberships.

    A person belongs to no workspace; what they may see and do is their membership's.
    """

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(400), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    """A person's membership of one workspace: role, presence, skills and capacity there.

    A membership without a person (made for routing only) cannot sign in.
    """

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("workspace_id", "email"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id"), index=True, default=None
    )
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default=Role.AGENT)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Routing (migration 0003): presence, skills and capacity of an agent.
    presence: Mapped[str] = mapped_column(String(16), default="offline", server_default="offline")
    presence_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Skills; an empty list means "any" (a generalist).
    languages: Mapped[list[str]] = mapped_column(JsonData, default=list, server_default="[]")
    topics: Mapped[list[str]] = mapped_column(JsonData, default=list, server_default="[]")
    tiers: Mapped[list[str]] = mapped_column(JsonData, default=list, server_default="[]")
    # Concurrent items per channel; a channel not listed is one the agent does not work.
    capacity: Mapped[dict[str, int]] = mapped_column(JsonData, default=dict, server_default="{}")
    # When the agent last got an item: ties go to whoever has been idle longest.
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), default=TeamKind.CARE)
    settings: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)


# Presence and the idle clock change all day long: routing's state, not an admin's change.
audit.watch(User, "user", ignore=("presence", "presence_changed_at", "last_assigned_at"))
audit.watch(Team, "team", ignore=("created_at",))
