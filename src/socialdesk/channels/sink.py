"""Where connectors hand over what they parse: the interface the ingest pipeline implements.

Connectors sit below the pipeline: they store events through an ``EventSink`` and ask it to
process them, and never import the pipeline itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.orm import Session

from socialdesk.channels.events import InboundEvent


@dataclass
class AcceptResult:
    accepted: list[int] = field(default_factory=list)
    duplicates: int = 0
    # (raw event id, event) of the events stored by this call, in input order.
    stored: list[tuple[int, InboundEvent]] = field(default_factory=list)


class EventSink(Protocol):
    def accept_in(
        self, session: Session, workspace_id: int, events: Sequence[InboundEvent], source: str
    ) -> AcceptResult:
        """Store new events in the caller's transaction (duplicates are absorbed)."""
        ...

    def process_pending(self, workspace_id: int, raw_ids: Sequence[int] | None = None) -> object:
        """Process stored events (these, or every pending one) in transactions of its own."""
        ...
