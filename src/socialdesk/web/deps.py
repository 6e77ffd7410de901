"""Request-scoped dependencies of the JSON API: the unit of work and who is calling.

An API call is made either by a signed-in person from the web console (the session cookie,
with the CSRF header on anything that changes state) or by an integration with an API token
(``Authorization: Bearer sdk_...``). Either way the caller belongs to one workspace, and
every query of the request is scoped to it.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from socialdesk.core.errors import NotFound, PermissionDenied, SocialdeskError
from socialdesk.core.models import Workspace
from socialdesk.web import auth
from socialdesk.web.api_tokens import find_token
from socialdesk.web.auth import has_role
from socialdesk.web.guard import CSRF_HEADER, SESSION_COOKIE


class NotAuthenticated(SocialdeskError):
    """No valid credentials: the API answers 401."""


@dataclass(frozen=True, slots=True)
class Principal:
    workspace_id: int
    role: str
    user_id: int | None
    token_id: int | None


def db_session(request: Request) -> Iterator[Session]:
    """One transaction per request: the request owns the unit of work and commits it."""
    session: Session = request.app.state.session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def current_principal(request: Request, session: Session = Depends(db_session)) -> Principal:
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        token = find_token(session, secret.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            raise NotAuthenticated("unknown or revoked API token")
        return Principal(token.workspace_id, token.role, None, token.id)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    found = auth.resolve_session(session, cookie) if cookie else None
    if found is None:
        raise NotAuthenticated("sign in, or send an API token as 'Authorization: Bearer ...'")
    web_session, user = found
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        supplied = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(supplied.encode(), web_session.csrf_token.encode()):
            raise PermissionDenied("missing or wrong CSRF token")
    return Principal(user.workspace_id, user.role, user.id, None)


def require_role(role: str) -> Callable[[Principal], Principal]:
    def check(principal: Principal = Depends(current_principal)) -> Principal:
        if not has_role(principal.role, role):
            raise PermissionDenied(f"this needs the {role} role or above")
        return principal

    return check


def current_workspace(
    principal: Principal = Depends(current_principal), session: Session = Depends(db_session)
) -> Workspace:
    """The caller's workspace: every query of this request is scoped to it."""
    workspace = session.get(Workspace, principal.workspace_id)
    if workspace is None:
        raise NotFound("the caller's workspace no longer exists")
    return workspace
