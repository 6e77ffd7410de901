"""Sandbox accounts (agent training, the demo): answers count as sent, no platform is called."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.models import OutboxItem
from socialdesk.channels.registry import default_connectors
from socialdesk.conversations.outbox_sender import OutboxSender
from socialdesk.conversations.replies import send_reply
from socialdesk.core.clock import FrozenClock
from socialdesk.core.models import Workspace
from tests.channels.helpers import (
    SECRET,
    T0,
    add_account,
    add_agent,
    inbound,
    ingest,
    message_by_external_id,
)


def test_a_reply_on_a_sandbox_account_is_recorded_as_sent_without_a_platform(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    # No api_base and no credentials: any real call would fail.
    add_account(session_factory, workspace.id, "x", settings={"sandbox": True})
    agent = add_agent(session_factory, workspace.id)
    ingest(session_factory, workspace.id, inbound("9001", author="77"))
    with session_factory() as s:
        send_reply(
            s,
            workspace_id=workspace.id,
            conversation_id=message_by_external_id(s, "9001").conversation_id,
            author_user_id=agent,
            text="Thanks, we are on it.",
            clock=lambda: T0,
        )
        s.commit()
    sender = OutboxSender(
        session_factory, default_connectors(), secret_key=SECRET, clock=FrozenClock(T0)
    )
    report = sender.run_once()
    assert (report.sent, report.failed) == (1, 0)
    with session_factory() as s:
        item = s.scalars(select(OutboxItem)).one()
    assert item.status == "sent" and (item.external_id or "").startswith("sandbox-")
