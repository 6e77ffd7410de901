"""Retention: old raw payloads and old closed cases are pruned; everything newer stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import socialdesk.models  # noqa: F401  (registers every table)
from socialdesk.channels.inbox import RawEvent
from socialdesk.channels.models import OutboxItem
from socialdesk.compliance.retention import RetentionPolicy, policy_of, prune, set_policy
from socialdesk.conversations.actions import add_note, resolve
from socialdesk.conversations.models import Conversation, Message
from socialdesk.conversations.replies import send_reply
from socialdesk.core import audit
from socialdesk.core.audit import AuditEvent
from socialdesk.core.errors import InvalidInput
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task
from socialdesk.people.models import User
from tests.channels.helpers import T0, add_account, add_agent, inbound, ingest

LATER = T0 + timedelta(days=40)


@pytest.fixture
def two_cases(session_factory: sessionmaker[Session], workspace: Workspace) -> tuple[int, int]:
    """An old case, answered and resolved on day one, and a case still open."""
    add_account(session_factory, workspace.id, "x")
    agent_id = add_agent(session_factory, workspace.id)
    ingest(session_factory, workspace.id, inbound("1001", author="42"), inbound("2001", author="7"))
    with session_factory() as s:
        old, open_ = (
            s.scalars(select(Message.conversation_id).where(Message.external_id == e)).one()
            for e in ("1001", "2001")
        )
        agent = s.get(User, agent_id)
        assert agent is not None
        send_reply(
            s,
            workspace_id=workspace.id,
            conversation_id=old,
            author_user_id=agent_id,
            text="fixed now",
            clock=lambda: T0 + timedelta(minutes=5),
        )
        add_note(
            s,
            workspace_id=workspace.id,
            conversation_id=old,
            author=agent,
            text="router swapped",
            clock=lambda: T0 + timedelta(minutes=6),
        )
        resolve(
            s,
            workspace_id=workspace.id,
            conversation_id=old,
            actor=agent,
            clock=lambda: T0 + timedelta(minutes=7),
        )
        s.commit()
        return old, open_


def _policy(session: Session, workspace_id: int, **days: int) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    assert workspace is not None
    set_policy(session, workspace, days, audit.Actor("admin@acme.test"))
    return workspace


def test_closed_cases_older_than_the_limit_go_with_everything_that_hangs_off_them(
    session_factory: sessionmaker[Session], workspace: Workspace, two_cases: tuple[int, int]
) -> None:
    old, open_ = two_cases
    with session_factory() as s:
        ws = _policy(s, workspace.id, closed_case_days=30)
        report = prune(s, ws, LATER)
        s.commit()
        assert report.closed_cases == 1
        assert s.get(Conversation, old) is None and s.get(Conversation, open_) is not None
        remaining = s.scalars(select(Message.conversation_id)).all()
        assert set(remaining) == {open_}
        assert s.scalar(select(func.count()).select_from(OutboxItem)) == 0
        assert s.scalars(select(Task.conversation_id)).all() == [open_]
        # The old case's raw event went with it; the open case's stays.
        assert s.scalar(select(func.count()).select_from(RawEvent)) == 1
        retention_events = (
            select(AuditEvent.action)
            .where(AuditEvent.action.startswith("retention."))
            .order_by(AuditEvent.id)
        )
        assert s.scalars(retention_events).all() == ["retention.updated", "retention.pruned"]


def test_a_closed_case_younger_than_the_limit_stays(
    session_factory: sessionmaker[Session], workspace: Workspace, two_cases: tuple[int, int]
) -> None:
    old, _open = two_cases
    with session_factory() as s:
        ws = _policy(s, workspace.id, closed_case_days=60)
        assert prune(s, ws, LATER).closed_cases == 0
        assert s.get(Conversation, old) is not None


def test_raw_payloads_are_dropped_but_their_keys_stay(
    session_factory: sessionmaker[Session], workspace: Workspace, two_cases: tuple[int, int]
) -> None:
    with session_factory() as s:
        ws = _policy(s, workspace.id, raw_payload_days=7)
        assert prune(s, ws, LATER).raw_payloads == 2
        s.commit()
        rows = s.scalars(select(RawEvent)).all()
        assert [r.payload for r in rows] == [{"pruned": True}] * 2
        assert {r.external_id for r in rows} == {"1001", "2001"}
        assert prune(s, ws, LATER).raw_payloads == 0  # once is enough
        stored = s.scalar(select(func.count()).select_from(Message))
    # A late redelivery of a pruned event is still a duplicate: nothing new is stored.
    ingest(session_factory, workspace.id, inbound("1001", author="42"))
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == stored


def test_no_policy_keeps_everything(
    session_factory: sessionmaker[Session], workspace: Workspace, two_cases: tuple[int, int]
) -> None:
    with session_factory() as s:
        ws = s.get(Workspace, workspace.id)
        assert ws is not None
        assert prune(s, ws, LATER).as_dict() == {
            "raw_payloads": 0,
            "closed_cases": 0,
            "raw_events_of_cases": 0,
        }


@pytest.mark.parametrize(
    "bad",
    [{"closed_case_days": 0}, {"raw_payload_days": "7"}, {"raw_payload_days": True}, {"x": 1}],
)
def test_a_bad_policy_is_refused_with_the_reason(
    session_factory: sessionmaker[Session], workspace: Workspace, bad: dict[str, object]
) -> None:
    with session_factory() as s:
        ws = s.get(Workspace, workspace.id)
        assert ws is not None
        with pytest.raises(InvalidInput):
            set_policy(s, ws, bad, audit.default_actor())


def test_the_policy_is_kept_in_the_workspace(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        _policy(s, workspace.id, raw_payload_days=90)
        s.commit()
    with session_factory() as s:
        ws = s.get(Workspace, workspace.id)
        assert ws is not None
        assert policy_of(ws) == RetentionPolicy(raw_payload_days=90)
