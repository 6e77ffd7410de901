"""Several senders at once never deliver an outbox item twice."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.models import OutboxItem
from socialdesk.channels.registry import default_connectors
from socialdesk.conversations.outbox_sender import OutboxSender
from socialdesk.conversations.replies import send_reply
from socialdesk.core.clock import FrozenClock
from socialdesk.core.db import make_session_factory
from socialdesk.core.models import Workspace
from tests.channels.fake_x import FakeX
from tests.channels.helpers import (
    SECRET,
    T0,
    add_account,
    add_agent,
    inbound,
    ingest,
    message_by_external_id,
)

ITEMS = 24
SENDERS = 4


def _queue_replies(factory: sessionmaker[Session], fake_x: FakeX) -> None:
    with factory() as s:
        workspace = Workspace(slug="acme", name="Acme")
        s.add(workspace)
        s.commit()
        workspace_id = workspace.id
    add_account(
        factory,
        workspace_id,
        "x",
        credentials={"consumer_secret": "c", "access_token": "user-token"},
        settings={"api_base": fake_x.base_url},
    )
    agent = add_agent(factory, workspace_id)
    ingest(
        factory, workspace_id, *[inbound(str(5000 + n), author=str(100 + n)) for n in range(ITEMS)]
    )
    with factory() as s:
        for n in range(ITEMS):
            send_reply(
                s,
                workspace_id=workspace_id,
                conversation_id=message_by_external_id(s, str(5000 + n)).conversation_id,
                author_user_id=agent,
                text=f"answer {n}",
                clock=lambda: T0,
            )
        s.commit()


@pytest.mark.postgres
def test_concurrent_senders_post_each_reply_exactly_once(pg_engine: Engine) -> None:
    factory = make_session_factory(pg_engine)
    with FakeX().serve() as fake_x:
        _queue_replies(factory, fake_x)  # type: ignore[arg-type]
        clock = FrozenClock(T0)
        senders = [
            OutboxSender(factory, default_connectors(), secret_key=SECRET, clock=clock)
            for _ in range(SENDERS)
        ]
        start = threading.Barrier(SENDERS, timeout=60)

        def run(sender: OutboxSender) -> None:
            start.wait()
            for _ in range(3):
                sender.run_once(limit=5)

        threads = [threading.Thread(target=run, args=(s,)) for s in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        texts = sorted(p["text"] for p in fake_x.posts)  # type: ignore[attr-defined]
    assert texts == sorted(f"answer {n}" for n in range(ITEMS))
    with factory() as s:
        assert set(s.scalars(select(OutboxItem.status))) == {"sent"}
