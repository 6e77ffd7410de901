"""All SQL of the admin screens."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from socialdesk.channels.models import ChannelAccount
from socialdesk.core.models import Workspace
from socialdesk.people.models import Team, TeamMember, User
from socialdesk.web.models import WebSession


def workspace(session: Session, workspace_id: int) -> Workspace | None:
    return session.get(Workspace, workspace_id)


def teams(session: Session, workspace_id: int) -> list[Team]:
    return list(
        session.scalars(select(Team).where(Team.workspace_id == workspace_id).order_by(Team.name))
    )


def user(session: Session, workspace_id: int, user_id: int) -> User | None:
    return session.scalars(
        select(User).where(User.workspace_id == workspace_id, User.id == user_id)
    ).first()


def users(session: Session, workspace_id: int) -> list[User]:
    return list(
        session.scalars(select(User).where(User.workspace_id == workspace_id).order_by(User.name))
    )


def memberships(session: Session, workspace_id: int) -> list[TeamMember]:
    return list(
        session.scalars(
            select(TeamMember)
            .join(Team, Team.id == TeamMember.team_id)
            .where(Team.workspace_id == workspace_id)
        )
    )


def drop_sessions(session: Session, user_id: int) -> None:
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))


def channel_accounts(session: Session, workspace_id: int) -> list[ChannelAccount]:
    return list(
        session.scalars(
            select(ChannelAccount)
            .where(ChannelAccount.workspace_id == workspace_id)
            .order_by(ChannelAccount.channel, ChannelAccount.handle)
        )
    )
