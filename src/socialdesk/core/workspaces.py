"""Finding and creating workspaces (brands)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.core.errors import InvalidInput, NotFound
from socialdesk.core.models import Workspace

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def get_workspace(session: Session, slug: str) -> Workspace:
    workspace = session.scalars(select(Workspace).where(Workspace.slug == slug)).one_or_none()
    if workspace is None:
        raise NotFound(f"no workspace {slug!r}")
    return workspace


def ensure_workspace(session: Session, slug: str, name: str | None = None) -> Workspace:
    """The workspace with this slug, created on first use (zero set-up for one brand)."""
    if not SLUG.match(slug):
        raise InvalidInput(
            f"workspace {slug!r}: use lowercase letters, digits and dashes (at most 64)"
        )
    workspace = session.scalars(select(Workspace).where(Workspace.slug == slug)).one_or_none()
    if workspace is None:
        workspace = Workspace(slug=slug, name=name or slug)
        session.add(workspace)
        session.flush()
    return workspace
