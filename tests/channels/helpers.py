"""Builders shared by the channel and conversation tests: a case opened by the real pipeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.accounts import create_account
from socialdesk.channels.events import InboundEvent
from socialdesk.channels.models import ChannelAccount
from socialdesk.conversations.models import Message
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.people.models import User

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SECRET = "test-secret-key"

# The handle a customer names when they write to the brand (replies to our posts carry it too).
HANDLES = {"x": "@AcmeCare"}

BRAND_IDS = {
    "x": "900",
    "facebook": "page-1",
    "instagram": "ig-1",
    "email": "care@acme.test",
    "webhook": "reviews",
}


def add_account(
    session_factory: sessionmaker[Session],
    workspace_id: int,
    channel: str,
    *,
    credentials: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
) -> ChannelAccount:
    with session_factory() as s:
        account = create_account(
            s,
            workspace_id=workspace_id,
            channel=channel,
            external_id=BRAND_IDS[channel],
            secret_key=SECRET,
            handle=HANDLES.get(channel, f"@acme-{channel}"),
            credentials=credentials or {},
            settings=settings or {},
        )
        s.commit()
        return account


def add_agent(session_factory: sessionmaker[Session], workspace_id: int) -> int:
    with session_factory() as s:
        user = User(workspace_id=workspace_id, email="agent@acme.test", name="Ann Agent")
        s.add(user)
        s.commit()
        return user.id


def inbound(
    external_id: str,
    *,
    channel: str = "x",
    author: str = "42",
    text: str = "@AcmeCare my router is down again",
    private: bool = False,
    reply_to: str | None = None,
    minutes: float = 0,
    **fields: Any,
) -> InboundEvent:
    return InboundEvent.model_validate(
        {
            "channel": channel,
            "external_id": external_id,
            "visibility": "private" if private else "public",
            "author": {"id": author, "handle": f"@cust{author}", "name": "Dana"}
            | fields.pop("author_fields", {}),
            "recipient": {"id": BRAND_IDS[channel]} if private else None,
            "account": BRAND_IDS[channel],
            "text": text,
            "created_at": (T0 + timedelta(minutes=minutes)).isoformat(),
            "reply_to": reply_to,
            **fields,
        }
    )


def ingest(
    session_factory: sessionmaker[Session], workspace_id: int, *events: InboundEvent
) -> None:
    Pipeline(session_factory, clock=lambda: T0 + timedelta(minutes=1)).ingest(
        workspace_id, list(events)
    )


def message_by_external_id(session: Session, external_id: str) -> Message:
    return session.scalars(select(Message).where(Message.external_id == external_id)).one()


def queue_replies(session_factory: sessionmaker[Session], api_base: str, count: int) -> int:
    """A workspace with an X account at ``api_base``, ``count`` customers who wrote, and an
    agent's reply to each ("answer 0", "answer 1", ...) waiting in the outbox; its id."""
    from socialdesk.conversations.replies import send_reply
    from socialdesk.core.models import Workspace

    with session_factory() as s:
        workspace = Workspace(slug="acme", name="Acme")
        s.add(workspace)
        s.commit()
        workspace_id = workspace.id
    add_account(
        session_factory,
        workspace_id,
        "x",
        credentials={"consumer_secret": "c", "access_token": "user-token"},
        settings={"api_base": api_base},
    )
    agent = add_agent(session_factory, workspace_id)
    ingest(
        session_factory,
        workspace_id,
        *[inbound(str(5000 + n), author=str(100 + n)) for n in range(count)],
    )
    with session_factory() as s:
        for n in range(count):
            send_reply(
                s,
                workspace_id=workspace_id,
                conversation_id=message_by_external_id(s, str(5000 + n)).conversation_id,
                author_user_id=agent,
                text=f"answer {n}",
                clock=lambda: T0,
            )
        s.commit()
    return workspace_id
