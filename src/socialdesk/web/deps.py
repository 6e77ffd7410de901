"""Request-scoped dependencies: the unit of work and the caller's workspace."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from socialdesk.core.models import Workspace
from socialdesk.core.workspaces import get_workspace


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


def current_workspace(
    request: Request,
    session: Session = Depends(db_session),
    x_socialdesk_workspace: str | None = Header(default=None),
) -> Workspace:
    """The workspace every query of this request is scoped to."""
    slug = x_socialdesk_workspace or request.app.state.settings.default_workspace
    return get_workspace(session, slug)
