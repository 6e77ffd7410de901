"""X: Account Activity webhooks in, replies and DMs out, against a fake X API on loopback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.inbox import RawEvent
from socialdesk.channels.models import ChannelAccount, DeadLetter, OutboxItem
from socialdesk.channels.outbox import deliveries, retry
from socialdesk.channels.polling import poll_x_account
from socialdesk.conversations.models import Message
from socialdesk.conversations.outbox_sender import OutboxSender
from socialdesk.core.clock import FrozenClock
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task
from socialdesk.ingest.pipeline import Pipeline
from tests.channels.fake_x import FakeX
from tests.channels.fakeplatform import Reply
from tests.channels.helpers import SECRET, T0, add_account, message_by_external_id
from tests.channels.x_helpers import (
    CONSUMER_SECRET,
    TWEET_ID,
    answer_the_mention,
    deliver,
    payload,
    sign,
)


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def account(
    session_factory: sessionmaker[Session], workspace: Workspace, fake_x: FakeX
) -> ChannelAccount:
    return add_account(
        session_factory,
        workspace.id,
        "x",
        credentials={"consumer_secret": CONSUMER_SECRET, "access_token": "user-token"},
        settings={"api_base": fake_x.base_url},
    )


def test_the_crc_challenge_is_answered_with_the_documented_hmac(
    client: TestClient, account: ChannelAccount
) -> None:
    response = client.get(f"/webhooks/x/{account.id}", params={"crc_token": "challenge-123"})
    assert response.status_code == 200
    expected = base64.b64encode(
        hmac.new(CONSUMER_SECRET.encode(), b"challenge-123", hashlib.sha256).digest()
    ).decode()
    assert response.json() == {"response_token": f"sha256={expected}"}


@pytest.mark.parametrize(("signature", "status"), [(None, 401), ("sha256=AAAA", 403), ("", 401)])
def test_unsigned_or_wrongly_signed_events_are_refused_and_nothing_is_stored(
    client: TestClient,
    account: ChannelAccount,
    session_factory: sessionmaker[Session],
    signature: str | None,
    status: int,
) -> None:
    body = payload("x_tweet_create_events.json")
    headers = {} if signature is None else {"x-twitter-webhooks-signature": signature}
    response = client.post(f"/webhooks/x/{account.id}", content=body, headers=headers)
    assert response.status_code == status
    with session_factory() as s:
        assert count(s, RawEvent) == 0 and count(s, DeadLetter) == 0


def test_a_body_signed_with_another_secret_is_forbidden(
    client: TestClient, account: ChannelAccount
) -> None:
    body = payload("x_tweet_create_events.json")
    response = deliver(client, account, body, **{"x-twitter-webhooks-signature": sign(body, "x")})
    assert response.status_code == 403


def test_a_mention_opens_a_task_and_a_redelivery_changes_nothing(
    client: TestClient, account: ChannelAccount, session_factory: sessionmaker[Session]
) -> None:
    body = payload("x_tweet_create_events.json")
    first = deliver(client, account, body)
    again = deliver(client, account, body)
    assert first.status_code == 200 and first.json()["accepted"] == 1
    assert again.json() == {"accepted": 0, "duplicates": 1, "ignored": 0, "resolving": 0}
    with session_factory() as s:
        message = message_by_external_id(s, TWEET_ID)
        assert message.text.startswith("@AcmeCare my router")
        assert message.created_at == T0
        assert s.scalars(select(Task.status)).one() == "open"


def test_a_retweet_of_our_own_post_is_not_work(
    client: TestClient, account: ChannelAccount, session_factory: sessionmaker[Session]
) -> None:
    response = deliver(client, account, payload("x_retweet_of_our_post.json"))
    assert response.status_code == 200 and response.json()["accepted"] == 0
    with session_factory() as s:
        assert count(s, Task) == 0


def test_a_malformed_event_is_refused_with_its_reason_and_kept_for_an_admin(
    client: TestClient, account: ChannelAccount, session_factory: sessionmaker[Session]
) -> None:
    body = json.dumps({"for_user_id": "900", "tweet_create_events": [{"id_str": "1"}]}).encode()
    response = deliver(client, account, body)
    assert response.status_code == 400
    assert "'user' is missing" in response.json()["detail"]
    with session_factory() as s:
        letter = s.scalars(select(DeadLetter)).one()
        assert letter.id == response.json()["dead_letter_id"]
        assert letter.body == body.decode() and "user" in letter.reason
        assert count(s, RawEvent) == 0


def test_an_oversized_payload_is_refused_before_it_is_read(
    client: TestClient, account: ChannelAccount, session_factory: sessionmaker[Session]
) -> None:
    body = b"{" + b" " * 1_100_000 + b"}"
    response = deliver(client, account, body)
    assert response.status_code == 413
    with session_factory() as s:
        assert count(s, DeadLetter) == 0


def _open_case_and_reply(
    client: TestClient,
    account: ChannelAccount,
    session_factory: sessionmaker[Session],
    text: str = "Sorry Dana, we are resetting your line now.",
    visibility: str = "public",
) -> int:
    return answer_the_mention(client, account, session_factory, text, visibility)


def test_end_to_end_a_reply_leaves_as_exactly_one_post_in_the_thread(
    client: TestClient,
    account: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_x: FakeX,
) -> None:
    _open_case_and_reply(client, account, session_factory)
    report = sender.run_once()
    assert report.sent == 1
    assert sender.run_once().sent == 0
    calls = fake_x.calls("POST", "/2/tweets")
    assert len(calls) == 1
    assert calls[0].headers["authorization"] == "Bearer user-token"
    assert calls[0].json() == {
        "text": "Sorry Dana, we are resetting your line now.",
        "reply": {"in_reply_to_tweet_id": TWEET_ID},
    }
    posted_id = fake_x.posts[0]["id"]
    with session_factory() as s:
        item = s.scalars(select(OutboxItem)).one()
        assert (item.status, item.external_id) == ("sent", posted_id)
        assert message_by_external_id(s, posted_id).direction == "outbound"
    # Our reply comes back through the webhook: recognised, not stored again, not work.
    echo = json.loads(payload("x_tweet_create_events.json"))
    tweet = echo["tweet_create_events"][0]
    tweet.update(
        id_str=posted_id,
        text=fake_x.posts[0]["text"],
        in_reply_to_status_id_str=TWEET_ID,
        user={"id_str": "900", "screen_name": "AcmeCare", "name": "Acme Care"},
    )
    response = deliver(client, account, json.dumps(echo).encode())
    assert response.json()["accepted"] == 0 and response.json()["ignored"] == 1
    with session_factory() as s:
        assert count(s, Message) == 2
        assert s.scalars(select(Task.status)).one() == "pending"


def test_end_to_end_a_private_answer_is_one_direct_message(
    client: TestClient,
    account: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_x: FakeX,
) -> None:
    _open_case_and_reply(
        client,
        account,
        session_factory,
        text="Please DM us your account number.",
        visibility="private",
    )
    assert sender.run_once().sent == 1
    calls = fake_x.calls("POST", "/2/dm_conversations/with/42/messages")
    assert [c.json() for c in calls] == [{"text": "Please DM us your account number."}]
    assert fake_x.calls("POST", "/2/tweets") == []
    # The customer's DM arrives and joins the same case.
    response = deliver(client, account, payload("x_direct_message_events.json"))
    assert response.json()["accepted"] == 1
    with session_factory() as s:
        dm = message_by_external_id(s, "1855000000000000077")
        first = message_by_external_id(s, TWEET_ID)
        assert dm.conversation_id == first.conversation_id and dm.visibility == "private"


def test_a_rate_limit_waits_until_the_reset_time_then_posts_once(
    client: TestClient,
    account: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_x: FakeX,
    clock: FrozenClock,
) -> None:
    _open_case_and_reply(client, account, session_factory)
    reset = int((T0 + timedelta(minutes=15)).timestamp())
    fake_x.script(
        "POST",
        "/2/tweets",
        Reply(429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": str(reset)}),
    )
    assert sender.run_once().retried == 1
    with session_factory() as s:
        item = s.scalars(select(OutboxItem)).one()
        assert item.status == "pending" and item.next_attempt_at == T0 + timedelta(minutes=15)
        assert item.error_code == "429"
    clock.advance(timedelta(minutes=10))
    assert sender.run_once().sent == 0  # still before the reset
    clock.advance(timedelta(minutes=5))
    assert sender.run_once().sent == 1
    assert len(fake_x.posts) == 1


def test_an_expired_token_fails_visibly_and_the_agent_can_retry(
    client: TestClient,
    account: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_x: FakeX,
    clock: FrozenClock,
) -> None:
    conversation_id = _open_case_and_reply(client, account, session_factory)
    fake_x.access_token = "renewed-token"
    assert sender.run_once().failed == 1
    with session_factory() as s:
        [item] = deliveries(s, account.workspace_id, conversation_id)
        assert item.status == "failed" and item.error_code == "401"
        assert "expired or revoked" in (item.error_reason or "")
    fake_x.access_token = "user-token"
    with session_factory() as s:
        retry(s, workspace_id=account.workspace_id, item_id=item.id, now=clock())
        s.commit()
    assert sender.run_once().sent == 1
    assert len(fake_x.posts) == 1


def test_a_reply_to_a_deleted_post_fails_with_the_platforms_reason(
    client: TestClient,
    account: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_x: FakeX,
) -> None:
    fake_x.deleted.add(TWEET_ID)
    _open_case_and_reply(client, account, session_factory)
    assert sender.run_once().failed == 1
    with session_factory() as s:
        item = s.scalars(select(OutboxItem)).one()
        assert item.status == "failed"
        assert item.error_reason == (
            "You attempted to reply to a Tweet that is deleted or not visible to you."
        )


def test_a_lost_answer_does_not_post_twice(
    client: TestClient,
    account: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_x: FakeX,
    clock: FrozenClock,
) -> None:
    _open_case_and_reply(client, account, session_factory)
    # X posts the reply, but the connection drops before the answer reaches us.
    fake_x.script("POST", "/2/tweets", Reply(201, drop_connection=True))
    assert sender.run_once().retried == 1
    clock.advance(timedelta(minutes=5))
    report = sender.run_once()
    assert report.recovered == 1 and report.sent == 0
    assert len(fake_x.calls("POST", "/2/tweets")) == 1
    with session_factory() as s:
        item = s.scalars(select(OutboxItem)).one()
        assert (item.status, item.external_id) == ("sent", fake_x.posts[0]["id"])


def test_a_sender_that_died_mid_flight_checks_before_sending_again(
    client: TestClient,
    account: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_x: FakeX,
    clock: FrozenClock,
) -> None:
    _open_case_and_reply(client, account, session_factory)
    sender._claim(10)  # claimed, then the process died before calling X
    assert sender.run_once().sent == 0  # the lease still holds
    clock.advance(timedelta(minutes=3))
    assert sender.run_once().sent == 1
    lookups = fake_x.calls("GET", "/2/users/900/tweets")
    assert len(lookups) == 1 and len(fake_x.calls("POST", "/2/tweets")) == 1


def test_polling_finds_mentions_and_searches_once(
    account: ChannelAccount,
    session_factory: sessionmaker[Session],
    fake_x: FakeX,
    clock: FrozenClock,
) -> None:
    with session_factory() as s:
        stored = s.get(ChannelAccount, account.id)
        assert stored is not None
        stored.settings = {**stored.settings, "search_queries": ["#acmedown"]}
        s.commit()
    fake_x.timeline.append(
        {
            "id": "1855000000000000101",
            "text": "@AcmeCare no internet #acmedown",
            "author_id": "44",
            "created_at": "2026-11-02T09:00:00.000Z",
            "public_metrics": {
                "retweet_count": 0,
                "reply_count": 0,
                "like_count": 2,
                "quote_count": 0,
            },
        }
    )
    pipeline = Pipeline(session_factory, clock=clock)
    first = poll_x_account(session_factory, pipeline, account_id=account.id, secret_key=SECRET)
    again = poll_x_account(session_factory, pipeline, account_id=account.id, secret_key=SECRET)
    assert (first.fetched, first.accepted) == (2, 1)  # one tweet, found by both
    assert again.fetched == 0
    assert fake_x.calls("GET", "/2/tweets/search/recent")[-1].query["since_id"] == (
        "1855000000000000101"
    )
    with session_factory() as s:
        assert message_by_external_id(s, "1855000000000000101").text.endswith("#acmedown")
        assert count(s, Task) == 1


def test_the_web_process_sends_in_the_background_when_woken(
    client: TestClient,
    account: ChannelAccount,
    session_factory: sessionmaker[Session],
    fake_x: FakeX,
) -> None:
    import time

    from socialdesk.conversations.outbox_thread import start_outbox_thread

    app = client.app
    stop = start_outbox_thread(app, interval=30)
    try:
        _open_case_and_reply(client, account, session_factory)
        app.state.outbox_wake()  # type: ignore[attr-defined]
        deadline = time.monotonic() + 10
        while not fake_x.posts and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop()
    assert len(fake_x.posts) == 1


@pytest.mark.redis
def test_in_scale_mode_a_webhook_hands_its_events_to_the_workers(
    client: TestClient,
    account: ChannelAccount,
    session_factory: sessionmaker[Session],
    redis_url: str,
) -> None:
    from socialdesk.core.bus import INGEST_STREAM, RedisStreamsBus
    from socialdesk.ingest.dispatch import ProcessingDispatcher

    bus = RedisStreamsBus(redis_url)
    app = client.app
    app.state.dispatcher = ProcessingDispatcher(app.state.pipeline, bus)  # type: ignore[attr-defined]
    key = bus.key(INGEST_STREAM)
    redis: Any = bus.client  # redis-py's stubs cannot tell raw replies from decoded ones
    last = redis.xrevrange(key, count=1)
    before = last[0][0] if last else b"0-0"
    try:
        response = deliver(client, account, payload("x_tweet_create_events.json"))
        assert response.status_code == 200
        with session_factory() as s:
            raw_id = s.scalars(select(RawEvent.id)).one()
            assert count(s, Message) == 0  # stored, left to the workers
        entries = [e for e in redis.xrange(key, min=before) if e[0] != before]
        ours = {"workspace_id": account.workspace_id, "raw_ids": [raw_id]}
        mine = [entry_id for entry_id, fields in entries if json.loads(fields[b"data"]) == ours]
        assert len(mine) == 1
        redis.xdel(key, *mine)  # leave the shared stream as it was
    finally:
        bus.close()


def test_a_duplicate_refusal_is_resolved_by_finding_the_earlier_post(
    client: TestClient,
    account: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_x: FakeX,
    clock: FrozenClock,
) -> None:
    _open_case_and_reply(client, account, session_factory)
    # An earlier attempt did post (its answer never came back); X now refuses the repeat.
    fake_x.script("POST", "/2/tweets", Reply(201, drop_connection=True))
    sender.run_once()
    with session_factory() as s:
        item = s.scalars(select(OutboxItem)).one()
        item.outcome_unknown = False  # as if that attempt's fate were not known
        s.commit()
    fake_x.script(
        "POST",
        "/2/tweets",
        Reply(
            403,
            {
                "title": "Forbidden",
                "type": "about:blank",
                "status": 403,
                "detail": "You are not allowed to create a Tweet with duplicate content.",
            },
        ),
    )
    clock.advance(timedelta(minutes=5))
    assert sender.run_once().retried == 1
    clock.advance(timedelta(minutes=5))
    assert sender.run_once().recovered == 1
    assert len(fake_x.posts) == 1


def test_the_echo_of_a_reply_still_in_flight_is_not_stored_twice(
    client: TestClient,
    account: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_x: FakeX,
    clock: FrozenClock,
) -> None:
    _open_case_and_reply(client, account, session_factory, text="We reset your line.")
    sender._claim(10)  # the sender is talking to X right now
    echo = json.loads(payload("x_tweet_create_events.json"))
    echo["tweet_create_events"][0].update(
        id_str="1855000000000009999",
        text="We reset your line.",
        in_reply_to_status_id_str=TWEET_ID,
        user={"id_str": "900", "screen_name": "AcmeCare", "name": "Acme Care"},
    )
    response = deliver(client, account, json.dumps(echo).encode())
    assert response.json()["ignored"] == 1
    with session_factory() as s:
        assert count(s, Message) == 2  # the customer's post and our reply, once


def _tweet(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(payload("x_tweet_create_events.json"))
    data["tweet_create_events"][0].update(changes)
    return data


@pytest.mark.parametrize("timestamp_ms", ["99999999999999999999", "-99999999999999999"])
def test_a_signed_event_with_an_impossible_time_is_refused_and_kept(
    client: TestClient,
    account: ChannelAccount,
    session_factory: sessionmaker[Session],
    timestamp_ms: str,
) -> None:
    body = json.dumps(_tweet(timestamp_ms=timestamp_ms)).encode()
    response = deliver(client, account, body)
    assert response.status_code == 400, response.text
    with session_factory() as s:
        letter = s.scalars(select(DeadLetter)).one()
        assert letter.id == response.json()["dead_letter_id"]
        assert count(s, RawEvent) == 0


def test_nul_and_a_cut_emoji_in_a_post_are_cleaned_and_the_post_is_kept(
    client: TestClient, account: ChannelAccount, session_factory: sessionmaker[Session]
) -> None:
    # As a platform may send them: escaped in the JSON, and signed as they are.
    body = json.dumps(_tweet(text="router\u0000 down \ud83d")).encode()
    assert b"\\u0000" in body and b"\\ud83d" in body
    response = deliver(client, account, body)
    assert response.status_code == 200 and response.json()["accepted"] == 1
    with session_factory() as s:
        assert message_by_external_id(s, TWEET_ID).text == "router down \ufffd"
