"""Shared by the Meta tests: signed deliveries of recorded payloads and an agent's reply."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.models import ChannelAccount
from socialdesk.conversations.replies import send_reply
from socialdesk.core.models import Workspace
from socialdesk.people.models import User
from tests.channels.fake_meta import FakeMeta
from tests.channels.helpers import T0, add_account, add_agent, message_by_external_id

PAYLOADS = Path(__file__).parent / "payloads"
APP_SECRET = "meta-app-secret"
VERIFY_TOKEN = "verify-me-please"


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def deliver(client: TestClient, account: ChannelAccount, body: bytes, **headers: str) -> Any:
    headers.setdefault("x-hub-signature-256", sign(body))
    return client.post(f"/webhooks/{account.channel}/{account.id}", content=body, headers=headers)


def reply(
    session_factory: sessionmaker[Session],
    account: ChannelAccount,
    external_id: str,
    text: str,
    visibility: str = "public",
    at: datetime = T0,
) -> None:
    with session_factory() as s:
        agent = s.scalars(select(User.id).where(User.workspace_id == account.workspace_id)).first()
    if agent is None:
        agent = add_agent(session_factory, account.workspace_id)
    with session_factory() as s:
        send_reply(
            s,
            workspace_id=account.workspace_id,
            conversation_id=message_by_external_id(s, external_id).conversation_id,
            author_user_id=agent,
            text=text,
            visibility=visibility,
            clock=lambda: at,
        )
        s.commit()


def meta_account(
    session_factory: sessionmaker[Session], workspace: Workspace, fake: FakeMeta, channel: str
) -> ChannelAccount:
    return add_account(
        session_factory,
        workspace.id,
        channel,
        credentials={
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "access_token": "page-token",
        },
        settings={"api_base": f"{fake.base_url}/v21.0"},
    )
