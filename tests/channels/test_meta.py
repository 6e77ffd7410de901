"""Facebook and Instagram: Graph API webhooks in, comments, private replies and messages out."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.inbox import RawEvent
from socialdesk.channels.models import ChannelAccount, DeadLetter, OutboxItem
from socialdesk.conversations.outbox_sender import OutboxSender
from socialdesk.core.clock import FrozenClock
from socialdesk.core.work import Task
from tests.channels.fake_meta import FakeMeta, graph_error
from tests.channels.fakeplatform import Reply
from tests.channels.helpers import T0, message_by_external_id
from tests.channels.meta_helpers import (
    VERIFY_TOKEN,
    count,
    deliver,
    payload,
    reply,
    sign,
)


def test_the_subscription_handshake_echoes_the_challenge_only_for_our_token(
    client: TestClient, page: ChannelAccount
) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    ok = client.get(f"/webhooks/facebook/{page.id}", params=params)
    assert (ok.status_code, ok.text) == (200, "1158201444")
    wrong = client.get(f"/webhooks/facebook/{page.id}", params=params | {"hub.verify_token": "x"})
    assert wrong.status_code == 403


@pytest.mark.parametrize(("header", "status"), [(None, 401), (sign(b"other"), 403)])
def test_unsigned_or_wrongly_signed_page_events_store_nothing(
    client: TestClient,
    page: ChannelAccount,
    session_factory: sessionmaker[Session],
    header: str | None,
    status: int,
) -> None:
    body = payload("facebook_feed_comment.json")
    headers = {"x-hub-signature-256": header} if header else {}
    response = client.post(f"/webhooks/facebook/{page.id}", content=body, headers=headers)
    assert response.status_code == status
    with session_factory() as s:
        assert count(s, RawEvent) == 0


def test_end_to_end_a_page_comment_gets_one_public_reply(
    client: TestClient,
    page: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_meta: FakeMeta,
) -> None:
    assert deliver(client, page, payload("facebook_feed_comment.json")).json()["accepted"] == 1
    with session_factory() as s:
        assert s.scalars(select(Task.status)).one() == "open"
    reply(session_factory, page, "555_901", "So sorry, Dana. The refund left today.")
    assert sender.run_once().sent == 1
    calls = fake_meta.calls("POST", "/v21.0/555_901/comments")
    assert len(calls) == 1
    assert calls[0].form() == {"message": "So sorry, Dana. The refund left today."}
    assert calls[0].headers["authorization"] == "Bearer page-token"
    assert "access_token" not in calls[0].query


def test_end_to_end_a_private_reply_to_a_comment_goes_through_the_send_api(
    client: TestClient,
    page: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_meta: FakeMeta,
) -> None:
    deliver(client, page, payload("facebook_feed_comment.json"))
    reply(session_factory, page, "555_901", "Please tell us your order number.", "private")
    assert sender.run_once().sent == 1
    [call] = fake_meta.calls("POST", "/v21.0/page-1/messages")
    assert call.json() == {
        "recipient": {"comment_id": "555_901"},
        "message": {"text": "Please tell us your order number."},
    }


def test_end_to_end_a_messenger_conversation_is_answered_in_messenger(
    client: TestClient,
    page: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_meta: FakeMeta,
) -> None:
    assert deliver(client, page, payload("facebook_messenger_message.json")).status_code == 200
    reply(session_factory, page, "m_AbCdEf123", "Let me check your bill.")
    assert sender.run_once().sent == 1
    [call] = fake_meta.calls("POST", "/v21.0/page-1/messages")
    assert call.json() == {
        "recipient": {"id": "psid-5"},
        "messaging_type": "RESPONSE",
        "message": {"text": "Let me check your bill."},
    }


def test_the_pages_own_messages_echoed_back_are_not_work(
    client: TestClient, page: ChannelAccount, session_factory: sessionmaker[Session]
) -> None:
    deliver(client, page, payload("facebook_messenger_message.json"))
    with session_factory() as s:
        task = s.scalars(select(Task)).one()
        task.status = "done"
        s.commit()
    deliver(client, page, payload("facebook_messenger_echo.json"))
    with session_factory() as s:
        echo = message_by_external_id(s, "m_Echo999")
        assert echo.direction == "outbound"
        assert s.scalars(select(Task.status)).one() == "done"


def test_end_to_end_an_instagram_comment_gets_one_threaded_reply(
    client: TestClient,
    instagram: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_meta: FakeMeta,
) -> None:
    assert deliver(client, instagram, payload("instagram_comment.json")).json()["accepted"] == 1
    reply(session_factory, instagram, "17950002", "It arrives tomorrow!")
    assert sender.run_once().sent == 1
    [call] = fake_meta.calls("POST", "/v21.0/17950002/replies")
    assert call.form() == {"message": "It arrives tomorrow!"}


def test_end_to_end_an_instagram_message_is_answered_privately(
    client: TestClient,
    instagram: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_meta: FakeMeta,
) -> None:
    deliver(client, instagram, payload("instagram_message.json"))
    reply(session_factory, instagram, "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3", "Found it!")
    assert sender.run_once().sent == 1
    [call] = fake_meta.calls("POST", "/v21.0/ig-1/messages")
    assert call.json()["recipient"] == {"id": "igsid-8"}


def test_page_throttling_waits_for_the_time_meta_announces(
    client: TestClient,
    page: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_meta: FakeMeta,
    clock: FrozenClock,
) -> None:
    deliver(client, page, payload("facebook_feed_comment.json"))
    reply(session_factory, page, "555_901", "On it")
    usage = {
        "page-1": [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 20,
                "total_time": 30,
                "estimated_time_to_regain_access": 20,
            }
        ]
    }
    fake_meta.script(
        "POST",
        "/v21.0/555_901/comments",
        Reply(
            400,
            graph_error(32, "(#32) Page request limit reached"),
            {"x-business-use-case-usage": json.dumps(usage)},
        ),
    )
    assert sender.run_once().retried == 1
    with session_factory() as s:
        item = s.scalars(select(OutboxItem)).one()
        assert item.next_attempt_at == T0 + timedelta(minutes=20) and item.error_code == "32"
    clock.advance(timedelta(minutes=20))
    assert sender.run_once().sent == 1
    assert len(fake_meta.comments) == 1


@pytest.mark.parametrize(
    ("setup", "code", "reason"),
    [
        ("expired", "190/463", "access token expired or revoked"),
        ("deleted", "100/33", "does not exist"),
        ("blocked", "551/1545041", "This person isn't available right now"),
    ],
)
def test_permanent_failures_are_recorded_with_the_platforms_reason(
    client: TestClient,
    page: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_meta: FakeMeta,
    setup: str,
    code: str,
    reason: str,
) -> None:
    deliver(client, page, payload("facebook_messenger_message.json"))
    deliver(client, page, payload("facebook_feed_comment.json"))
    if setup == "expired":
        fake_meta.access_token = "another"
    fake_meta.deleted.add("555_901")
    fake_meta.unavailable.add("psid-5")
    external_id = "m_AbCdEf123" if setup == "blocked" else "555_901"
    reply(session_factory, page, external_id, "Hello")
    assert sender.run_once().failed == 1
    with session_factory() as s:
        item = s.scalars(select(OutboxItem)).one()
        assert item.status == "failed" and item.error_code == code
        assert reason in (item.error_reason or "")


def test_a_lost_answer_to_a_comment_reply_is_found_not_resent(
    client: TestClient,
    page: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_meta: FakeMeta,
) -> None:
    deliver(client, page, payload("facebook_feed_comment.json"))
    reply(session_factory, page, "555_901", "Refund sent")
    fake_meta.script("POST", "/v21.0/555_901/comments", Reply(200, drop_connection=True))
    assert sender.run_once().retried == 1
    sender.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    assert sender.run_once().recovered == 1
    assert len(fake_meta.calls("POST", "/v21.0/555_901/comments")) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"object": "instagram", "entry": []}', "expected 'page'"),
        (
            b'{"object": "page", "entry": [{"id": "page-1", "changes": [{"field": "feed", '
            b'"value": {"item": "comment", "verb": "add", "message": "hi"}}]}]}',
            "'from'",
        ),
        (b"not json", "not JSON"),
    ],
)
def test_malformed_page_events_are_dead_lettered_with_the_reason(
    client: TestClient,
    page: ChannelAccount,
    session_factory: sessionmaker[Session],
    body: bytes,
    reason: str,
) -> None:
    response = deliver(client, page, body)
    # Meta wants 200 for every authentic delivery, or it retries and may end the
    # subscription ("Meta Webhooks for Messenger Platform": respond 200 OK to all event
    # notifications, https://developers.facebook.com/docs/messenger-platform/webhooks);
    # the payload is kept, with the reason, for an admin.
    assert response.status_code == 200 and reason in response.json()["detail"]
    with session_factory() as s:
        letter = s.scalars(select(DeadLetter)).one()
        assert letter.channel == "facebook" and reason in letter.reason
        assert response.json()["dead_letter_id"] == letter.id


def test_end_to_end_an_instagram_mention_is_fetched_and_answered_through_mentions(
    client: TestClient,
    instagram: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_meta: FakeMeta,
) -> None:
    fake_meta.mentioned["17960005"] = (
        "lee.r",
        "@acme my order 5512 never arrived",
        "2026-11-02T09:00:00+0000",
    )
    response = deliver(client, instagram, payload("instagram_mention.json"))
    assert response.json()["resolving"] == 1
    with session_factory() as s:
        mention = message_by_external_id(s, "17960005")
        assert mention.text == "@acme my order 5512 never arrived"
        assert s.scalars(select(Task.status)).one() == "open"
    reply(session_factory, instagram, "17960005", "Sorry Lee, we are on it.")
    assert sender.run_once().sent == 1
    assert fake_meta.mention_replies == [
        {
            "media_id": "17900099",
            "comment_id": "17960005",
            "message": "Sorry Lee, we are on it.",
            "id": fake_meta.mention_replies[0]["id"],
        }
    ]


def test_a_mention_that_cannot_be_fetched_is_kept_as_a_dead_letter(
    client: TestClient,
    instagram: ChannelAccount,
    session_factory: sessionmaker[Session],
    fake_meta: FakeMeta,
) -> None:
    response = deliver(client, instagram, payload("instagram_mention.json"))
    assert response.status_code == 200
    with session_factory() as s:
        letter = s.scalars(select(DeadLetter)).one()
        assert "mention could not be fetched" in letter.reason
        assert "Invalid comment_id" in letter.reason
        assert count(s, RawEvent) == 0
