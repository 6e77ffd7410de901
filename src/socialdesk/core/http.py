"""Request-scoped dependencies of the JSON API: the unit of work and who is calling.

An API call is made either by a signed-in person from the web console (the session cookie,
with the CSRF header on anything that changes state) or by an integration with an API token
(``Authorization: Bearer sdk_...``). Either way the caller belongs to one workspace, and
every query of the request is scoped to it.

Every domain's router depends on these, and the web application, which mounts the routers,
decides how credentials are checked: it installs an ``Authenticator`` as
``app.state.authenticate``. So the domains never import the web package that imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from socialdesk.core import audit
from socialdesk.core.clock import Clock, utcnow
from socialdesk.core.db import unit_of_work
from socialdesk.core.errors import InvalidInput, NotFound, PermissionDenied, SocialdeskError
from socialdesk.core.models import Workspace
from socialdesk.core.roles import AccessRole, has_role


class NotAuthenticated(SocialdeskError):
    """No valid credentials: the API answers 401."""


@dataclass(frozen=True, slots=True)
class Principal:
    workspace_id: int
    role: str
    user_id: int | None
    token_id: int | None


# Checks the request's credentials (raising NotAuthenticated or PermissionDenied) and says who
# is calling; the web application installs one as app.state.authenticate.
Authenticator = Callable[[Request, Session], Principal]


def db_session(request: Request) -> Iterator[Session]:
    """One transaction per request: the request owns the unit of work and commits it."""
    with unit_of_work(request.app.state.session_factory) as session:
        audit.set_actor(session, lambda: request_actor(request))
        yield session


def client_of(request: Request) -> str:
    return request.client.host if request.client else ""


def request_actor(request: Request) -> audit.Actor:
    """Who is calling, for the audit log of what this request changes (the authenticator
    names them in ``request.state.actor``)."""
    actor: audit.Actor | None = getattr(request.state, "actor", None)
    return actor or audit.Actor("anonymous", None, client_of(request))


def current_principal(request: Request, session: Session = Depends(db_session)) -> Principal:
    authenticate: Authenticator = request.app.state.authenticate
    return authenticate(request, session)


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


def acting_user_id(principal: Principal, user_id: int | None) -> int:
    """The person an action is done as: the signed-in user by default. Only supervisors act
    for someone else; an API token belongs to no person, so it names one (``user_id``), and
    only a supervisor's or an admin's token may."""
    if principal.user_id is not None:
        if user_id is None or user_id == principal.user_id:
            return principal.user_id
        if not has_role(principal.role, AccessRole.SUPERVISOR):
            raise PermissionDenied("only supervisors act for someone else")
        return user_id
    if user_id is None:
        raise InvalidInput("name the acting agent (user_id)")
    if not has_role(principal.role, AccessRole.SUPERVISOR):
        raise PermissionDenied("an agent-role API token cannot act for a person")
    return user_id


def request_clock(request: Request) -> Clock:
    """The application's clock (a test or the simulator may set one), else the wall clock."""
    clock: Clock | None = getattr(request.app.state, "clock", None)
    return clock or utcnow


def after_commit(
    request: Request,
    workspace_id: int,
    *,
    agents: Sequence[int] = (),
    tasks: Sequence[int] = (),
    policies: bool = False,
    outbox: bool = False,
) -> None:
    """After the request's commit, what this process runs reacts at once: the live screens
    refresh, the outbox sender wakes (``outbox``), and the routing engine hears of agents
    with free slots, work back in a list or new policies."""
    state = request.app.state
    hub = getattr(state, "live_hub", None)
    if hub is not None:
        hub.notify(workspace_id)
    wake = getattr(state, "outbox_wake", None)
    if outbox and wake is not None:
        wake()
    engine = getattr(state, "routing_engine", None)
    if engine is None:
        return
    if agents:
        engine.on_agents(workspace_id, list(agents))
    if tasks:
        engine.on_tasks(workspace_id, list(tasks))
    if policies:
        engine.policies_changed(workspace_id)


class ErrorOut(BaseModel):
    detail: str = Field(description="What is wrong, in words a person can act on")


def _error(description: str, example: str) -> dict[str, Any]:
    return {
        "model": ErrorOut,
        "description": description,
        "content": {"application/json": {"example": {"detail": example}}},
    }


# The answers every operation may give besides its own (documented on each router).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("Bad input, with the reason", "the reply is empty"),
    401: _error("No valid credentials", "unknown or revoked API token"),
    403: _error("A role below the operation's", "this needs the admin role or above"),
    404: _error("Not in the caller's workspace", "no conversation 42 in this workspace"),
    409: _error("The state does not allow it now", "already taken by Ana Agent"),
}
