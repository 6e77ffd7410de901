"""X's reply restriction: a self-serve app answers in public only posts that summon it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.models import ChannelAccount, OutboxItem
from socialdesk.channels.policy import ReplyNotAllowed
from socialdesk.channels.polling import poll_x_account
from socialdesk.conversations.outbox_sender import OutboxSender
from socialdesk.conversations.replies import reply_windows, send_reply
from socialdesk.core.clock import FrozenClock
from socialdesk.core.models import Workspace
from socialdesk.ingest.pipeline import Pipeline
from tests.channels.fake_x import FakeX
from tests.channels.helpers import SECRET, T0, add_account, add_agent, message_by_external_id
from tests.channels.x_helpers import CONSUMER_SECRET, payload, sign

FOUND_BY_SEARCH = "1855000000000000201"


def _account(
    session_factory: sessionmaker[Session], workspace: Workspace, fake_x: FakeX, **settings: Any
) -> ChannelAccount:
    return add_account(
        session_factory,
        workspace.id,
        "x",
        credentials={"consumer_secret": CONSUMER_SECRET, "access_token": "user-token"},
        settings={"api_base": fake_x.base_url, "search_queries": ["acme outage"], **settings},
    )


def _found_by_search(
    session_factory: sessionmaker[Session],
    account: ChannelAccount,
    fake_x: FakeX,
    clock: FrozenClock,
) -> int:
    """A post that names the brand in words, not by its @handle: found by keyword search."""
    fake_x.timeline.append(
        {
            "id": FOUND_BY_SEARCH,
            "text": "acme outage again, third time this week",
            "author_id": "45",
            "created_at": "2026-11-02T09:00:00.000Z",
        }
    )
    poll_x_account(
        session_factory,
        Pipeline(session_factory, clock=clock),
        account_id=account.id,
        secret_key=SECRET,
    )
    with session_factory() as s:
        return message_by_external_id(s, FOUND_BY_SEARCH).conversation_id


def _reply(
    session_factory: sessionmaker[Session], account: ChannelAccount, case: int, visibility: str
) -> None:
    agent = add_agent(session_factory, account.workspace_id)
    with session_factory() as s:
        send_reply(
            s,
            workspace_id=account.workspace_id,
            conversation_id=case,
            author_user_id=agent,
            text="Sorry about the outage, we are on it.",
            visibility=visibility,
            clock=lambda: T0,
        )
        s.commit()


def test_a_post_found_by_keyword_search_is_not_offered_a_public_reply(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    fake_x: FakeX,
    clock: FrozenClock,
) -> None:
    account = _account(session_factory, workspace, fake_x)
    case = _found_by_search(session_factory, account, fake_x, clock)
    with session_factory() as s:
        windows = reply_windows(s, workspace.id, case, T0)
    assert not windows["public"].allowed and windows["public"].offers == ("private", "quote")
    assert windows["private"].allowed
    with pytest.raises(ReplyNotAllowed, match="mention or quote the account"):
        _reply(session_factory, account, case, "public")
    with session_factory() as s:
        assert s.scalars(select(OutboxItem)).all() == []
    assert fake_x.calls("POST", "/2/tweets") == []


def test_such_a_post_can_be_answered_with_a_quote_instead(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    fake_x: FakeX,
    clock: FrozenClock,
    sender: OutboxSender,
) -> None:
    account = _account(session_factory, workspace, fake_x)
    case = _found_by_search(session_factory, account, fake_x, clock)
    _reply(session_factory, account, case, "quote")
    assert sender.run_once().sent == 1
    [call] = fake_x.calls("POST", "/2/tweets")
    assert call.json() == {
        "text": "Sorry about the outage, we are on it.",
        "quote_tweet_id": FOUND_BY_SEARCH,
    }


def test_an_enterprise_app_may_answer_any_post_in_its_thread(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    fake_x: FakeX,
    clock: FrozenClock,
    sender: OutboxSender,
) -> None:
    fake_x.enterprise = True
    account = _account(session_factory, workspace, fake_x, x_tier="enterprise")
    case = _found_by_search(session_factory, account, fake_x, clock)
    _reply(session_factory, account, case, "public")
    assert sender.run_once().sent == 1
    [call] = fake_x.calls("POST", "/2/tweets")
    assert call.json()["reply"] == {"in_reply_to_tweet_id": FOUND_BY_SEARCH}


def test_a_quote_of_our_post_may_be_answered_in_public(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    fake_x: FakeX,
    client: TestClient,
) -> None:
    account = _account(session_factory, workspace, fake_x)
    event = json.loads(payload("x_tweet_create_events.json"))
    tweet = event["tweet_create_events"][0]
    tweet["text"] = "this is what they call service"
    tweet["quoted_status"] = {"id_str": "1850000000000000009", "user": {"id_str": "900"}}
    body = json.dumps(event).encode()
    response = client.post(
        f"/webhooks/x/{account.id}",
        content=body,
        headers={"x-twitter-webhooks-signature": sign(body)},
    )
    assert response.json()["accepted"] == 1
    with session_factory() as s:
        case = message_by_external_id(s, tweet["id_str"]).conversation_id
        assert reply_windows(s, workspace.id, case, T0)["public"].allowed
