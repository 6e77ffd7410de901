"""Moving a customer to a DM, to email or to a phone callback, with a reason, in one case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.models import CallbackRequest, ChannelShift, KbLink, OutboxItem
from socialdesk.conversations.models import Thread
from socialdesk.conversations.replies import send_reply
from socialdesk.conversations.shift import (
    complete_shifts,
    deflection_counts,
    invite_to_dm,
    move_to_email,
    record_kb_click,
    schedule_callback,
    shift_counts,
)
from socialdesk.core.clock import FrozenClock
from socialdesk.core.errors import InvalidInput
from socialdesk.core.models import Workspace
from socialdesk.core.processing import PipelineHooks
from socialdesk.core.work import Task
from socialdesk.customers.models import Customer
from socialdesk.ingest.pipeline import Pipeline
from tests.channels.helpers import (
    T0,
    add_account,
    add_agent,
    inbound,
    ingest,
    message_by_external_id,
)

NOW = T0 + timedelta(minutes=10)


@pytest.fixture
def agent(session_factory: sessionmaker[Session], workspace: Workspace) -> int:
    return add_agent(session_factory, workspace.id)


def test_a_dm_invitation_answers_publicly_and_the_dm_that_follows_joins_the_case(
    session_factory: sessionmaker[Session], workspace: Workspace, agent: int
) -> None:
    add_account(session_factory, workspace.id, "x")
    ingest(session_factory, workspace.id, inbound("1001", author="42"))
    with session_factory() as s:
        conversation_id = message_by_external_id(s, "1001").conversation_id
        shift = invite_to_dm(
            s,
            workspace_id=workspace.id,
            conversation_id=conversation_id,
            author_user_id=agent,
            reason="needs account number",
            clock=FrozenClock(NOW),
        )
        s.commit()
        assert (shift.kind, shift.from_channel, shift.to_channel) == ("dm", "x", "x")
        item = s.scalars(select(OutboxItem)).one()
        assert item.action == "x.reply" and "direct message" in item.text
        shift_id = shift.id
    pipeline = Pipeline(
        session_factory,
        PipelineHooks(on_tasks_changed=[complete_shifts]),
        clock=lambda: NOW + timedelta(minutes=5),
    )
    pipeline.ingest(workspace.id, [inbound("dm-7", author="42", private=True, minutes=15)])
    with session_factory() as s:
        dm = message_by_external_id(s, "dm-7")
        assert dm.conversation_id == conversation_id
        thread = s.get(Thread, dm.thread_id)
        assert thread is not None and thread.key == "dm:42|900"
        done = s.get(ChannelShift, shift_id)
        assert done is not None and done.completed_at is not None
        assert shift_counts(s, workspace.id, T0, NOW + timedelta(days=1)) == {
            ("dm", "needs account number"): 1
        }


def test_moving_to_email_starts_an_email_thread_in_the_same_case(
    session_factory: sessionmaker[Session], workspace: Workspace, agent: int
) -> None:
    add_account(session_factory, workspace.id, "email")
    ingest(session_factory, workspace.id, inbound("1001", author="42"))
    with session_factory() as s:
        conversation_id = message_by_external_id(s, "1001").conversation_id
        shift = move_to_email(
            s,
            workspace_id=workspace.id,
            conversation_id=conversation_id,
            author_user_id=agent,
            reason="documents needed",
            email="dana@mail.test",
            text="Please reply with the scan of your contract.",
            subject="Your router",
            notice="We have emailed you.",
            clock=FrozenClock(NOW),
        )
        s.commit()
        items = s.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
        assert [i.action for i in items] == ["email.send", "x.reply"]
        assert items[0].target["to"] == "dana@mail.test"
        thread = s.get(Thread, shift.thread_id)
        assert thread is not None and thread.channel == "email"
        assert thread.conversation_id == conversation_id
        customer = s.scalars(select(Customer)).one()
        assert customer.email == "dana@mail.test"
        email_message_id = items[0].target["message_id"]
    # The customer's email answer, threaded by In-Reply-To, joins the case.
    ingest(
        session_factory,
        workspace.id,
        inbound(
            "<r1@mail.test>",
            channel="email",
            author="dana@mail.test",
            private=True,
            reply_to=email_message_id,
            references=[email_message_id],
            minutes=30,
        ),
    )
    with session_factory() as s:
        assert message_by_external_id(s, "<r1@mail.test>").conversation_id == conversation_id


def test_a_phone_callback_is_a_task_with_a_number_and_a_window(
    session_factory: sessionmaker[Session], workspace: Workspace, agent: int
) -> None:
    ingest(session_factory, workspace.id, inbound("1001", author="42"))
    with session_factory() as s:
        conversation_id = message_by_external_id(s, "1001").conversation_id
        callback = schedule_callback(
            s,
            workspace_id=workspace.id,
            conversation_id=conversation_id,
            author_user_id=agent,
            reason="elderly customer prefers phone",
            phone="+44 20 7946 0000",
            window_start=NOW + timedelta(hours=1),
            window_end=NOW + timedelta(hours=3),
            clock=FrozenClock(NOW),
        )
        s.commit()
        stored = s.get(CallbackRequest, callback.id)
        assert stored is not None
        assert (stored.phone, stored.status) == ("+44 20 7946 0000", "open")
        assert stored.window_start == NOW + timedelta(hours=1)
        assert s.scalars(select(ChannelShift.to_channel)).one() == "phone"


@pytest.mark.parametrize(
    ("phone", "start", "end", "message"),
    [
        ("call me", 1, 2, "not a phone number"),
        ("+4420794600", 3, 2, "ends before it starts"),
        ("+4420794600", -5, -4, "already over"),
    ],
)
def test_a_callback_needs_a_number_and_a_window_in_the_future(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    agent: int,
    phone: str,
    start: int,
    end: int,
    message: str,
) -> None:
    ingest(session_factory, workspace.id, inbound("1001"))
    with session_factory() as s, pytest.raises(InvalidInput, match=message):
        schedule_callback(
            s,
            workspace_id=workspace.id,
            conversation_id=message_by_external_id(s, "1001").conversation_id,
            author_user_id=agent,
            reason="r",
            phone=phone,
            window_start=NOW + timedelta(hours=start),
            window_end=NOW + timedelta(hours=end),
            clock=FrozenClock(NOW),
        )


def test_every_shift_needs_a_reason(
    session_factory: sessionmaker[Session], workspace: Workspace, agent: int
) -> None:
    ingest(session_factory, workspace.id, inbound("1001"))
    with session_factory() as s, pytest.raises(InvalidInput, match="reason"):
        invite_to_dm(
            s,
            workspace_id=workspace.id,
            conversation_id=message_by_external_id(s, "1001").conversation_id,
            author_user_id=agent,
            reason="  ",
        )


def test_opening_a_knowledge_base_link_counts_as_deflection(
    session_factory: sessionmaker[Session], workspace: Workspace, agent: int
) -> None:
    ingest(session_factory, workspace.id, inbound("1001"), inbound("1002", author="43"))
    with session_factory() as s:
        for external_id in ("1001", "1002"):
            send_reply(
                s,
                workspace_id=workspace.id,
                conversation_id=message_by_external_id(s, external_id).conversation_id,
                author_user_id=agent,
                text="See",
                kb_article_url="https://help.acme.test/a",
                clock=FrozenClock(NOW),
            )
        s.commit()
        tokens = list(s.scalars(select(KbLink.token).order_by(KbLink.id)))
        assert record_kb_click(s, tokens[0], NOW + timedelta(hours=1)) == "https://help.acme.test/a"
        s.commit()
        assert deflection_counts(s, workspace.id, T0, NOW + timedelta(days=1)) == (2, 1)
        assert s.scalars(select(Task.status)).all() == ["pending", "pending"]
