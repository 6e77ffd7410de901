"""When Meta accepts an answer: the 24-hour window, the HUMAN_AGENT tag, private replies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.models import ChannelAccount, OutboxItem
from socialdesk.channels.policy import ReplyNotAllowed
from socialdesk.conversations.models import Message
from socialdesk.conversations.outbox_sender import OutboxSender
from socialdesk.conversations.replies import reply_windows
from socialdesk.core.clock import FrozenClock
from tests.channels.fake_meta import FakeMeta
from tests.channels.helpers import T0, message_by_external_id
from tests.channels.meta_helpers import count, deliver, payload, reply

# facebook_messenger_message.json: psid-5 wrote at T0 + 10 minutes.
WROTE = T0 + timedelta(minutes=10)


def test_an_answer_a_day_later_goes_out_with_the_human_agent_tag(
    client: TestClient,
    page: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_meta: FakeMeta,
    clock: FrozenClock,
) -> None:
    deliver(client, page, payload("facebook_messenger_message.json"))
    later = WROTE + timedelta(hours=30)
    fake_meta.wrote_at["psid-5"], fake_meta.now = WROTE, later
    clock.set(later)
    reply(session_factory, page, "m_AbCdEf123", "Sorry for the wait: the bill is fixed.", at=later)
    assert sender.run_once().sent == 1
    [call] = fake_meta.calls("POST", "/v21.0/page-1/messages")
    assert call.json()["messaging_type"] == "MESSAGE_TAG"
    assert call.json()["tag"] == "HUMAN_AGENT"


def test_within_a_day_the_answer_is_a_plain_response(
    client: TestClient,
    page: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_meta: FakeMeta,
    clock: FrozenClock,
) -> None:
    deliver(client, page, payload("facebook_messenger_message.json"))
    clock.set(WROTE + timedelta(hours=2))
    reply(session_factory, page, "m_AbCdEf123", "Checking now.", at=clock())
    assert sender.run_once().sent == 1
    [call] = fake_meta.calls("POST", "/v21.0/page-1/messages")
    assert call.json()["messaging_type"] == "RESPONSE"
    assert "tag" not in call.json()


def test_an_answer_queued_inside_the_day_but_sent_after_it_is_resent_as_human_agent(
    client: TestClient,
    page: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_meta: FakeMeta,
    clock: FrozenClock,
) -> None:
    deliver(client, page, payload("facebook_messenger_message.json"))
    reply(session_factory, page, "m_AbCdEf123", "Checking now.", at=WROTE + timedelta(hours=23))
    fake_meta.wrote_at["psid-5"], fake_meta.now = WROTE, WROTE + timedelta(hours=25)
    clock.set(fake_meta.now)
    assert sender.run_once().sent == 1
    first, second = fake_meta.calls("POST", "/v21.0/page-1/messages")
    assert first.json()["messaging_type"] == "RESPONSE"
    assert (second.json()["messaging_type"], second.json()["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_after_seven_days_the_answer_is_refused_with_the_reason_and_a_channel_shift(
    client: TestClient,
    page: ChannelAccount,
    session_factory: sessionmaker[Session],
) -> None:
    deliver(client, page, payload("facebook_messenger_message.json"))
    late = WROTE + timedelta(days=7, minutes=1)
    with pytest.raises(ReplyNotAllowed) as refused:
        reply(session_factory, page, "m_AbCdEf123", "Are you still there?", at=late)
    assert "more than 7 days old" in str(refused.value)
    assert refused.value.window.offers == ("email", "callback")
    with session_factory() as s:
        assert count(s, OutboxItem) == 0
        assert s.scalars(select(Message.direction)).all() == ["inbound"]


def test_the_composer_knows_the_window_and_its_deadline(
    client: TestClient, page: ChannelAccount, session_factory: sessionmaker[Session]
) -> None:
    deliver(client, page, payload("facebook_messenger_message.json"))
    with session_factory() as s:
        conversation_id = message_by_external_id(s, "m_AbCdEf123").conversation_id
        fresh = reply_windows(s, page.workspace_id, conversation_id, WROTE + timedelta(hours=1))
        late = reply_windows(s, page.workspace_id, conversation_id, WROTE + timedelta(days=2))
        gone = reply_windows(s, page.workspace_id, conversation_id, WROTE + timedelta(days=8))
    assert (fresh["private"].kind, fresh["private"].deadline) == (
        "standard",
        WROTE + timedelta(hours=24),
    )
    assert (late["private"].kind, late["private"].deadline) == (
        "human_agent",
        WROTE + timedelta(days=7),
    )
    assert not gone["private"].allowed


def test_a_comment_gets_one_private_reply_within_seven_days(
    client: TestClient,
    page: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    clock: FrozenClock,
) -> None:
    # facebook_feed_comment.json: the comment was written at T0 + 10 minutes.
    deliver(client, page, payload("facebook_feed_comment.json"))
    clock.set(T0 + timedelta(hours=1))
    reply(session_factory, page, "555_901", "Which order is it?", "private", at=clock())
    assert sender.run_once().sent == 1
    with pytest.raises(ReplyNotAllowed, match="one private reply"):
        reply(
            session_factory, page, "555_901", "Hello again?", "private", at=T0 + timedelta(hours=2)
        )
    with session_factory() as s:
        assert count(s, OutboxItem) == 1


def test_a_comment_older_than_seven_days_gets_no_private_reply(
    client: TestClient, page: ChannelAccount, session_factory: sessionmaker[Session]
) -> None:
    deliver(client, page, payload("facebook_feed_comment.json"))
    with pytest.raises(ReplyNotAllowed, match="more than 7 days old"):
        reply(session_factory, page, "555_901", "Late!", "private", at=T0 + timedelta(days=8))
