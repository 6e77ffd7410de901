"""Dashboard metrics and charts, as pure functions and over a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from socialdesk.analytics import charts, metrics
from socialdesk.analytics.service import build_dashboard
from socialdesk.core.clock import FrozenClock
from socialdesk.core.models import Workspace
from socialdesk.core.work import TaskStatus
from socialdesk.people.models import User
from tests.web.factories import make_case

NOW = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)


def test_hourly_volume_counts_per_channel_in_the_last_day_only() -> None:
    rows = [
        ("x", NOW - timedelta(minutes=10), 3),
        ("x", NOW - timedelta(hours=2, minutes=5), 2),
        ("email", NOW - timedelta(minutes=20), 1),
        ("x", NOW - timedelta(hours=30), 99),  # older than the window
    ]
    volume = metrics.hourly_volume(rows, now=NOW)
    assert len(volume.hours) == 24 and volume.hours[-1] == datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert volume.counts["x"][-1] == 3 and volume.counts["x"][-3] == 2
    assert volume.counts["email"][-1] == 1
    assert volume.total == 6


def test_service_levels_add_up_their_groups() -> None:
    levels = metrics.merge_levels([("x", 3, 2, 3, 1), ("email", 1, 0, 0, 0), ("x", 1, 1, 1, 1)])
    assert [(lv.group, lv.total, lv.responded, lv.decided, lv.within) for lv in levels] == [
        ("email", 1, 0, 0, 0),
        ("x", 4, 3, 4, 2),
    ]
    email, x = levels
    assert x.response_rate == 0.75 and x.attainment == 0.5
    assert email.attainment is None  # nothing decided yet: neither success nor failure


def test_the_database_decides_which_tasks_count_toward_attainment(
    session: Session, workspace: Workspace
) -> None:
    """Answered in time, answered late, past due unanswered, and still inside its window."""
    cases = [
        (timedelta(minutes=40), timedelta(minutes=20)),  # answered after 20 of 30 min: within
        (timedelta(minutes=40), timedelta(minutes=35)),  # answered after 35: late
        (timedelta(minutes=40), None),  # due 10 min ago, unanswered: a failure
        (timedelta(minutes=5), None),  # due in 25 min: not decided yet
    ]
    for age, answered_after in cases:
        _, task, _ = make_case(session, workspace.id, text="t", at=NOW - age)
        if answered_after is not None:
            task.first_response_at = NOW - age + answered_after
    session.flush()
    board = build_dashboard(session, workspace.id, clock=FrozenClock(NOW))
    (x,) = board.sla_by_channel
    assert (x.total, x.responded, x.decided, x.within) == (4, 2, 3, 1)


def test_first_response_histogram_and_median() -> None:
    hist = metrics.first_response_histogram([1, 4, 20, 90, 2000])
    assert hist.labels[0] == "<5m" and hist.labels[-1] == "24h+"
    assert hist.counts == (2, 0, 1, 0, 1, 0, 0, 0, 1)
    assert hist.median_minutes == 20
    assert metrics.first_response_histogram([]).median_minutes is None


def test_queue_wait_is_measured_from_the_oldest_item() -> None:
    care = metrics.queue_state("care", 2, 1, NOW - timedelta(minutes=50), now=NOW)
    assert (care.depth, care.unassigned, care.oldest_wait_seconds) == (2, 1, 3000)
    assert metrics.queue_state("sales", 0, 0, None, now=NOW).oldest_wait_seconds == 0


def test_charts_escape_their_labels() -> None:
    svg = charts.hbars(["<script>x</script>"], [3], title='a "title" <b>')
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.startswith("<svg") and "&#34;title&#34;" in svg
    stacked = charts.stacked_bars(["09", "10"], {"x": [1, 2], "email": [0, 4]}, title="volume")
    assert stacked.count("<rect") >= 3
    assert "<polyline" in charts.line(["a", "b"], [-0.5, 0.4], title="mood")


def test_the_dashboard_reflects_the_database(session: Session, workspace: Workspace) -> None:
    clock = FrozenClock(NOW)
    agent = User(workspace_id=workspace.id, email="a@acme.test", name="Ana", role="agent")
    session.add(agent)
    session.flush()
    _, answered, _ = make_case(session, workspace.id, text="a", at=NOW - timedelta(hours=1))
    answered.first_response_at = NOW - timedelta(minutes=50)
    answered.status = TaskStatus.DONE
    answered.updated_at = NOW - timedelta(minutes=50)
    make_case(
        session,
        workspace.id,
        text="b",
        at=NOW - timedelta(minutes=20),
        channel="email",
        assignee_id=agent.id,
    )
    session.flush()
    board = build_dashboard(session, workspace.id, clock=clock)
    assert board.open_total == 1 and board.oldest_wait_seconds == 1200
    assert board.volume.total == 2
    assert {s.group: s.responded for s in board.sla_by_channel} == {"email": 0, "x": 1}
    assert board.first_response.counts[1] == 1  # ten minutes: the 5-15 min bucket
    assert board.resolved_24h == 1
    assert [(a.name, a.load) for a in board.agents] == [("Ana", 1)]


def test_a_reopened_task_gives_no_negative_first_response(
    session: Session, workspace: Workspace
) -> None:
    """Answered an hour ago, then the customer wrote again 10 minutes ago: the task waits
    from the new message and its first answer is the old one."""
    _, task, _ = make_case(session, workspace.id, text="again", at=NOW - timedelta(minutes=10))
    task.first_response_at = NOW - timedelta(hours=1)
    task.reopen_count = 1
    _, answered, _ = make_case(session, workspace.id, text="a", at=NOW - timedelta(minutes=30))
    answered.first_response_at = NOW - timedelta(minutes=20)
    session.flush()
    # The customer wrote again 45 minutes ago and still waits, past the 30-minute target.
    _, late, _ = make_case(session, workspace.id, text="still", at=NOW - timedelta(minutes=45))
    late.first_response_at = NOW - timedelta(hours=2)
    late.reopen_count = 1
    session.flush()
    board = build_dashboard(session, workspace.id, clock=FrozenClock(NOW))
    assert sum(board.first_response.counts) == 1
    assert board.first_response.median_minutes == pytest.approx(10)
    (x,) = board.sla_by_channel
    # Of three: one answered in time, one waiting inside its target, one late.
    assert (x.total, x.responded, x.decided, x.within) == (3, 1, 2, 1)
