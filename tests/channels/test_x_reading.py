"""Reading X as it is: every page since the last poll, long posts whole, t.co links."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.models import OutboxItem
from socialdesk.channels.polling import poll_x_account
from socialdesk.conversations.models import Message
from socialdesk.conversations.outbox_sender import OutboxSender
from socialdesk.core.clock import FrozenClock
from socialdesk.core.models import Workspace
from socialdesk.ingest.pipeline import Pipeline
from tests.channels.fake_x import FakeX
from tests.channels.fakeplatform import Reply
from tests.channels.helpers import SECRET, message_by_external_id
from tests.channels.x_helpers import answer_the_mention, x_account


def _mention(n: int, text: str = "", **fields: object) -> dict[str, object]:
    return {
        "id": str(1855000000000001000 + n),
        "text": text or f"@AcmeCare outage report {n}",
        "author_id": str(500 + n),
        "created_at": "2026-11-02T09:00:00.000Z",
        **fields,
    }


def test_polling_after_a_quiet_time_reads_every_page_since_the_last_post_seen(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    fake_x: FakeX,
    clock: FrozenClock,
) -> None:
    account = x_account(session_factory, workspace, fake_x)
    pipeline = Pipeline(session_factory, clock=clock)
    fake_x.timeline.append(_mention(0))
    poll_x_account(session_factory, pipeline, account_id=account.id, secret_key=SECRET)
    fake_x.timeline.extend(_mention(n) for n in range(1, 251))  # a burst: three pages
    report = poll_x_account(session_factory, pipeline, account_id=account.id, secret_key=SECRET)
    assert report.accepted == 250
    pages = fake_x.calls("GET", "/2/users/900/mentions")[1:]
    assert [p.query.get("pagination_token") for p in pages] == [None, "100", "200"]
    assert {p.query["since_id"] for p in pages} == {"1855000000000001000"}
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 251
    poll_x_account(session_factory, pipeline, account_id=account.id, secret_key=SECRET)
    assert fake_x.calls("GET", "/2/users/900/mentions")[-1].query["since_id"] == (
        "1855000000000001250"
    )


def test_a_long_post_is_read_whole_from_note_tweet(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    fake_x: FakeX,
    clock: FrozenClock,
) -> None:
    account = x_account(session_factory, workspace, fake_x)
    whole = "@AcmeCare " + "my connection drops every evening at eight. " * 12
    fake_x.timeline.append(_mention(1, text=whole[:280], note_tweet={"text": whole}))
    poll_x_account(
        session_factory,
        Pipeline(session_factory, clock=clock),
        account_id=account.id,
        secret_key=SECRET,
    )
    with session_factory() as s:
        assert message_by_external_id(s, "1855000000000001001").text == whole


def test_a_lost_reply_with_a_link_is_found_although_x_rewrote_the_link(
    client: TestClient,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    sender: OutboxSender,
    fake_x: FakeX,
    clock: FrozenClock,
) -> None:
    account = x_account(session_factory, workspace, fake_x)
    answer_the_mention(
        client, account, session_factory, "Here is the fix: https://help.acme.test/router-reset"
    )
    # X posts it (the link becomes t.co), but the answer never reaches us.
    fake_x.script("POST", "/2/tweets", Reply(201, drop_connection=True))
    assert sender.run_once().retried == 1
    clock.advance(timedelta(minutes=5))
    report = sender.run_once()
    assert (report.recovered, report.sent, report.failed) == (1, 0, 0)
    assert len(fake_x.calls("POST", "/2/tweets")) == 1
    with session_factory() as s:
        item = s.scalars(select(OutboxItem)).one()
        assert (item.status, item.external_id) == ("sent", fake_x.posts[0]["id"])


def test_a_lookup_that_fails_never_makes_the_item_final(
    client: TestClient,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    sender: OutboxSender,
    fake_x: FakeX,
    clock: FrozenClock,
) -> None:
    account = x_account(session_factory, workspace, fake_x)
    answer_the_mention(client, account, session_factory, "We are on it.")
    fake_x.script("POST", "/2/tweets", Reply(201, drop_connection=True))
    sender.run_once()
    fake_x.script(
        "GET",
        "/2/users/900/tweets",
        Reply(400, {"title": "Invalid Request", "detail": "One or more parameters was invalid."}),
    )
    clock.advance(timedelta(minutes=5))
    assert sender.run_once().failed == 0
    with session_factory() as s:
        item = s.scalars(select(OutboxItem)).one()
        assert item.status == "pending" and item.outcome_unknown
        assert "could not check" in (item.error_reason or "")
    clock.advance(timedelta(hours=1))
    assert sender.run_once().recovered == 1
    assert len(fake_x.calls("POST", "/2/tweets")) == 1
