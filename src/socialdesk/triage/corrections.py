"""The entry point the agent console calls when an agent corrects triage."""

from __future__ import annotations

from sqlalchemy.orm import Session

from socialdesk.core.clock import Clock, utcnow
from socialdesk.core.errors import InvalidInput
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
