"""Sign in, switch workspace, sign out."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from socialdesk.core.limits import MAX_DB_INT
from socialdesk.core.roles import has_role
from socialdesk.people.models import Role, User
from socialdesk.web import auth
from socialdesk.web.guard import (
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    AgentViewer,
    DbSession,
    client_address,
    get_clock,
)
from socialdesk.web.templating import render

router = APIRouter(tags=["console"])


def _set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    # Secure: browsers treat http://localhost and 127.0.0.1 as secure origins, so the demo works.
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, secure=True, samesite="strict", path="/"
    )


def _login_page(
    request: Request, error: str | None, status: int = 200, email: str = ""
) -> Response:
    token = secrets.token_urlsafe(24)
    settings = request.app.state.settings
    response = render(
        request,
        "login.html",
        {
            "error": error,
            "prelogin": token,
            "workspace": settings.default_workspace,
            "email": email,
        },
        status_code=status,
    )
    _set_cookie(response, PRELOGIN_COOKIE, token, 1800)
    return response


@router.get("/login", include_in_schema=False)
def login_form(request: Request) -> Response:
    return _login_page(request, None)


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    db: DbSession,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    workspace: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    expected = request.cookies.get(PRELOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), csrf_token.encode()):
        return _login_page(request, "The form expired; please sign in again.", 403, email)
    try:
        user = auth.authenticate(
            db,
            workspace_slug=workspace.strip(),
            default_slug=request.app.state.settings.default_workspace,
            email=email,
            password=password,
            client=client_address(request),
            clock=get_clock(request),
        )
    except auth.TooManyAttempts as exc:
        db.commit()
        return _login_page(request, str(exc), 429, email)
    except auth.LoginRejected as exc:
        db.commit()
        return _login_page(request, str(exc), 401, email)
    new = auth.start_session(db, user, clock=get_clock(request))
    db.commit()
    response = _signed_in(user, new)
    response.delete_cookie(PRELOGIN_COOKIE, path="/")
    return response


def _signed_in(user: User, new: auth.NewSession) -> Response:
    # Supervisors start on the dashboard: the state of the whole desk is their work.
    landing = "/dashboard" if has_role(user.role, Role.SUPERVISOR) else "/console"
    response = RedirectResponse(landing, 303)
    _set_cookie(response, SESSION_COOKIE, new.token, int(auth.SESSION_LIFETIME.total_seconds()))
    return response


@router.post("/switch-workspace", include_in_schema=False)
def switch_workspace(
    request: Request,
    viewer: AgentViewer,
    db: DbSession,
    workspace_id: Annotated[int, Form(ge=1, le=MAX_DB_INT)],
) -> Response:
    """Move to the person's membership of another workspace (checked again, new session)."""
    user, new = auth.switch_workspace(
        db,
        token=request.cookies.get(SESSION_COOKIE, ""),
        user=viewer.user,
        workspace_id=workspace_id,
        client=client_address(request),
        clock=get_clock(request),
    )
    db.commit()
    return _signed_in(user, new)


@router.post("/logout", include_in_schema=False)
def logout(request: Request, viewer: AgentViewer, db: DbSession) -> Response:
    auth.end_session(db, request.cookies.get(SESSION_COOKIE, ""))
    db.commit()
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response
