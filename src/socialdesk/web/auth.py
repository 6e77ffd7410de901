"""Persons, memberships, passwords, sign-in with rate limiting, and server-side sessions.

A person has one e-mail and one password for all the workspaces they work in; each
workspace holds their membership (a ``users`` row: role, presence, skills, capacity). A
session is bound to one membership: it reads and acts in that membership's workspace only,
and moving to another workspace (``switch_workspace``) checks the membership again and
starts a new session. Passwords are hashed with argon2id. A session cookie carries a random
token; only its SHA-256 is stored, with a per-session CSRF token that every state-changing
request must echo.
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
from socialdesk.core.models import Workspace
from socialdesk.people.models import Person, Role, User
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
    """Give a person a membership of a workspace, with a role; a new person gets ``password``.

    A person who exists already (they work in another workspace) keeps their own password:
    ``password`` is then ignored, so that no admin of one workspace can set the password that
    opens another workspace.
    """
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInput(f"not an e-mail address: {email!r}")
    if role not in Role.ALL:
        raise InvalidInput(f"unknown role {role!r}; choose one of {', '.join(Role.ALL)}")
    if not name.strip():
        raise InvalidInput("the name is empty")
    if repo.user_by_email(session, workspace_id, email) is not None:
        raise Conflict(f"a user with e-mail {email} already exists in this workspace")
    person = repo.person_by_email(session, email)
    if person is None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidInput(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
        person = Person(email=email, password_hash=hash_password(password))
        session.add(person)
        session.flush()
    user = User(
        workspace_id=workspace_id,
        person_id=person.id,
        email=email,
        name=name.strip(),
        role=role,
        is_active=True,
    )
    session.add(user)
    session.flush()
    return user


def person_exists(session: Session, email: str) -> bool:
    return repo.person_by_email(session, email.strip().lower()) is not None


def password_hash_of(session: Session, user: User) -> str | None:
    """The hash of the password the membership's person signs in with (None: cannot)."""
    person = None if user.person_id is None else repo.person(session, user.person_id)
    return None if person is None else person.password_hash


def set_password(session: Session, user: User, password: str) -> None:
    """Set the password of the membership's person: it opens all their memberships."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    person = None if user.person_id is None else repo.person(session, user.person_id)
    if person is None:
        if repo.person_by_email(session, user.email) is not None:
            raise Conflict(f"{user.email} signs in already as a person of another workspace")
        person = Person(email=user.email)
        session.add(person)
        session.flush()
        user.person_id = person.id
    person.password_hash = hash_password(password)
    for member, _ws in repo.active_memberships(session, person.id):
        audit.record(
            session,
            member.workspace_id,
            None,
            "person.password_changed",
            "user",
            member.id,
        )
    session.flush()


def authenticate(
    session: Session,
    *,
    workspace_slug: str,
    email: str,
    password: str,
    client: str,
    clock: Clock = utcnow,
    default_slug: str = "",
) -> User:
    """Check a sign-in; every attempt is recorded, and too many failures lock the door.

    Failures are counted per account of a workspace (the same e-mail typed into another
    workspace is another account) and per client address. The attempt is recorded as a
    failure before the password is checked, under a lock per account, so parallel attempts
    are counted one after the other: no more than the limit are ever checked.

    An empty ``workspace_slug`` signs the person in to one of their active memberships: the
    one of ``default_slug``'s workspace if they have it, else the first by workspace name.
    Its failures count as those of an account of no workspace.
    """
    now = clock()
    email = email.strip().lower()
    any_workspace = not workspace_slug.strip()
    workspace = None if any_workspace else repo.workspace_by_slug(session, workspace_slug)
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
    if any_workspace:
        user = _membership_to_start(session, email, default_slug)
    else:
        user = None if workspace_id is None else repo.user_by_email(session, workspace_id, email)
    if user is None:
        _dummy_check()  # same time as a real check: no hint of which accounts exist
        ok = False
    else:
        ok = user.is_active and verify_password(password_hash_of(session, user), password)
    if ok:
        attempt.success = True
        session.flush()
    # Recorded in the workspace typed, or in the one an empty field would have opened.
    recorded_in = workspace_id
    if recorded_in is None and user is not None:
        recorded_in = user.workspace_id
    if recorded_in is not None:
        audit.record(
            session,
            recorded_in,
            audit.Actor(email[:400], user.id if user is not None else None, client),
            "signin.succeeded" if ok else "signin.failed",
            "user",
            user.id if user is not None else "",
            now=now,
        )
    if not ok or user is None:
        raise LoginRejected("wrong workspace, e-mail or password")
    return user


def _membership_to_start(session: Session, email: str, default_slug: str) -> User | None:
    person = repo.person_by_email(session, email)
    if person is None:
        return None
    found = repo.active_memberships(session, person.id)
    preferred = [member for member, ws in found if ws.slug == default_slug]
    ordered = preferred + [member for member, _ws in found]
    return ordered[0] if ordered else None


def _dummy_check() -> None:
    verify_password(_DUMMY_HASH, "not-a-real-password")


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Membership:
    """One workspace a signed-in person may switch to, and their role there."""

    workspace_id: int
    slug: str
    name: str
    role: str


def memberships(session: Session, user: User) -> list[Membership]:
    """Every active membership of the membership's person (itself included), by name."""
    if user.person_id is None:
        return []
    return [
        Membership(ws.id, ws.slug, ws.name, member.role)
        for member, ws in repo.active_memberships(session, user.person_id)
    ]


def switch_workspace(
    session: Session,
    *,
    token: str,
    user: User,
    workspace_id: int,
    client: str,
    clock: Clock = utcnow,
) -> tuple[User, NewSession]:
    """Move a signed-in person to their membership of another workspace.

    The membership is looked up again (it must be active now, and the same person's); the
    old session ends and a new one, bound to the target membership, begins. Both workspaces'
    audit logs record the move.
    """
    target = (
        None
        if user.person_id is None
        else repo.active_membership(session, user.person_id, workspace_id)
    )
    if target is None:
        raise PermissionDenied("you have no active membership of that workspace")
    source = session.get(Workspace, user.workspace_id)
    destination = session.get(Workspace, workspace_id)
    if source is None or destination is None:
        raise PermissionDenied("you have no active membership of that workspace")
    now = clock()
    end_session(session, token)
    new = start_session(session, target, clock=clock)
    move = {"from": source.slug, "to": destination.slug}
    for ws, member in ((source, user), (destination, target)):
        audit.record(
            session,
            ws.id,
            audit.Actor(user.email, member.id, client),
            "session.switched",
            "user",
            member.id,
            after=move,
            now=now,
        )
    return target, new


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
