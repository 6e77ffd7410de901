"""After a lost answer, Meta is asked what happened, in the shape each node really has."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.models import ChannelAccount, OutboxItem
from socialdesk.conversations.outbox_sender import OutboxSender
from socialdesk.core.clock import FrozenClock
from tests.channels.fake_meta import FakeMeta
from tests.channels.fakeplatform import Reply
from tests.channels.meta_helpers import deliver, payload, reply

IG_MESSAGE = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3"


def _set(session_factory: sessionmaker[Session], account: ChannelAccount, **values: str) -> None:
    with session_factory() as s:
        stored = s.get(ChannelAccount, account.id)
        assert stored is not None
        stored.settings = {**stored.settings, **values}
        s.commit()


def test_a_lost_instagram_comment_reply_is_found_by_its_text_field(
    client: TestClient,
    instagram: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_meta: FakeMeta,
    clock: FrozenClock,
) -> None:
    deliver(client, instagram, payload("instagram_comment.json"))
    reply(session_factory, instagram, "17950002", "It ships today")
    fake_meta.script("POST", "/v21.0/17950002/replies", Reply(200, drop_connection=True))
    assert sender.run_once().retried == 1
    clock.advance(timedelta(minutes=1))
    assert sender.run_once().recovered == 1
    [lookup] = fake_meta.calls("GET", "/v21.0/17950002/replies")
    assert lookup.query["fields"] == "id,text,from"
    assert len(fake_meta.calls("POST", "/v21.0/17950002/replies")) == 1


def test_a_lost_instagram_message_is_looked_up_under_the_linked_page(
    client: TestClient,
    instagram: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_meta: FakeMeta,
    clock: FrozenClock,
) -> None:
    _set(session_factory, instagram, page_id="page-1")
    deliver(client, instagram, payload("instagram_message.json"))
    reply(session_factory, instagram, IG_MESSAGE, "Found your parcel")
    fake_meta.script("POST", "/v21.0/ig-1/messages", Reply(200, drop_connection=True))
    sender.run_once()
    clock.advance(timedelta(minutes=1))
    assert sender.run_once().recovered == 1
    [lookup] = fake_meta.calls("GET", r"/v21.0/[^/]+/conversations")
    assert lookup.path == "/v21.0/page-1/conversations"
    assert lookup.query["platform"] == "instagram"
    assert len(fake_meta.calls("POST", "/v21.0/ig-1/messages")) == 1


def test_without_the_linked_page_the_lookup_waits_and_nothing_is_resent(
    client: TestClient,
    instagram: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    fake_meta: FakeMeta,
    clock: FrozenClock,
) -> None:
    deliver(client, instagram, payload("instagram_message.json"))
    reply(session_factory, instagram, IG_MESSAGE, "Found your parcel")
    fake_meta.script("POST", "/v21.0/ig-1/messages", Reply(200, drop_connection=True))
    sender.run_once()
    clock.advance(timedelta(minutes=1))
    assert sender.run_once().failed == 0
    with session_factory() as s:
        item = s.scalars(select(OutboxItem)).one()
        assert item.status == "pending" and "page_id" in (item.error_reason or "")
    assert len(fake_meta.calls("POST", "/v21.0/ig-1/messages")) == 1
