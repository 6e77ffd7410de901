"""Between a connector and the pipeline: recognise what must not become work, then accept.

Duplicates are absorbed by ``accept`` (unique per workspace, channel and external id).
Reposts of our own posts are dropped by the connectors that see them. Here: our own
replies coming back through the platform, which we already hold as outbound messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from socialdesk.channels import repository
from socialdesk.channels.events import InboundEvent
from socialdesk.channels.sink import AcceptResult, EventSink


@dataclass
class IntakeResult:
    accepted_raw_ids: list[int]
    duplicates: int
    echoes: int


def own_echoes(session: Session, workspace_id: int, events: Sequence[InboundEvent]) -> set[str]:
    """External ids of events that are our own sent replies coming back."""
    echoes: set[str] = set()
    by_channel: dict[str, list[str]] = {}
    for event in events:
        if event.author.is_brand or event.direction == "outbound":
            by_channel.setdefault(event.channel, []).append(event.external_id)
    for channel, ids in by_channel.items():
        echoes |= repository.sent_outbox_external_ids(session, workspace_id, channel, ids)
        in_flight = repository.in_flight_texts(session, workspace_id, channel)
        if in_flight:
            # The platform announced our reply before the sender recorded its id.
            echoes |= {
                e.external_id
                for e in events
                if e.channel == channel
                and (e.author.is_brand or e.direction == "outbound")
                and e.text in in_flight
            }
    return echoes


def accept_events(
    session: Session,
    pipeline: EventSink,
    workspace_id: int,
    events: Sequence[InboundEvent],
    source: str,
) -> IntakeResult:
    """Store new events in the caller's transaction; processing happens after commit."""
    echoes = own_echoes(session, workspace_id, events)
    kept = [e for e in events if e.external_id not in echoes]
    result: AcceptResult = pipeline.accept_in(session, workspace_id, kept, source)
    return IntakeResult(
        accepted_raw_ids=list(result.accepted),
        duplicates=result.duplicates,
        echoes=len(events) - len(kept),
    )
