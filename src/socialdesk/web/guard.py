"""Request dependencies: the database session, the signed-in viewer, roles and CSRF checks."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from socialdesk.core import audit
from socialdesk.core.clock import Clock, utcnow
from socialdesk.core.errors import PermissionDenied
from socialdesk.core.roles import has_role
from socialdesk.people.models import Role, User
from socialdesk.web import auth
from socialdesk.web.models import WebSession

SESSION_COOKIE = "sd_session"
PRELOGIN_COOKIE = "sd_prelogin"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


class NotSignedIn(Exception):
    """No valid session: pages redirect to the sign-in form, API calls get 401."""


class CsrfRejected(PermissionDenied):
    pass


def get_clock(request: Request) -> Clock:
    clock: Clock | None = getattr(request.app.state, "clock", None)
    return clock or utcnow


def get_db(request: Request) -> Iterator[Session]:
    """One session per request; the endpoint commits what it changed (it owns the unit of work)."""
    with request.app.state.session_factory() as session:
        audit.set_actor(session, lambda: viewer_actor(request))
        yield session


def viewer_actor(request: Request) -> audit.Actor:
    """The signed-in person, for the audit log of what this request changes."""
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    client = client_address(request)
    if viewer is None:
        return audit.Actor("anonymous", None, client)
    return audit.Actor(viewer.user.email, viewer.user.id, client)


DbSession = Annotated[Session, Depends(get_db)]


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in person as one membership: the session's workspace and role there."""

    user: User
    web_session: WebSession
    # Every active membership of the person (this one included): the workspace switcher.
    memberships: tuple[auth.Membership, ...] = ()

    @property
    def workspace_id(self) -> int:
        return self.user.workspace_id

    @property
    def csrf_token(self) -> str:
        return self.web_session.csrf_token

    def can(self, role: str) -> bool:
        return has_role(self.user.role, role)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _check_csrf(request: Request, expected: str) -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    supplied = request.headers.get(CSRF_HEADER, "")
    if not supplied:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            supplied = value if isinstance(value, str) else ""
    if not supplied or not hmac.compare_digest(supplied.encode(), expected.encode()):
        raise CsrfRejected("the form expired or did not come from this site; reload and retry")


def require(role: str) -> Callable[..., object]:
    """A dependency giving the signed-in viewer if they hold ``role`` (or a higher one)."""

    async def dependency(request: Request) -> Viewer:
        token = request.cookies.get(SESSION_COOKIE, "")
        factory = request.app.state.session_factory
        clock = get_clock(request)
        with factory() as session:
            found = auth.resolve_session(session, token, clock=clock)
            if found is not None:
                choices = tuple(auth.memberships(session, found[1]))
                session.expunge_all()
        if found is None:
            raise NotSignedIn()
        web_session, user = found
        viewer = Viewer(user=user, web_session=web_session, memberships=choices)
        # Set first, so that even a refusal renders with the viewer's navigation.
        request.state.viewer = viewer
        if not viewer.can(role):
            raise PermissionDenied(f"this page is for the {role} role and above")
        await _check_csrf(request, web_session.csrf_token)
        return viewer

    return dependency


AgentViewer = Annotated[Viewer, Depends(require(Role.AGENT))]
SupervisorViewer = Annotated[Viewer, Depends(require(Role.SUPERVISOR))]
AdminViewer = Annotated[Viewer, Depends(require(Role.ADMIN))]
