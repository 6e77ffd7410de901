"""A Facebook post or comment edited or removed by its author: shown, original kept."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.models import ChannelAccount
from socialdesk.conversations.models import Message
from tests.channels.helpers import message_by_external_id
from tests.channels.meta_helpers import deliver, payload

# Page webhooks, field "feed": value.verb is add, edited, remove ... and value.item names
# the object (comment, post, status ...); an edit carries the new message, a removal none.
# https://developers.facebook.com/docs/graph-api/webhooks/reference/page/#feed


def test_an_edited_comment_shows_the_new_text_and_keeps_the_original(
    client: TestClient, page: ChannelAccount, session_factory: sessionmaker[Session]
) -> None:
    deliver(client, page, payload("facebook_feed_comment.json"))
    edited = deliver(client, page, payload("facebook_feed_comment_edited.json"))
    again = deliver(client, page, payload("facebook_feed_comment_edited.json"))
    assert edited.status_code == 200 and again.json()["duplicates"] == 1
    with session_factory() as s:
        [message] = s.scalars(select(Message)).all()
        assert message.external_id == "555_901"
        assert message.text == "Still no refund for order 1234? Day 12 now."
        assert message.original_text == "Still no refund for order 1234?"
        assert message.edited_at == datetime.fromtimestamp(1793613600, UTC)
        assert message.removed_at is None


def test_a_removed_comment_is_marked_removed_and_its_text_kept(
    client: TestClient, page: ChannelAccount, session_factory: sessionmaker[Session]
) -> None:
    deliver(client, page, payload("facebook_feed_comment.json"))
    deliver(client, page, payload("facebook_feed_comment_removed.json"))
    with session_factory() as s:
        message = message_by_external_id(s, "555_901")
        assert message.removed_at == datetime.fromtimestamp(1793617200, UTC)
        assert message.text == "Still no refund for order 1234?"


def test_an_edit_of_a_comment_never_seen_is_that_comment(
    client: TestClient, page: ChannelAccount, session_factory: sessionmaker[Session]
) -> None:
    deliver(client, page, payload("facebook_feed_comment_edited.json"))
    with session_factory() as s:
        message = message_by_external_id(s, "555_901")
        assert message.text == "Still no refund for order 1234? Day 12 now."
        assert message.original_text is None
