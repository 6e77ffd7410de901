"""Retention on a schedule: each workspace with a policy is pruned once a period, unasked."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.compliance.retention import set_policy
from socialdesk.compliance.schedule import RetentionSchedule, is_due, prune_due
from socialdesk.conversations.models import Conversation
from socialdesk.core import audit
from socialdesk.core.audit import AuditEvent
from socialdesk.core.models import Workspace
from tests.channels.helpers import T0
from tests.compliance.test_retention import LATER, two_cases  # noqa: F401  (fixture)

DAY = timedelta(days=1)


def _keep_closed_cases(factory: sessionmaker[Session], workspace_id: int, days: int) -> None:
    with factory() as s:
        workspace = s.get(Workspace, workspace_id)
        assert workspace is not None
        set_policy(s, workspace, {"closed_case_days": days}, audit.Actor("admin@acme.test"))
        s.commit()


def _pruned_by_the_server(factory: sessionmaker[Session]) -> list[str]:
    with factory() as s:
        query = select(AuditEvent.actor).where(AuditEvent.action == "retention.pruned")
        return list(s.scalars(query))


def test_a_prune_is_due_when_it_never_ran_or_ran_a_period_ago() -> None:
    assert is_due(None, T0, DAY)
    assert not is_due(T0, T0 + DAY - timedelta(seconds=1), DAY)
    assert is_due(T0, T0 + DAY, DAY)


def test_the_server_prunes_a_workspace_once_a_period(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    two_cases: tuple[int, int],  # noqa: F811
) -> None:
    old, open_ = two_cases
    _keep_closed_cases(session_factory, workspace.id, 30)
    reports = prune_due(session_factory, LATER, DAY)
    assert reports[workspace.id].closed_cases == 1
    with session_factory() as s:
        assert s.get(Conversation, old) is None and s.get(Conversation, open_) is not None
    assert prune_due(session_factory, LATER + timedelta(hours=23), DAY) == {}  # not due yet
    assert list(prune_due(session_factory, LATER + DAY, DAY)) == [workspace.id]
    assert _pruned_by_the_server(session_factory) == ["system"]  # only the prune that removed


def test_a_workspace_without_a_policy_is_left_alone(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    two_cases: tuple[int, int],  # noqa: F811
) -> None:
    assert prune_due(session_factory, LATER, DAY) == {}
    with session_factory() as s:
        assert len(s.scalars(select(Conversation)).all()) == 2


def test_the_schedule_runs_in_the_background_until_stopped(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    two_cases: tuple[int, int],  # noqa: F811
) -> None:
    old, _open = two_cases
    _keep_closed_cases(session_factory, workspace.id, 30)
    schedule = RetentionSchedule(
        session_factory, check_every=timedelta(seconds=0.05), clock=lambda: LATER
    )
    stop = schedule.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with session_factory() as s:
                if s.get(Conversation, old) is None:
                    break
            time.sleep(0.05)
    finally:
        stop()
    with session_factory() as s:
        assert s.get(Conversation, old) is None
    assert _pruned_by_the_server(session_factory) == ["system"]
