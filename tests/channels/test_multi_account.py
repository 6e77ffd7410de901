"""One app, several accounts: events and answers follow the account the platform names."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.accounts import create_account
from socialdesk.channels.models import ChannelAccount, DeadLetter, OutboxItem
from socialdesk.conversations.models import Message
from socialdesk.conversations.outbox_sender import OutboxSender
from socialdesk.conversations.replies import send_reply
from socialdesk.core.models import Workspace
from tests.channels import meta_helpers, x_helpers
from tests.channels.fake_meta import FakeMeta
from tests.channels.fake_x import FakeX
from tests.channels.helpers import SECRET, T0, add_agent
from tests.channels.x_helpers import CONSUMER_SECRET, x_account


def _second_account(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    channel: str,
    external_id: str,
    credentials: dict[str, str],
    settings: dict[str, str],
) -> ChannelAccount:
    with session_factory() as s:
        account = create_account(
            s,
            workspace_id=workspace.id,
            channel=channel,
            external_id=external_id,
            secret_key=SECRET,
            handle="@AcmeShop",
            credentials=credentials,
            settings=settings,
        )
        s.commit()
        return account


def test_x_events_are_filed_under_the_account_named_by_for_user_id(
    client: TestClient,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    fake_x: FakeX,
    sender: OutboxSender,
) -> None:
    care = x_account(session_factory, workspace, fake_x)
    shop = _second_account(
        session_factory,
        workspace,
        "x",
        "901",
        {"consumer_secret": CONSUMER_SECRET, "access_token": "shop-token"},
        {"api_base": fake_x.base_url},
    )
    # Account Activity API: one webhook per app; each event names its user in for_user_id
    # (https://docs.x.com/x-api/account-activity/introduction).
    event = json.loads(x_helpers.payload("x_direct_message_events.json"))
    event["for_user_id"] = "901"
    event["direct_message_events"][0]["message_create"]["target"]["recipient_id"] = "901"
    body = json.dumps(event).encode()
    # Delivered to the URL configured for the first account: the app's one webhook.
    assert x_helpers.deliver(client, care, body).json()["accepted"] == 1
    with session_factory() as s:
        message = s.scalars(select(Message)).one()
        assert message.channel_account_id == shop.id
    fake_x.access_token = "shop-token"
    agent = add_agent(session_factory, workspace.id)
    with session_factory() as s:
        send_reply(
            s,
            workspace_id=workspace.id,
            conversation_id=s.scalars(select(Message.conversation_id)).one(),
            author_user_id=agent,
            text="Thanks, found it.",
            clock=lambda: T0,
        )
        s.commit()
    assert sender.run_once().sent == 1
    with session_factory() as s:
        assert s.scalars(select(OutboxItem.channel_account_id)).one() == shop.id
    [dm] = fake_x.calls("POST", r"/2/dm_conversations/with/42/messages")
    assert dm.headers["authorization"] == "Bearer shop-token"


def test_meta_events_are_filed_under_the_page_of_their_entry(
    client: TestClient,
    session_factory: sessionmaker[Session],
    page: ChannelAccount,
    workspace: Workspace,
    fake_meta: FakeMeta,
) -> None:
    other = _second_account(
        session_factory,
        workspace,
        "facebook",
        "page-2",
        {"app_secret": meta_helpers.APP_SECRET, "access_token": "page-2-token"},
        {"api_base": f"{fake_meta.base_url}/v21.0"},
    )
    # Webhooks for Pages: one callback URL per app; entry[].id is the Page the change is on
    # (https://developers.facebook.com/docs/graph-api/webhooks/getting-started/webhooks-for-pages).
    event = json.loads(meta_helpers.payload("facebook_messenger_message.json"))
    event["entry"][0]["id"] = "page-2"
    event["entry"][0]["messaging"][0]["recipient"]["id"] = "page-2"
    body = json.dumps(event).encode()
    assert meta_helpers.deliver(client, page, body).json()["accepted"] == 1
    with session_factory() as s:
        assert s.scalars(select(Message.channel_account_id)).one() == other.id


def test_events_for_an_account_not_connected_here_are_kept_not_filed(
    client: TestClient,
    session_factory: sessionmaker[Session],
    page: ChannelAccount,
) -> None:
    event = json.loads(meta_helpers.payload("facebook_messenger_message.json"))
    event["entry"][0]["id"] = "page-of-someone-else"
    response = meta_helpers.deliver(client, page, json.dumps(event).encode())
    assert response.status_code == 200 and response.json()["unrouted"] == 1
    with session_factory() as s:
        assert s.scalars(select(Message)).all() == []
        letter = s.scalars(select(DeadLetter)).one()
        assert "page-of-someone-else" in letter.reason
