"""The demo's simulated team: it works its lists through the console's services, and the demo
reaches a steady state with a healthy service level (the demo's clock run fast)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.analytics.service import build_dashboard
from socialdesk.config import Settings
from socialdesk.core.clock import FrozenClock
from socialdesk.core.db import unit_of_work
from socialdesk.core.work import Task, TaskStatus
from socialdesk.demo import LiveTraffic, prepare_demo
from socialdesk.demo_team import DemoTeam, team_for_rate, team_members, teammates
from socialdesk.ingest.wiring import build_pipeline
from socialdesk.people.models import User
from socialdesk.routing.engine import RoutingEngine
from socialdesk.routing.service import set_presence

RATE = 1.0  # the demo's default: messages a minute, daily average


def care_counts(session_factory: sessionmaker[Session], workspace_id: int) -> tuple[int, int]:
    """(unassigned, active) care items."""
    with session_factory() as s:
        active = (
            Task.workspace_id == workspace_id,
            Task.queue == "care",
            Task.status.in_(TaskStatus.ACTIVE),
        )
        unassigned = s.scalar(
            select(func.count()).select_from(Task).where(*active, Task.assignee_id.is_(None))
        )
        total = s.scalar(select(func.count()).select_from(Task).where(*active))
    return int(unassigned or 0), int(total or 0)


def test_the_demo_holds_its_service_level_with_its_team_at_work(
    session_factory: sessionmaker[Session],
) -> None:
    # A weekday late morning, when the daily pattern is busy; the clock runs in 15-second
    # steps, each step what the demo's threads do in that time: traffic arrives, routing's
    # timer runs, the colleagues work.
    start = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    clock = FrozenClock(start)
    settings = Settings(default_workspace="demo")
    pipeline = build_pipeline(settings, session_factory, clock=clock)
    engine = RoutingEngine(session_factory, clock=clock)
    pipeline.hooks.after_commit.append(engine.after_commit)
    care = team_for_rate(RATE)
    workspace_id = prepare_demo(
        settings,
        session_factory,
        pipeline,
        backlog_hours=2,
        rate_per_minute=RATE,
        seed=7,
        now=start,
        team=care,
    )
    with session_factory() as s:
        members = team_members(s, workspace_id)
    assert len(members) == care + 2  # and one each in marketing and sales
    team = DemoTeam(
        session_factory,
        workspace_id,
        members,
        clock=clock,
        seed=7,
        on_freed=lambda ids: engine.on_agents(workspace_id, ids),
    )
    traffic = LiveTraffic(pipeline, workspace_id, rate_per_minute=RATE, seed=7, clock=clock)
    engine.tick()
    unassigned_at_start, active_at_start = care_counts(session_factory, workspace_id)
    samples = []
    with session_factory() as s:
        ava = s.scalars(select(User.id).where(User.email == "ava@demo.socialdesk.example")).one()
    for step in range(1, 30 * 4 + 1):
        clock.advance(timedelta(seconds=15))
        if step == 20 * 4:  # a person signs in as Ava and sets herself online
            with unit_of_work(session_factory) as s:
                set_presence(s, workspace_id, ava, "online", clock())
            engine.on_agents(workspace_id, [ava])
        traffic.pump()
        engine.tick()
        team.step()
        if step % 20 == 0:
            samples.append(care_counts(session_factory, workspace_id))
    with session_factory() as s:
        board = build_dashboard(s, workspace_id, clock=clock)
        answered_after_start = s.scalar(
            select(func.count())
            .select_from(Task)
            .where(Task.workspace_id == workspace_id, Task.first_response_at >= start)
        )
    (x,) = [level for level in board.sla_by_channel if level.group == "x"]
    assert traffic.delivered > 20  # about a message a minute for 30 minutes
    assert answered_after_start and answered_after_start > 20
    assert team.done.get("answer", 0) + team.done.get("answer_resolve", 0) > 20
    assert x.attainment is not None and x.attainment >= 0.9
    # Work reaches the person alongside the team (and none of it is the team's to answer).
    with session_factory() as s:
        hers = s.scalars(select(Task).where(Task.assignee_id == ava)).all()
    assert hers and all(t.first_response_at is None for t in hers)
    unassigned, active = samples[-1]
    assert unassigned <= unassigned_at_start
    assert active <= max(active_at_start, 2 * care)


def test_simulated_colleagues_are_seeded_once_online_and_people_who_sign_in_start_away(
    session_factory: sessionmaker[Session],
) -> None:
    settings = Settings(default_workspace="demo")
    pipeline = build_pipeline(settings, session_factory)
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    ws = prepare_demo(
        settings,
        session_factory,
        pipeline,
        backlog_hours=0,
        rate_per_minute=1,
        seed=1,
        now=now,
        team=4,
    )
    prepare_demo(
        settings,
        session_factory,
        pipeline,
        backlog_hours=0,
        rate_per_minute=1,
        seed=1,
        now=now,
        team=3,
    )
    with session_factory() as s:
        users = {u.email: u for u in s.scalars(select(User))}
        on_duty = team_members(s, ws)
    mates = teammates(4)
    assert all(m.email in users for m in mates)
    assert len(on_duty) == 3 + 2  # the fourth care colleague went off duty
    assert users["ava@demo.socialdesk.example"].presence == "away"
    assert team_for_rate(1.0) < team_for_rate(10.0)
