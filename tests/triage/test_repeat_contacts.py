"""Repeat contacts come from each customer's own recent history, however busy the others are."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.triage.test_storage import T0, pipeline, post

from socialdesk.conversations.models import Message
from socialdesk.core.models import Workspace
from socialdesk.customers.models import Identity
from socialdesk.triage.repository import earlier_inbound_times


def customers_by_handle(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Identity.handle, Identity.customer_id).where(Identity.customer_id.is_not(None))
    )
    return {str(h): int(c) for h, c in rows if c is not None}


def test_a_very_busy_author_does_not_crowd_out_the_others(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    loud = [post(f"l{i}", f"still waiting, day {i}", "loud", minutes=i) for i in range(8)]
    quiet = [
        post("a1", "my bill is wrong", "ann", minutes=1),
        post("a2", "my bill is still wrong", "ann", minutes=9),
        post("b1", "card declined", "bob", minutes=2),
    ]
    pipeline(session_factory).ingest(workspace.id, loud + quiet)
    with session_factory() as s:
        ids = customers_by_handle(s)
        rows = earlier_inbound_times(
            s,
            workspace.id,
            set(ids.values()),
            T0 - timedelta(days=1),
            T0 + timedelta(hours=1),
            set(),
            latest_per_customer=3,
        )
    per_customer = Counter(customer for customer, _ in rows)
    assert per_customer == {ids["loud"]: 3, ids["ann"]: 2, ids["bob"]: 1}
    loud_times = sorted(at for customer, at in rows if customer == ids["loud"])
    assert [at.replace(tzinfo=None) for at in loud_times] == [
        (T0 + timedelta(minutes=m)).replace(tzinfo=None) for m in (5, 6, 7)
    ]  # the newest ones: they are the ones a new message's window needs


def test_the_window_and_the_excluded_messages_still_apply(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    pipeline(session_factory).ingest(
        workspace.id,
        [
            post("a1", "my bill is wrong", "ann", minutes=0),
            post("a2", "my bill is still wrong", "ann", minutes=30),
            post("a3", "third time asking about my bill", "ann", minutes=90),
        ],
    )
    with session_factory() as s:
        ann = customers_by_handle(s)["ann"]
        third = s.scalars(select(Message.id).where(Message.external_id == "a3")).one()
        rows = earlier_inbound_times(
            s, workspace.id, {ann}, T0 + timedelta(minutes=10), T0 + timedelta(hours=2), {third}
        )
    assert [at.replace(tzinfo=None) for _, at in rows] == [
        (T0 + timedelta(minutes=30)).replace(tzinfo=None)
    ]
