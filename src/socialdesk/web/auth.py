"""Users, passwords, sign-in with rate limiting, and server-side sessions.

Passwords are hashed with argon2id. A session cookie carries a random token; only its
SHA-256 is stored, with a per-session CSRF token that every state-changing request must echo.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from socialdesk.core import audit
from socialdesk.core.clock import Clock, utcnow
from socialdesk.core.errors import Conflict, InvalidInput, PermissionDenied
from socialdesk.people.models import Role, User
from socialdesk.web import repository as repo
from socialdesk.web.models import LoginAttempt, WebSession

SESSION_LIFETIME = timedelta(hours=12)
# Limits per 15 minutes: a guessed account is protected even from many addresses, and one
# address cannot sweep many accounts.
RATE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_CLIENT = 20
MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
# Compared against when the account does not exist, so timing does not reveal which exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class LoginRejected(PermissionDenied):
    pass


class TooManyAttempts(PermissionDenied):
    pass


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mention_handle(user: User) -> str:
    """The name colleagues type after @ in a note: the local part of the e-mail address."""
    return user.email.split("@", 1)[0].lower()


def create_user(
    session: Session,
    workspace_id: int,
    email: str,
    name: str,
    password: str,
    role: str = Role.AGENT,
) -> User:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInput(f"not an e-mail address: {email!r}")
    if role not in Role.ALL:
        raise InvalidInput(f"unknown role {role!r}; choose one of {', '.join(Role.ALL)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if not name.strip():
        raise InvalidInput("the name is empty")
    if repo.user_by_email(session, workspace_id, email) is not None:
        raise Conflict(f"a user with e-mail {email} already exists in this workspace")
    user = User(
        workspace_id=workspace_id,
        email=email,
        name=name.strip(),
        password_hash=hash_password(password),
        role=role,
        is_active=True,
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = hash_password(password)
    session.flush()


def authenticate(
    session: Session,
    *,
    workspace_slug: str,
    email: str,
    password: str,
    client: str,
    clock: Clock = utcnow,
) -> User:
    """Check a sign-in; every attempt is recorded, and too many failures lock the door.

    Failures are counted per account of a workspace (the same e-mail typed into another
    workspace is another account) and per client address. The attempt is recorded as a
    failure before the password is checked, under a lock per account, so parallel attempts
    are counted one after the other: no more than the limit are ever checked.
    """
    now = clock()
    email = email.strip().lower()
    workspace = repo.workspace_by_slug(session, workspace_slug)
    workspace_id = None if workspace is None else workspace.id
    repo.lock_sign_in(session, workspace_id, email)
    attempt = LoginAttempt(
        workspace_id=workspace_id,
        email=email[:320],
        client=client[:64],
        success=False,
        attempted_at=now,
    )
    repo.record_attempt(session, attempt)
    by_email, by_client = repo.failures_since(
        session, workspace_id=workspace_id, email=email, client=client, since=now - RATE_WINDOW
    )
    # Both counts include this attempt.
    if by_email > MAX_FAILURES_PER_ACCOUNT or by_client > MAX_FAILURES_PER_CLIENT:
        session.delete(attempt)  # refused unchecked: it does not prolong the lock-out
        session.flush()
        raise TooManyAttempts("too many failed sign-in attempts; try again in 15 minutes")
    user = None if workspace_id is None else repo.user_by_email(session, workspace_id, email)
    if user is None:
        _dummy_check()  # same time as a real check: no hint of which accounts exist
        ok = False
    else:
        ok = user.is_active and verify_password(user.password_hash, password)
    if ok:
        attempt.success = True
        session.flush()
    if workspace is not None:
        audit.record(
            session,
            workspace.id,
            audit.Actor(email[:400], user.id if user is not None else None, client),
            "signin.succeeded" if ok else "signin.failed",
            "user",
            user.id if user is not None else "",
            now=now,
        )
    if not ok or user is None:
        raise LoginRejected("wrong workspace, e-mail or password")
    return user


def _dummy_check() -> None:
    verify_password(_DUMMY_HASH, "not-a-real-password")


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str
    csrf_token: str
    expires_at: datetime


def start_session(session: Session, user: User, *, clock: Clock = utcnow) -> NewSession:
    now = clock()
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = now + SESSION_LIFETIME
    repo.delete_expired_sessions(session, now)
    repo.add_session(
        session,
        WebSession(
            workspace_id=user.workspace_id,
            user_id=user.id,
            token_hash=token_hash(token),
            csrf_token=csrf,
            created_at=now,
            expires_at=expires,
        ),
    )
    return NewSession(token=token, csrf_token=csrf, expires_at=expires)


def resolve_session(
    session: Session, token: str, *, clock: Clock = utcnow
) -> tuple[WebSession, User] | None:
    if not token:
        return None
    return repo.session_by_token_hash(session, token_hash(token), clock())


def end_session(session: Session, token: str) -> None:
    repo.delete_session(session, token_hash(token))
    session.flush()
