"""All SQL of the web console's own tables (sessions, login attempts) and of user look-ups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from socialdesk.core.models import Workspace
from socialdesk.people.models import Person, User
from socialdesk.web.models import LoginAttempt, WebSession


def workspace_by_slug(session: Session, slug: str) -> Workspace | None:
    return session.scalars(select(Workspace).where(Workspace.slug == slug)).first()


def user_by_email(session: Session, workspace_id: int, email: str) -> User | None:
    return session.scalars(
        select(User).where(User.workspace_id == workspace_id, User.email == email)
    ).first()


def user_by_id(session: Session, workspace_id: int, user_id: int) -> User | None:
    return session.scalars(
        select(User).where(User.workspace_id == workspace_id, User.id == user_id)
    ).first()


def person_by_email(session: Session, email: str) -> Person | None:
    return session.scalars(select(Person).where(Person.email == email)).first()


def person(session: Session, person_id: int) -> Person | None:
    return session.get(Person, person_id)


def active_memberships(session: Session, person_id: int) -> list[tuple[User, Workspace]]:
    """A person's active memberships with their workspaces, by workspace name."""
    rows = session.execute(
        select(User, Workspace)
        .join(Workspace, Workspace.id == User.workspace_id)
        .where(User.person_id == person_id, User.is_active.is_(True))
        .order_by(Workspace.name, Workspace.id)
    ).all()
    return [(row[0], row[1]) for row in rows]


def active_membership(session: Session, person_id: int, workspace_id: int) -> User | None:
    return session.scalars(
        select(User).where(
            User.person_id == person_id,
            User.workspace_id == workspace_id,
            User.is_active.is_(True),
        )
    ).first()


def list_users(session: Session, workspace_id: int) -> list[User]:
    return list(
        session.scalars(select(User).where(User.workspace_id == workspace_id).order_by(User.name))
    )


def add_session(session: Session, web_session: WebSession) -> WebSession:
    session.add(web_session)
    session.flush()
    return web_session


def session_by_token_hash(
    session: Session, token_hash: str, now: datetime
) -> tuple[WebSession, User] | None:
    row = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(
            WebSession.token_hash == token_hash,
            WebSession.expires_at > now,
            User.is_active.is_(True),
            User.workspace_id == WebSession.workspace_id,
        )
    ).first()
    return None if row is None else (row[0], row[1])


def delete_session(session: Session, token_hash: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == token_hash))


def delete_expired_sessions(session: Session, now: datetime) -> None:
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))


def record_attempt(session: Session, attempt: LoginAttempt) -> None:
    session.add(attempt)
    session.flush()


def lock_sign_in(session: Session, workspace_id: int | None, email: str) -> None:
    """Serialise the sign-in attempts of one account until the transaction ends.

    PostgreSQL: an advisory lock on the account's key. SQLite serialises every writer
    already; there the caller's first write (the attempt's row) takes the lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"sign-in:{workspace_id}:{email}"},
        )


def failures_since(
    session: Session, *, workspace_id: int | None, email: str, client: str, since: datetime
) -> tuple[int, int]:
    """Failed attempts since a time: (for this account of this workspace, from this client
    address)."""
    same_workspace = (
        LoginAttempt.workspace_id.is_(None)
        if workspace_id is None
        else LoginAttempt.workspace_id == workspace_id
    )
    by_email = session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.email == email,
            same_workspace,
            LoginAttempt.success.is_(False),
            LoginAttempt.attempted_at >= since,
        )
    )
    by_client = session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.client == client,
            LoginAttempt.success.is_(False),
            LoginAttempt.attempted_at >= since,
        )
    )
    return int(by_email or 0), int(by_client or 0)
