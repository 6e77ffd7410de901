"""Small builders for inbound events in tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.events import InboundEvent, Party

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def event(
    external_id: str,
    author: str = "u1",
    *,
    minutes: float = 0,
    channel: str = "x",
    text: str = "hello",
    reply_to: str | None = None,
    outbound: bool = False,
    private: bool = False,
    recipient: str | None = None,
    handle: str | None = None,
    **fields: Any,
) -> InboundEvent:
    author_fields = fields.pop("author_fields", {})
    return InboundEvent.model_validate(
        {
            "channel": channel,
            "external_id": external_id,
            "direction": "outbound" if outbound else "inbound",
            "visibility": "private" if private else "public",
            "author": Party(
                id=author,
                handle=handle if handle is not None else author,
                is_brand=outbound,
                **author_fields,
            ),
            "recipient": Party(id=recipient) if recipient else None,
            "text": text,
            "created_at": T0 + timedelta(minutes=minutes),
            "reply_to": reply_to,
            **fields,
        }
    )


def store_failed(
    session_factory: sessionmaker[Session], workspace_id: int, inbound: InboundEvent
) -> Callable[[], None]:
    """Store one event whose processing fails (its stored payload is broken); returns the
    fix, which puts the good payload back so that ``events retry`` can process it."""
    from socialdesk.channels.inbox import RawEvent
    from socialdesk.ingest.pipeline import Pipeline

    pipeline = Pipeline(session_factory)
    accepted = pipeline.accept(workspace_id, [inbound])
    with session_factory() as s:
        raw = s.scalars(select(RawEvent)).one()
        good = dict(raw.payload)
        raw.payload = {**good, "channel": "carrier-pigeon"}
        s.commit()
    pipeline.process_pending(workspace_id, accepted.accepted)

    def fix() -> None:
        with session_factory() as s:
            s.scalars(select(RawEvent)).one().payload = good
            s.commit()

    return fix
