"""Small builders for inbound events in tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

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
