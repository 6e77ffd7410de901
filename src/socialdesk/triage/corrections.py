"""Agents' corrections of triage: the labels the next training run learns from (the console
and the API call ``relabel``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from socialdesk.conversations import actions
from socialdesk.conversations.models import Message
from socialdesk.core.clock import Clock, utcnow
from socialdesk.core.errors import InvalidInput, NotFound
from socialdesk.people.models import User
from socialdesk.triage import service


def record_correction(
    session: Session,
    *,
    workspace_id: int,
    message_id: int,
    user_id: int | None = None,
    kind: str | None = None,
    topic: str | None = None,
    sentiment: str | None = None,
    verdict: str | None = None,
    clock: Clock = utcnow,
) -> None:
    """Store each correction as a label and show it on the message's result at once.

    ``verdict`` is ``noise`` (dismissed: not for care) or ``marketing`` (meant for marketing).
    """
    if verdict == "noise":
        service.dismiss_as_noise(session, workspace_id, message_id, user_id=user_id, clock=clock)
    elif verdict == "marketing":
        service.mark_as_marketing(session, workspace_id, message_id, user_id=user_id, clock=clock)
    elif verdict is not None:
        raise InvalidInput("the verdict is noise or marketing")
    for task, label in (("kind", kind), ("topic", topic), ("sentiment", sentiment)):
        if label:
            service.relabel(
                session, workspace_id, message_id, task, label, user_id=user_id, clock=clock
            )


SENTIMENTS = ("negative", "neutral", "positive")
VERDICTS = ("noise", "marketing")


def relabel(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: int,
    message_id: int,
    actor: User,
    kind: str | None = None,
    topic: str | None = None,
    sentiment: str | None = None,
    verdict: str | None = None,
    clock: Clock = utcnow,
) -> None:
    """An agent corrects triage on one message of a case: the correction is the label the
    next training run learns from, it is written in the case's history, and it acts on the
    work at once (noise leaves the lists, marketing-meant items go to marketing's list)."""
    message = session.get(Message, message_id)
    if (
        message is None
        or message.workspace_id != workspace_id
        or message.conversation_id != conversation_id
    ):
        raise NotFound("no such message in this case")
    if not any((kind, topic, sentiment, verdict)):
        raise InvalidInput("choose at least one label to correct")
    if sentiment and sentiment not in SENTIMENTS:
        raise InvalidInput("sentiment is negative, neutral or positive")
    if verdict and verdict not in VERDICTS:
        raise InvalidInput("the verdict is noise or marketing")
    labels = {
        k: v
        for k, v in (
            ("kind", kind),
            ("topic", topic),
            ("sentiment", sentiment),
            ("verdict", verdict),
        )
        if v
    }
    record_correction(
        session,
        workspace_id=workspace_id,
        message_id=message_id,
        user_id=actor.id,
        kind=kind,
        topic=topic,
        sentiment=sentiment,
        verdict=verdict or None,
        clock=clock,
    )
    actions.record_event(
        session,
        workspace_id=workspace_id,
        conversation_id=conversation_id,
        actor=actor,
        event="relabel",
        clock=clock,
        message_id=message_id,
        **labels,
    )
    if verdict == "noise":
        actions.resolve(
            session,
            workspace_id=workspace_id,
            conversation_id=conversation_id,
            actor=actor,
            clock=clock,
        )
    elif verdict == "marketing" or kind == "marketing":
        actions.send_to_queue(
            session,
            workspace_id=workspace_id,
            conversation_id=conversation_id,
            actor=actor,
            queue="marketing",
            clock=clock,
        )
