"""Service levels in real time: warnings, breaches, supervisor notes, taking work back."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.clock import FrozenClock, utcnow
from socialdesk.core.db import unit_of_work
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task
from socialdesk.priority import service as priority
from socialdesk.routing.engine import RoutingEngine
from socialdesk.routing.models import RoutingNotification
from tests.routing.factories import T0, agent, assignee, task


def timed_task(factory: sessionmaker[Session], ws: int, **fields: Any) -> int:
    """A task whose 30-minute clock started at T0 (as the scoring hook leaves it)."""
    return task(
        factory,
        ws,
        minutes_waiting=0,
        sla_started_at=T0,
        sla_target_seconds=1800.0,
        sla_next_check_at=T0 + timedelta(minutes=15),
        **fields,
    )


def notes(factory: sessionmaker[Session]) -> list[tuple[int, str]]:
    with factory() as s:
        rows = s.scalars(select(RoutingNotification).order_by(RoutingNotification.id)).all()
        return [(n.task_id, n.kind) for n in rows]


def test_warnings_then_a_breach_tell_the_supervisor_and_keep_the_value_order(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    clock = FrozenClock(T0)
    engine = RoutingEngine(session_factory, clock=clock)
    t = timed_task(session_factory, workspace.id, priority=10.0)
    assert engine.check_sla(workspace.id).changed == []
    clock.advance(timedelta(minutes=16))
    assert engine.check_sla(workspace.id).warnings == 1
    clock.advance(timedelta(minutes=9))  # 25 min: the 80% warning
    assert engine.check_sla(workspace.id).warnings == 1
    assert engine.check_sla(workspace.id).warnings == 0  # each warning once
    clock.advance(timedelta(minutes=5))
    outcome = engine.check_sla(workspace.id)
    assert outcome.breaches == 1 and outcome.taken_back == 0
    with session_factory() as s:
        row = s.get(Task, t)
        assert row is not None
        assert (row.sla_state, row.breach_count, row.breached_at) == ("breached", 1, clock())
        # No boost by default: the ordering rule handles lateness (a constant added to every
        # breached item would lift them all above fresh valuable ones alike).
        assert row.priority == 10.0
        assert row.sla_next_check_at is None
    assert notes(session_factory) == [
        (t, "sla_warning"),
        (t, "sla_warning"),
        (t, "sla_breach"),
    ]


def test_on_breach_an_unanswered_item_is_taken_back_and_handed_to_another_agent(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    slow = agent(session_factory, workspace.id, "Slow", capacity={"x": 1})
    with unit_of_work(session_factory) as s:
        priority.update_policies(s, workspace.id, sla={"reassign_on_breach": True})
    clock = FrozenClock(T0)
    engine = RoutingEngine(session_factory, clock=clock)
    t = timed_task(session_factory, workspace.id)
    engine.on_tasks(workspace.id, [t])
    assert assignee(session_factory, t) == slow
    other = agent(session_factory, workspace.id, "Other", capacity={"x": 1})
    engine.on_agents(workspace.id, [other])
    clock.advance(timedelta(minutes=31))
    outcome = engine.check_sla(workspace.id)
    assert outcome.taken_back == 1
    assert assignee(session_factory, t) == other  # not straight back to the slow agent
    assert notes(session_factory)[-2:] == [(t, "sla_breach"), (t, "reassigned")]


def test_without_reassignment_the_holder_keeps_the_breached_item(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    holder = agent(session_factory, workspace.id, "Holder")
    clock = FrozenClock(T0)
    engine = RoutingEngine(session_factory, clock=clock)
    t = timed_task(session_factory, workspace.id)
    engine.on_tasks(workspace.id, [t])
    clock.advance(timedelta(hours=1))
    assert engine.check_sla(workspace.id).taken_back == 0
    assert assignee(session_factory, t) == holder


def test_the_timer_thread_notices_a_breach_within_a_second(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    now = utcnow()
    t = task(
        session_factory,
        workspace.id,
        now=now,
        minutes_waiting=0,
        sla_started_at=now,
        sla_target_seconds=1.0,
        sla_next_check_at=now + timedelta(seconds=0.5),
    )
    engine = RoutingEngine(session_factory, tick_seconds=0.2)
    engine.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (t, "sla_breach") not in notes(session_factory):
            time.sleep(0.1)
    finally:
        engine.stop()
    breach = [n for n in notes(session_factory) if n == (t, "sla_breach")]
    assert breach
    with session_factory() as s:
        breached_at = s.scalar(select(Task.breached_at).where(Task.id == t))
    assert breached_at is not None
    assert breached_at - now < timedelta(seconds=3)


def test_waiting_on_the_customer_stops_the_clock_and_moves_the_due_time(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    clock = FrozenClock(T0)
    engine = RoutingEngine(session_factory, clock=clock)
    t = timed_task(session_factory, workspace.id, due_at=T0 + timedelta(minutes=30))
    clock.advance(timedelta(minutes=10))
    with unit_of_work(session_factory) as s:
        priority.pause_sla(s, workspace.id, t, clock())
    clock.advance(timedelta(hours=2))  # long past the original due time
    assert engine.check_sla(workspace.id).breaches == 0
    with unit_of_work(session_factory) as s:
        priority.resume_sla(s, workspace.id, t, clock())
    with session_factory() as s:
        row = s.get(Task, t)
        assert row is not None
        assert row.due_at == T0 + timedelta(hours=2, minutes=30)
        assert row.sla_paused_seconds == 7200.0
    clock.advance(timedelta(minutes=6))  # 16 of 30 minutes used: the first warning
    assert engine.check_sla(workspace.id).warnings == 1
    clock.advance(timedelta(minutes=15))
    assert engine.check_sla(workspace.id).breaches == 1


def test_an_answered_item_raises_no_warning_and_leaves_the_timer_list(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    from tests.routing.factories import finish

    clock = FrozenClock(T0)
    engine = RoutingEngine(session_factory, clock=clock)
    t = timed_task(session_factory, workspace.id)
    finish(session_factory, t)
    clock.advance(timedelta(hours=1))
    outcome = engine.check_sla(workspace.id)
    assert (outcome.warnings, outcome.breaches) == (0, 0)
    assert notes(session_factory) == []
    with session_factory() as s:
        assert s.scalar(select(Task.sla_next_check_at).where(Task.id == t)) is None
