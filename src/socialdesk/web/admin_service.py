"""Workspace administration behind the admin screens: people, teams, channel accounts."""

from __future__ import annotations

from sqlalchemy.orm import Session

from socialdesk.core.errors import Conflict, InvalidInput, NotFound
from socialdesk.people.models import Role, User
from socialdesk.routing import service as routing
from socialdesk.web import admin_repository as repo


def rename_workspace(session: Session, workspace_id: int, name: str) -> None:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("a workspace name has 1 to 200 characters")
    ws = repo.workspace(session, workspace_id)
    if ws is None:
        raise NotFound("workspace not found")
    ws.name = name
    session.flush()


def update_user(
    session: Session,
    workspace_id: int,
    user_id: int,
    *,
    acting_user_id: int,
    role: str,
    active: bool,
    team_ids: list[int],
) -> User:
    user = repo.user(session, workspace_id, user_id)
    if user is None:
        raise NotFound("user not found")
    if role not in Role.ALL:
        raise InvalidInput(f"a role is one of {', '.join(Role.ALL)}")
    if user.id == acting_user_id and (role != Role.ADMIN or not active):
        raise Conflict("you cannot demote or disable yourself; ask another admin")
    routing.set_teams(session, workspace_id, user.id, team_ids)
    user.role = role
    user.is_active = active
    if not active:
        repo.drop_sessions(session, user.id)
    session.flush()
    return user


def members(session: Session, workspace_id: int) -> dict[int, list[int]]:
    """user id -> team ids."""
    out: dict[int, list[int]] = {}
    for m in repo.memberships(session, workspace_id):
        out.setdefault(m.user_id, []).append(m.team_id)
    return out
