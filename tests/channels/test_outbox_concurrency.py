"""Several senders at once never deliver an outbox item twice."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, select

from socialdesk.channels.models import OutboxItem
from socialdesk.channels.registry import default_connectors
from socialdesk.conversations.outbox_sender import OutboxSender
from socialdesk.core.clock import FrozenClock
from socialdesk.core.db import make_session_factory
from tests.channels.fake_x import FakeX
from tests.channels.helpers import SECRET, T0, queue_replies

ITEMS = 24
SENDERS = 4


@pytest.mark.postgres
def test_concurrent_senders_post_each_reply_exactly_once(pg_engine: Engine) -> None:
    factory = make_session_factory(pg_engine)
    with FakeX().serve() as fake_x:
        queue_replies(factory, fake_x.base_url, ITEMS)
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
