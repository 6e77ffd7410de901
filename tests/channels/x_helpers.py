"""Shared by the X tests: an account on the fake X API and a case answered by an agent."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.models import ChannelAccount
from socialdesk.conversations.replies import send_reply
from socialdesk.core.models import Workspace
from tests.channels.fake_x import FakeX
from tests.channels.helpers import T0, add_account, add_agent, message_by_external_id

PAYLOADS = Path(__file__).parent / "payloads"
CONSUMER_SECRET = "consumer-secret-of-the-app"
TWEET_ID = "1855000000000000001"


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def sign(body: bytes, secret: str = CONSUMER_SECRET) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def deliver(client: TestClient, account: ChannelAccount, body: bytes, **headers: str) -> Any:
    headers.setdefault("x-twitter-webhooks-signature", sign(body))
    return client.post(f"/webhooks/x/{account.id}", content=body, headers=headers)


def x_account(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    fake_x: FakeX,
    credentials: dict[str, Any] | None = None,
    **settings: Any,
) -> ChannelAccount:
    return add_account(
        session_factory,
        workspace.id,
        "x",
        credentials={"consumer_secret": CONSUMER_SECRET, "access_token": "user-token"}
        | (credentials or {}),
        settings={"api_base": fake_x.base_url, **settings},
    )


def answer_the_mention(
    client: TestClient,
    account: ChannelAccount,
    session_factory: sessionmaker[Session],
    text: str,
    visibility: str = "public",
) -> int:
    """The customer's mention arrives by webhook and an agent answers it; the case id."""
    deliver(client, account, payload("x_tweet_create_events.json"))
    agent = add_agent(session_factory, account.workspace_id)
    with session_factory() as s:
        conversation_id = message_by_external_id(s, TWEET_ID).conversation_id
        send_reply(
            s,
            workspace_id=account.workspace_id,
            conversation_id=conversation_id,
            author_user_id=agent,
            text=text,
            visibility=visibility,
            clock=lambda: T0,
        )
        s.commit()
    return conversation_id
