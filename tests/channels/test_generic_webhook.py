"""The generic signed webhook: any source pushes messages in and gets our answers back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels import signing
from socialdesk.channels.deadletters import list_letters, replay
from socialdesk.channels.inbox import RawEvent
from socialdesk.channels.models import ChannelAccount, OutboxItem
from socialdesk.channels.registry import default_connectors
from socialdesk.conversations.outbox_sender import OutboxSender
from socialdesk.conversations.replies import send_reply
from socialdesk.core.clock import FrozenClock
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task
from socialdesk.ingest.pipeline import Pipeline
from tests.channels.fakeplatform import FakePlatform, Reply
from tests.channels.helpers import T0, add_account, add_agent, message_by_external_id

SOURCE_SECRET = "review-site-secret"
REVIEW = {
    "messages": [
        {
            "id": "r-1",
            "text": "One star. Nobody answers the phone.",
            "author": {"id": "u-9", "name": "Lee", "handle": "lee9"},
            "created_at": "2026-11-02T09:00:00Z",
        }
    ]
}


@pytest.fixture
def receiver() -> Iterator[FakePlatform]:
    fake = FakePlatform()
    fake.route("POST", "/socialdesk/answers", lambda r, m: Reply(202, {"id": "ans-1"}))
    with fake.serve() as server:
        yield server


@pytest.fixture
def source(
    session_factory: sessionmaker[Session], workspace: Workspace, receiver: FakePlatform
) -> ChannelAccount:
    return add_account(
        session_factory,
        workspace.id,
        "webhook",
        credentials={"webhook_secret": SOURCE_SECRET},
        settings={"callback_url": f"{receiver.base_url}/socialdesk/answers"},
    )


def push(
    client: TestClient, account: ChannelAccount, body: bytes, secret: str = SOURCE_SECRET
) -> Any:
    headers = signing.signed_headers(body, secret, datetime.now(UTC))
    return client.post(f"/webhooks/webhook/{account.id}", content=body, headers=headers)


def test_end_to_end_a_pushed_review_is_answered_at_the_callback_url(
    client: TestClient,
    source: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    receiver: FakePlatform,
) -> None:
    assert push(client, source, json.dumps(REVIEW).encode()).json()["accepted"] == 1
    agent = add_agent(session_factory, source.workspace_id)
    with session_factory() as s:
        review = message_by_external_id(s, "reviews:r-1")
        assert s.scalars(select(Task.status)).one() == "open"
        send_reply(
            s,
            workspace_id=source.workspace_id,
            conversation_id=review.conversation_id,
            author_user_id=agent,
            text="Sorry Lee, we will call you today.",
            clock=lambda: T0,
        )
        s.commit()
    assert sender.run_once().sent == 1
    [call] = receiver.calls("POST", "/socialdesk/answers")
    body = call.json()
    assert body["reply_to"] == "r-1" and body["recipient"] == "u-9"
    assert body["text"] == "Sorry Lee, we will call you today."
    assert call.headers["idempotency-key"] == body["id"]
    signing.verify(call.body, call.headers, SOURCE_SECRET, datetime.now(UTC))
    with session_factory() as s:
        assert s.scalars(select(OutboxItem.external_id)).one() == "ans-1"


def test_an_unsigned_push_is_refused_and_nothing_is_stored(
    client: TestClient, source: ChannelAccount, session_factory: sessionmaker[Session]
) -> None:
    body = json.dumps(REVIEW).encode()
    assert client.post(f"/webhooks/webhook/{source.id}", content=body).status_code == 401
    assert push(client, source, body, secret="guess").status_code == 403
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(RawEvent)) == 0


def test_a_malformed_push_is_dead_lettered_and_can_be_replayed_once_corrected(
    client: TestClient,
    source: ChannelAccount,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
) -> None:
    broken = {"messages": [{**REVIEW["messages"][0], "created_at": "yesterday"}]}
    response = push(client, source, json.dumps(broken).encode())
    assert response.status_code == 400
    assert response.json()["detail"].startswith("messages.0.created_at")
    pipeline = Pipeline(session_factory, clock=clock)
    with session_factory() as s:
        [letter] = list_letters(s, source.workspace_id)
    failed = replay(
        session_factory,
        pipeline,
        default_connectors(),
        workspace_id=source.workspace_id,
        letter_id=letter.id,
    )
    assert failed.accepted == 0 and failed.error is not None
    fixed = replay(
        session_factory,
        pipeline,
        default_connectors(),
        workspace_id=source.workspace_id,
        letter_id=letter.id,
        corrected_body=json.dumps(REVIEW),
    )
    assert (fixed.accepted, fixed.error) == (1, None)
    with session_factory() as s:
        assert message_by_external_id(s, "reviews:r-1").text.startswith("One star")
        assert list_letters(s, source.workspace_id) == []
