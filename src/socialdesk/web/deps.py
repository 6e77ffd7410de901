"""How the JSON API checks credentials: a session cookie (with CSRF) or an API token.

The request dependencies themselves (principal, workspace, session, role check) live in
``socialdesk.core.http``, where every domain's router can use them; the application installs
``authenticate`` as ``app.state.authenticate``.
"""

from __future__ import annotations

import hmac

from fastapi import Request
from sqlalchemy.orm import Session

from socialdesk.core import audit
from socialdesk.core.errors import PermissionDenied
from socialdesk.core.http import NotAuthenticated, Principal, client_of
from socialdesk.web import auth
from socialdesk.web.api_tokens import find_token
from socialdesk.web.guard import CSRF_HEADER, SESSION_COOKIE


def authenticate(request: Request, session: Session) -> Principal:
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        token = find_token(session, secret.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            raise NotAuthenticated("unknown or revoked API token")
        request.state.actor = audit.Actor(f"token:{token.name}", None, client_of(request))
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
    request.state.actor = audit.Actor(user.email, user.id, client_of(request))
    return Principal(user.workspace_id, user.role, user.id, None)
