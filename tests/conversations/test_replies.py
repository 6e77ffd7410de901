"""An agent's reply is stored with its outbox row in one transaction, ready to leave."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.models import KbLink, OutboxItem
from socialdesk.conversations.models import Conversation, Message, Thread
from socialdesk.conversations.replies import send_reply
from socialdesk.core.clock import FrozenClock
from socialdesk.core.errors import InvalidInput, NotFound
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task
from tests.channels.helpers import (
    T0,
    add_account,
    add_agent,
    inbound,
    ingest,
    message_by_external_id,
)

NOW = T0 + timedelta(minutes=20)


@pytest.fixture
def agent(session_factory: sessionmaker[Session], workspace: Workspace) -> int:
    return add_agent(session_factory, workspace.id)


def _case(session: Session, external_id: str) -> int:
    return message_by_external_id(session, external_id).conversation_id


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_public_reply_to_a_post_is_queued_with_the_message_and_marks_the_first_response(
    session_factory: sessionmaker[Session], workspace: Workspace, agent: int
) -> None:
    account = add_account(session_factory, workspace.id, "x")
    ingest(session_factory, workspace.id, inbound("1001"))
    with session_factory() as s:
        conversation_id = _case(s, "1001")
        message = send_reply(
            s,
            workspace_id=workspace.id,
            conversation_id=conversation_id,
            author_user_id=agent,
            text="Sorry to hear that, we are on it.",
            clock=FrozenClock(NOW),
        )
        s.commit()
        message_id = message.id
    with session_factory() as s:
        stored = s.get(Message, message_id)
        assert stored is not None
        assert (stored.direction, stored.visibility, stored.channel) == (
            "outbound",
            "public",
            "x",
        )
        assert stored.reply_to_external_id == "1001"
        item = s.scalars(select(OutboxItem)).one()
        assert item.message_id == message_id
        assert item.action == "x.reply"
        assert item.target == {"in_reply_to_tweet_id": "1001"}
        assert item.status == "pending" and item.channel_account_id == account.id
        assert item.author_user_id == agent
        task = s.scalars(select(Task)).one()
        assert task.status == "pending" and task.first_response_at == NOW
        conversation = s.get(Conversation, conversation_id)
        assert conversation is not None and conversation.status == "pending"
        assert conversation.last_outbound_at == NOW


def test_the_reply_and_its_outbox_row_roll_back_together(
    session_factory: sessionmaker[Session], workspace: Workspace, agent: int
) -> None:
    ingest(session_factory, workspace.id, inbound("1001"))
    with session_factory() as s:
        send_reply(
            s,
            workspace_id=workspace.id,
            conversation_id=_case(s, "1001"),
            author_user_id=agent,
            text="On it",
            clock=FrozenClock(NOW),
        )
        s.rollback()
    with session_factory() as s:
        assert _count(s, OutboxItem) == 0
        assert _count(s, Message) == 1
        assert s.scalars(select(Task)).one().first_response_at is None


def test_a_post_longer_than_x_allows_is_refused_before_anything_is_stored(
    session_factory: sessionmaker[Session], workspace: Workspace, agent: int
) -> None:
    ingest(session_factory, workspace.id, inbound("1001"))
    with session_factory() as s:
        with pytest.raises(InvalidInput, match="at most 280"):
            send_reply(
                s,
                workspace_id=workspace.id,
                conversation_id=_case(s, "1001"),
                author_user_id=agent,
                text="x" * 281,
                clock=FrozenClock(NOW),
            )
        s.rollback()
        assert _count(s, OutboxItem) == 0


def test_x_counts_a_long_link_as_23_characters(
    session_factory: sessionmaker[Session], workspace: Workspace, agent: int
) -> None:
    ingest(session_factory, workspace.id, inbound("1001"))
    text = "y" * 250 + " https://help.acme.test/" + "a" * 200
    with session_factory() as s:
        send_reply(
            s,
            workspace_id=workspace.id,
            conversation_id=_case(s, "1001"),
            author_user_id=agent,
            text=text,
            clock=FrozenClock(NOW),
        )
        s.commit()
        assert s.scalars(select(OutboxItem.text)).one() == text


def test_a_private_answer_to_a_public_post_goes_to_a_dm_thread_of_the_same_case(
    session_factory: sessionmaker[Session], workspace: Workspace, agent: int
) -> None:
    add_account(session_factory, workspace.id, "x")
    ingest(session_factory, workspace.id, inbound("1001", author="42"))
    with session_factory() as s:
        conversation_id = _case(s, "1001")
        message = send_reply(
            s,
            workspace_id=workspace.id,
            conversation_id=conversation_id,
            author_user_id=agent,
            text="Could you send us your account number here?",
            visibility="private",
            clock=FrozenClock(NOW),
        )
        s.commit()
        thread = s.get(Thread, message.thread_id)
        assert thread is not None
        assert (thread.key, thread.visibility, thread.conversation_id) == (
            "dm:42|900",
            "private",
            conversation_id,
        )
        item = s.scalars(select(OutboxItem)).one()
        assert (item.action, item.target) == ("x.dm", {"recipient_id": "42"})
    # The customer's DM that follows lands in the same case.
    ingest(session_factory, workspace.id, inbound("dm-1", author="42", private=True, minutes=30))
    with session_factory() as s:
        assert _case(s, "dm-1") == conversation_id


def test_a_private_answer_to_a_facebook_comment_is_a_private_reply(
    session_factory: sessionmaker[Session], workspace: Workspace, agent: int
) -> None:
    add_account(session_factory, workspace.id, "facebook")
    ingest(session_factory, workspace.id, inbound("post_1_c9", channel="facebook", author="77"))
    with session_factory() as s:
        send_reply(
            s,
            workspace_id=workspace.id,
            conversation_id=_case(s, "post_1_c9"),
            author_user_id=agent,
            text="We sent you a message.",
            visibility="private",
            clock=FrozenClock(NOW),
        )
        item = s.scalars(select(OutboxItem)).one()
        assert item.action == "facebook.private_reply"
        assert item.target == {"comment_id": "post_1_c9", "recipient_id": "77"}


def test_answers_to_a_private_message_stay_private(
    session_factory: sessionmaker[Session], workspace: Workspace, agent: int
) -> None:
    ingest(
        session_factory,
        workspace.id,
        inbound("m_1", channel="facebook", author="psid-5", private=True),
    )
    with session_factory() as s:
        message = send_reply(
            s,
            workspace_id=workspace.id,
            conversation_id=_case(s, "m_1"),
            author_user_id=agent,
            text="Hi! Let me check.",
            visibility="public",
            clock=FrozenClock(NOW),
        )
        assert message.visibility == "private"
        item = s.scalars(select(OutboxItem)).one()
        # Within 24 hours of the customer's message: a plain Send API response.
        assert (item.action, item.target) == (
            "facebook.message",
            {"recipient_id": "psid-5", "messaging_type": "RESPONSE"},
        )


def test_an_email_answer_threads_by_message_id(
    session_factory: sessionmaker[Session], workspace: Workspace, agent: int
) -> None:
    add_account(session_factory, workspace.id, "email")
    ingest(
        session_factory,
        workspace.id,
        inbound(
            "<a1@mail.test>",
            channel="email",
            author="dana@mail.test",
            private=True,
            subject="Invoice wrong",
            thread_ref="<a1@mail.test>",
        ),
    )
    with session_factory() as s:
        message = send_reply(
            s,
            workspace_id=workspace.id,
            conversation_id=_case(s, "<a1@mail.test>"),
            author_user_id=agent,
            text="We corrected it.",
            clock=FrozenClock(NOW),
        )
        item = s.scalars(select(OutboxItem)).one()
        assert item.action == "email.send"
        assert item.target["to"] == "dana@mail.test"
        assert item.target["subject"] == "Re: Invoice wrong"
        assert item.target["in_reply_to"] == "<a1@mail.test>"
        assert item.target["references"] == ["<a1@mail.test>"]
        assert item.target["message_id"].endswith("@acme.test>")
        assert message.external_id == item.target["message_id"]


def test_a_reply_can_carry_a_knowledge_base_link_that_is_recorded(
    session_factory: sessionmaker[Session], workspace: Workspace, agent: int
) -> None:
    with session_factory() as s:
        ws = s.get(Workspace, workspace.id)
        assert ws is not None
        ws.settings = {"link_base_url": "https://desk.acme.test"}
        s.commit()
    ingest(session_factory, workspace.id, inbound("1001"))
    with session_factory() as s:
        message = send_reply(
            s,
            workspace_id=workspace.id,
            conversation_id=_case(s, "1001"),
            author_user_id=agent,
            text="This guide fixes it:",
            kb_article_url="https://help.acme.test/router-reset",
            clock=FrozenClock(NOW),
        )
        s.commit()
        link = s.scalars(select(KbLink)).one()
        assert link.url == "https://help.acme.test/router-reset"
        assert link.message_id == message.id and link.first_clicked_at is None
        assert message.text == f"This guide fixes it: https://desk.acme.test/l/{link.token}"


def test_a_knowledge_base_link_must_be_a_web_address(
    session_factory: sessionmaker[Session], workspace: Workspace, agent: int
) -> None:
    ingest(session_factory, workspace.id, inbound("1001"))
    with session_factory() as s, pytest.raises(InvalidInput, match="http"):
        send_reply(
            s,
            workspace_id=workspace.id,
            conversation_id=_case(s, "1001"),
            author_user_id=agent,
            text="see",
            kb_article_url="javascript:alert(1)",
            clock=FrozenClock(NOW),
        )


def test_another_workspaces_conversation_is_not_found(
    session_factory: sessionmaker[Session], workspace: Workspace, agent: int
) -> None:
    ingest(session_factory, workspace.id, inbound("1001"))
    with session_factory() as s:
        other = Workspace(slug="other", name="Other")
        s.add(other)
        s.flush()
        with pytest.raises(NotFound):
            send_reply(
                s,
                workspace_id=other.id,
                conversation_id=_case(s, "1001"),
                author_user_id=agent,
                text="hi",
                clock=FrozenClock(NOW),
            )


def test_a_channel_the_customer_never_used_needs_a_channel_shift(
    session_factory: sessionmaker[Session], workspace: Workspace, agent: int
) -> None:
    ingest(session_factory, workspace.id, inbound("1001"))
    with session_factory() as s, pytest.raises(InvalidInput, match="channel shift"):
        send_reply(
            s,
            workspace_id=workspace.id,
            conversation_id=_case(s, "1001"),
            author_user_id=agent,
            text="hi",
            channel="email",
            clock=FrozenClock(NOW),
        )


def test_the_first_response_time_is_kept_by_later_replies(
    session_factory: sessionmaker[Session], workspace: Workspace, agent: int
) -> None:
    ingest(session_factory, workspace.id, inbound("1001"))
    clock = FrozenClock(NOW)
    with session_factory() as s:
        conversation_id = _case(s, "1001")
        for text in ("first", "second"):
            send_reply(
                s,
                workspace_id=workspace.id,
                conversation_id=conversation_id,
                author_user_id=agent,
                text=text,
                clock=clock,
            )
            clock.advance(timedelta(minutes=5))
        s.commit()
        task = s.scalars(select(Task)).one()
        assert task.first_response_at == NOW
        assert _count(s, OutboxItem) == 2
