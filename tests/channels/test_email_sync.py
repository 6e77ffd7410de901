"""Email against real servers: UIDVALIDITY, the References chain, no second copy."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.models import ChannelAccount, OutboxItem
from socialdesk.channels.polling import poll_email_account
from socialdesk.conversations.models import Message
from socialdesk.conversations.outbox_sender import OutboxSender
from socialdesk.conversations.replies import send_reply
from socialdesk.core.clock import FrozenClock
from socialdesk.ingest.pipeline import Pipeline
from tests.channels.fake_mail import FakeImap, FakeSmtp
from tests.channels.helpers import SECRET, T0, add_agent, message_by_external_id
from tests.channels.mail_helpers import mail, post_mail


def _answer(session_factory: sessionmaker[Session], mailbox: ChannelAccount, parent: str) -> None:
    agent = add_agent(session_factory, mailbox.workspace_id)
    with session_factory() as s:
        send_reply(
            s,
            workspace_id=mailbox.workspace_id,
            conversation_id=message_by_external_id(s, parent).conversation_id,
            author_user_id=agent,
            text="We refunded the second charge.",
            clock=lambda: T0,
        )
        s.commit()


def test_a_new_uidvalidity_rereads_the_mailbox_and_stores_each_mail_once(
    mailbox: ChannelAccount,
    imap: FakeImap,
    session_factory: sessionmaker[Session],
    clock: FrozenClock,
) -> None:
    pipeline = Pipeline(session_factory, clock=clock)
    imap.mailbox = {7: mail("<p1@mail.test>"), 9: mail("<p2@mail.test>", sender="sam@mail.test")}
    poll_email_account(session_factory, pipeline, account_id=mailbox.id, secret_key=SECRET)
    # The server rebuilt the mailbox: new UIDVALIDITY, UIDs start again at 1, and a new
    # mail arrived meanwhile (RFC 3501 section 2.3.1.1).
    imap.uidvalidity = 2
    imap.mailbox = {
        1: mail("<p1@mail.test>"),
        2: mail("<p2@mail.test>", sender="sam@mail.test"),
        3: mail("<p3@mail.test>", sender="lee@mail.test"),
    }
    report = poll_email_account(session_factory, pipeline, account_id=mailbox.id, secret_key=SECRET)
    assert (report.fetched, report.accepted) == (3, 1)
    with session_factory() as s:
        assert message_by_external_id(s, "<p3@mail.test>").direction == "inbound"
        assert s.scalar(select(func.count()).select_from(Message)) == 3
        stored = s.get(ChannelAccount, mailbox.id)
        assert stored is not None
        assert (stored.settings["imap_uidvalidity"], stored.settings["imap_last_uid"]) == ("2", 3)


def test_the_reply_references_the_whole_chain_then_the_parent(
    client: TestClient,
    mailbox: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    smtp: FakeSmtp,
) -> None:
    # The customer's mail answers a chain that started outside socialdesk.
    chain = "References: <root@mail.test> <second@mail.test>"
    parent = mail("<third@mail.test>", extra=chain + "\r\nIn-Reply-To: <second@mail.test>")
    post_mail(client, mailbox, parent)
    _answer(session_factory, mailbox, "<third@mail.test>")
    assert sender.run_once().sent == 1
    sent = message_from_bytes(smtp.messages[0].data, policy=policy.default)
    # RFC 5322 section 3.6.4: the parent's References followed by the parent's Message-ID.
    assert sent["References"] == "<root@mail.test> <second@mail.test> <third@mail.test>"
    assert sent["In-Reply-To"] == "<third@mail.test>"


def test_a_mail_accepted_but_unconfirmed_is_found_in_sent_not_sent_twice(
    client: TestClient,
    mailbox: ChannelAccount,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
    smtp: FakeSmtp,
    imap: FakeImap,
    clock: FrozenClock,
) -> None:
    smtp.sent_folder = imap.sent  # the provider files what it accepts under "Sent"
    smtp.lost_replies = 1
    post_mail(client, mailbox, mail("<q1@mail.test>"))
    _answer(session_factory, mailbox, "<q1@mail.test>")
    assert sender.run_once().retried == 1
    with session_factory() as s:
        assert s.scalars(select(OutboxItem.outcome_unknown)).one()
    clock.advance(timedelta(minutes=5))
    report = sender.run_once()
    assert (report.recovered, report.sent) == (1, 0)
    assert len(smtp.messages) == 1
    with session_factory() as s:
        item = s.scalars(select(OutboxItem)).one()
        assert item.status == "sent"
        assert item.external_id == message_from_bytes(smtp.messages[0].data)["Message-ID"]
