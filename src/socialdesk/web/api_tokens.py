"""API tokens: how integrations (a CRM, a review site, a script) call the JSON API.

A token is shown once when created; only its SHA-256 is stored. Each token belongs to one
workspace and carries a role (agent, supervisor, admin), checked like a person's.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from socialdesk.core import audit
from socialdesk.core.clock import Clock, utcnow
from socialdesk.core.db import Base, BigId, UTCDateTime
from socialdesk.core.errors import InvalidInput, NotFound
from socialdesk.people.models import Role

TOKEN_PREFIX = "sdk_"


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


@dataclass(frozen=True, slots=True)
class NewToken:
    id: int
    secret: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    session: Session, workspace_id: int, name: str, role: str, *, clock: Clock = utcnow
) -> NewToken:
    if role not in Role.ALL:
        raise InvalidInput(f"role must be one of {', '.join(Role.ALL)}, not {role!r}")
    if not name.strip():
        raise InvalidInput("a token needs a name that says who uses it")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        workspace_id=workspace_id,
        name=name.strip()[:100],
        role=role,
        token_hash=_digest(secret),
        created_at=clock(),
    )
    session.add(token)
    session.flush()
    return NewToken(token.id, secret)


def find_token(session: Session, secret: str, *, clock: Clock = utcnow) -> ApiToken | None:
    """The live token with this secret, marked as used now; None for unknown or revoked."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == _digest(secret))
    ).one_or_none()
    if token is None or token.revoked_at is not None:
        return None
    token.last_used_at = clock()
    return token


def list_tokens(session: Session, workspace_id: int) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.workspace_id == workspace_id).order_by(ApiToken.id)
        )
    )


def revoke_token(
    session: Session, workspace_id: int, token_id: int, *, clock: Clock = utcnow
) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.workspace_id != workspace_id:
        raise NotFound(f"no API token {token_id}")
    token.revoked_at = token.revoked_at or clock()
    session.flush()
    return token


audit.watch(ApiToken, "token", ignore=("last_used_at",))
