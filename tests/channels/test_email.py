"""Email: IMAP polling and a signed inbound webhook in, SMTP out, threaded by Message-ID."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels import signing
from socialdesk.channels.models import ChannelAccount, OutboxItem
from socialdesk.channels.polling import poll_email_account
from socialdesk.conversations.models import Thread
from socialdesk.conversations.outbox_sender import OutboxSender
from socialdesk.conversations.replies import send_reply
from socialdesk.core.clock import FrozenClock
from socialdesk.core.work import Task
from socialdesk.ingest.pipeline import Pipeline
from tests.channels.fake_mail import FakeImap, FakeSmtp
from tests.channels.helpers import SECRET, T0, add_agent, message_by_external_id
from tests.channels.mail_helpers import WEBHOOK_SECRET, mail, post_mail


def test_end_to_end_an_inbound_email_is_answered_in_the_same_thread(
    client: TestClient,
    mailbox: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    smtp: FakeSmtp,
) -> None:
    response = post_mail(client, mailbox, mail("<q1@mail.test>"))
    assert response.status_code == 200 and response.json()["accepted"] == 1
    agent = add_agent(session_factory, mailbox.workspace_id)
    with session_factory() as s:
        inbound = message_by_external_id(s, "<q1@mail.test>")
        assert s.scalars(select(Task.status)).one() == "open"
        send_reply(
            s,
            workspace_id=mailbox.workspace_id,
            conversation_id=inbound.conversation_id,
            author_user_id=agent,
            text="We refunded the second charge.",
            clock=lambda: T0,
        )
        s.commit()
    assert sender.run_once().sent == 1
    [sent] = smtp.messages
    assert sent.rcpt_to == ["dana@mail.test"]
    parsed = message_from_bytes(sent.data, policy=policy.default)
    assert parsed["Subject"] == "Re: Invoice 2231 is wrong"
    assert parsed["In-Reply-To"] == "<q1@mail.test>"
    assert parsed["References"] == "<q1@mail.test>"
    assert parsed["From"] == "Acme Care <care@acme.test>"
    assert parsed.get_content().strip() == "We refunded the second charge."
    with session_factory() as s:
        item = s.scalars(select(OutboxItem)).one()
        assert item.external_id == parsed["Message-ID"]
    # The customer answers our mail: same conversation.
    post_mail(client, mailbox, mail("<q2@mail.test>", in_reply_to=parsed["Message-ID"]))
    with session_factory() as s:
        assert (
            message_by_external_id(s, "<q2@mail.test>").conversation_id
            == message_by_external_id(s, "<q1@mail.test>").conversation_id
        )


def test_imap_polling_fetches_each_message_once(
    mailbox: ChannelAccount,
    imap: FakeImap,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
) -> None:
    imap.mailbox = {7: mail("<p1@mail.test>"), 9: mail("<p2@mail.test>", sender="sam@mail.test")}
    pipeline = Pipeline(session_factory, clock=clock)
    first = poll_email_account(session_factory, pipeline, account_id=mailbox.id, secret_key=SECRET)
    assert (first.fetched, first.accepted) == (2, 2)
    imap.mailbox[12] = mail("<p3@mail.test>", sender="lee@mail.test")
    second = poll_email_account(session_factory, pipeline, account_id=mailbox.id, secret_key=SECRET)
    assert (second.fetched, second.accepted) == (1, 1)
    with session_factory() as s:
        assert message_by_external_id(s, "<p3@mail.test>").text == "Hello, you charged me twice."
        stored = s.get(ChannelAccount, mailbox.id)
        assert stored is not None and stored.settings["imap_last_uid"] == 12


def test_automatic_replies_are_not_work(
    client: TestClient, mailbox: ChannelAccount, session_factory: sessionmaker[Session]
) -> None:
    raw = mail("<ooo@mail.test>", subject="Out of office", extra="Auto-Submitted: auto-replied")
    assert post_mail(client, mailbox, raw).json()["accepted"] == 0
    with session_factory() as s:
        assert s.scalars(select(Task)).all() == []


def test_inbound_mail_needs_a_valid_recent_signature(
    client: TestClient, mailbox: ChannelAccount
) -> None:
    raw = mail("<q1@mail.test>")
    assert post_mail(client, mailbox, raw, secret="wrong").status_code == 403
    stale = signing.signed_headers(raw, WEBHOOK_SECRET, datetime(2026, 1, 1, tzinfo=UTC))
    assert (
        client.post(f"/webhooks/email/{mailbox.id}", content=raw, headers=stale).status_code == 403
    )
    assert client.post(f"/webhooks/email/{mailbox.id}", content=raw).status_code == 401


def test_a_mail_without_message_id_is_dead_lettered(
    client: TestClient, mailbox: ChannelAccount
) -> None:
    raw = mail("<x@y>").replace(b"Message-ID: <x@y>\r\n", b"")
    response = post_mail(client, mailbox, raw)
    assert response.status_code == 400 and "Message-ID" in response.json()["detail"]


@pytest.mark.parametrize(
    ("setup", "status", "code"),
    [("refused", "failed", "550"), ("password", "failed", "535"), ("busy", "pending", "451")],
)
def test_smtp_refusals_are_classified(
    client: TestClient,
    mailbox: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    smtp: FakeSmtp,
    setup: str,
    status: str,
    code: str,
) -> None:
    post_mail(client, mailbox, mail("<q1@mail.test>"))
    if setup == "refused":
        smtp.refused.add("dana@mail.test")
    elif setup == "password":
        smtp.password = "changed"
    else:
        smtp.temporary_failures = 1
    agent = add_agent(session_factory, mailbox.workspace_id)
    with session_factory() as s:
        send_reply(
            s,
            workspace_id=mailbox.workspace_id,
            conversation_id=message_by_external_id(s, "<q1@mail.test>").conversation_id,
            author_user_id=agent,
            text="Hi",
            clock=lambda: T0,
        )
        s.commit()
    sender.run_once()
    with session_factory() as s:
        item = s.scalars(select(OutboxItem)).one()
        assert (item.status, item.error_code) == (status, code)
    assert smtp.messages == []


def test_end_to_end_moving_a_case_to_email_sends_one_mail_that_starts_the_thread(
    mailbox: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    smtp: FakeSmtp,
) -> None:
    from socialdesk.conversations.shift import move_to_email
    from tests.channels.helpers import inbound, ingest

    ingest(session_factory, mailbox.workspace_id, inbound("1001", author="42"))
    agent = add_agent(session_factory, mailbox.workspace_id)
    with session_factory() as s:
        shift = move_to_email(
            s,
            workspace_id=mailbox.workspace_id,
            conversation_id=message_by_external_id(s, "1001").conversation_id,
            author_user_id=agent,
            reason="contract documents",
            email="dana@mail.test",
            text="Please send us the signed contract as a reply to this mail.",
            subject="Your contract",
            clock=lambda: T0,
        )
        s.commit()
        thread_key = s.get(Thread, shift.thread_id).key  # type: ignore[union-attr]
    assert sender.run_once().sent == 1
    [sent] = smtp.messages
    parsed = message_from_bytes(sent.data, policy=policy.default)
    assert sent.rcpt_to == ["dana@mail.test"]
    assert parsed["Message-ID"] == thread_key and parsed["Subject"] == "Your contract"
    assert parsed["In-Reply-To"] is None
