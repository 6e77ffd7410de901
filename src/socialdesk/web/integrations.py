"""What the console shows from triage, routing and channels, where those parts are installed.

Each function answers "nothing known" until its part provides the data, so every screen
works on the foundation alone and lights up as the parts land.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from socialdesk.conversations import actions
from socialdesk.core.clock import Clock, utcnow
from socialdesk.core.errors import InvalidInput
from socialdesk.routing.models import User

# Longest text each channel accepts in one message (platform documentation).
CHANNEL_LIMITS = {
    "x": 280,
    "facebook": 8000,
    "instagram": 1000,
    "email": 100_000,
    "webhook": 10_000,
}


@dataclass(frozen=True, slots=True)
class TriageView:
    kind: str | None = None
    sentiment: str | None = None
    compound: float | None = None
    topic: str | None = None
    language: str | None = None
    severity: int | None = None
    route_to: str | None = None
    needs_response: float | None = None
    confidence: float | None = None
    signals: tuple[str, ...] = ()
    explanation: tuple[str, ...] = field(default_factory=tuple)


def triage_for_messages(
    session: Session, workspace_id: int, message_ids: Sequence[int]
) -> dict[int, TriageView]:
    return {}


def presence_of(session: Session, workspace_id: int) -> dict[int, str]:
    return {}


def capacity_of(session: Session, workspace_id: int) -> dict[int, int]:
    return {}


def replies_available() -> bool:
    return False


def channel_limit(channel: str) -> int:
    return CHANNEL_LIMITS.get(channel, 10_000)


class PartMissing(InvalidInput):
    """The action needs a part of the product that this installation does not have yet."""


def assign_to_me(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: int,
    actor: User,
    clock: Clock = utcnow,
) -> None:
    actions.assign_to_me(
        session,
        workspace_id=workspace_id,
        conversation_id=conversation_id,
        actor=actor,
        clock=clock,
    )


def transfer(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: int,
    actor: User,
    to_user_id: int | None,
    to_team_id: int | None,
    clock: Clock = utcnow,
) -> None:
    actions.transfer(
        session,
        workspace_id=workspace_id,
        conversation_id=conversation_id,
        actor=actor,
        to_user_id=to_user_id,
        to_team_id=to_team_id,
        clock=clock,
    )


def send_reply(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: int,
    author_user_id: int,
    text: str,
    visibility: str,
    kb_article_url: str | None,
) -> None:
    raise PartMissing("replies need the channels part, which is not installed")


def channel_shift(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: int,
    actor: User,
    action: str,
    reason: str,
    detail: str,
    clock: Clock = utcnow,
) -> None:
    raise PartMissing("channel shifts need the channels part, which is not installed")


def relabel(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: int,
    message_id: int,
    actor: User,
    kind: str | None,
    topic: str | None,
    sentiment: str | None,
    verdict: str | None,
) -> None:
    raise PartMissing("relabelling needs the triage part, which is not installed")


def sentiment_rows(
    session: Session, workspace_id: int, now: datetime
) -> list[tuple[datetime, float]]:
    return []


def topic_counts(session: Session, workspace_id: int, now: datetime) -> list[tuple[str, int]]:
    return []


def agent_settings(session: Session, workspace_id: int) -> dict[int, dict[str, str]]:
    """Per agent: skills, capacity ... as the routing part keeps them."""
    return {}


def save_agent_settings(session: Session, workspace_id: int, user_id: int, form: FormData) -> None:
    return None


def value_weights(session: Session, workspace_id: int) -> dict[str, float] | None:
    return None


def save_value_weights(session: Session, workspace_id: int, form: FormData) -> None:
    raise PartMissing("value weights need the routing part, which is not installed")


def sla_policies(session: Session, workspace_id: int) -> list[dict[str, str]] | None:
    return None


def taxonomy(session: Session, workspace_id: int) -> list[str] | None:
    return None
