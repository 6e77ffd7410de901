"""The watch on live traffic: a burst raises its alerts once and opens one incident; a viral
complaint raises an alert and goes up the list."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.events import InboundEvent
from socialdesk.core.clock import FrozenClock
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.listening.detection import DetectorConfig
from socialdesk.listening.models import Alert, Incident, IncidentMessage
from socialdesk.listening.monitor import MonitorConfig
from socialdesk.listening.watch import TrafficWatch
from tests.listening.conftest import NOW, listening_pipeline, post

QUICK = MonitorConfig(
    step=timedelta(minutes=1), volume=DetectorConfig(warmup=timedelta(minutes=10))
)


def watch_at(
    factory: sessionmaker[Session], clock: FrozenClock, alerted: list[int]
) -> TrafficWatch:
    return TrafficWatch(factory, clock=clock, config=QUICK, on_alert=alerted.append)


def test_a_burst_raises_its_alerts_once_and_opens_one_incident(
    pipeline: Pipeline, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    clock = FrozenClock(NOW)
    alerted: list[int] = []
    watch = watch_at(session_factory, clock, alerted)
    # A quiet quarter of an hour: one ordinary question every few minutes.
    for minute in range(15):
        if minute % 5 == 0:
            pipeline.ingest(
                workspace.id,
                [
                    post(
                        100 + minute,
                        "what are your opening hours?",
                        base=clock() + timedelta(minutes=30),
                    )
                ],
            )
        assert watch.tick() == []
        clock.advance(timedelta(minutes=1))
    burst = [
        post(
            i,
            f"no signal anywhere, network down again #AcmeDown ({i})",
            base=clock() + timedelta(minutes=30),
        )
        for i in range(15)
    ]
    pipeline.ingest(workspace.id, burst)
    clock.advance(timedelta(minutes=1))
    raised = watch.tick()
    assert raised and alerted == [workspace.id]
    clock.advance(timedelta(minutes=1))
    assert watch.tick() == []  # the same episode never alerts twice
    with session_factory() as s:
        alerts = s.scalars(select(Alert)).all()
        series = {a.series for a in alerts}
        assert "hashtag:#acmedown" in series
        assert {a.kind for a in alerts} <= {"spike", "negative"}
        incident = s.scalars(select(Incident)).one()
        linked = {a.series for a in alerts if a.incident_id == incident.id}
        assert "hashtag:#acmedown" in linked
        assert "#acmedown" in incident.criteria["hashtags"]
        members = s.scalars(select(IncidentMessage)).all()
        assert len(members) == 15
    # Later messages of the burst join the open incident by themselves.
    pipeline.ingest(
        workspace.id,
        [post(40, "still down?! #acmedown", base=clock() + timedelta(minutes=30))],
    )
    clock.advance(timedelta(minutes=1))
    watch.tick()
    with session_factory() as s:
        assert len(s.scalars(select(IncidentMessage)).all()) == 16


def test_a_viral_complaint_raises_an_alert_and_its_task_goes_up(
    pipeline: Pipeline, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    clock = FrozenClock(NOW)
    watch = watch_at(session_factory, clock, [])
    watch.tick()
    pipeline.ingest(
        workspace.id,
        [
            post(
                1,
                "Terrible service, my internet has been down for two days and nobody helps",
                followers=250_000,
                base=clock() + timedelta(minutes=30),
            ),
            post(
                2,
                "Terrible service, my internet has been down for two days and nobody helps",
                followers=50,
                author="small",
                base=clock() + timedelta(minutes=30),
            ),
        ],
    )
    with session_factory() as s:
        before = {t.id: t.value_score for t in s.scalars(select(Task))}
    clock.advance(timedelta(seconds=30))
    watch.tick()
    with session_factory() as s:
        alert = s.scalars(select(Alert)).one()
        assert alert.kind == "viral" and "250,000 followers" in alert.title
        assert "Terrible" not in alert.title and "user1" not in alert.title
        assert alert.detail["reason"].startswith("reach")
        boosted = {t.id: t.value_score for t in s.scalars(select(Task))}
        raised = [t for t in boosted if boosted[t] > before[t]]
        assert len(raised) == 1
        task = s.get(Task, raised[0])
        assert task is not None and task.value_breakdown["viral"] > 0
        incident = s.scalars(select(Incident)).one()
        assert alert.incident_id == incident.id


def test_a_burst_right_after_a_start_in_mid_step_is_caught(
    pipeline: Pipeline, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    """The watch starts half-way through a step: the steps after its warm-up are armed,
    including the very first one (a new hashtag there gets the prior of a new series)."""
    clock = FrozenClock(NOW + timedelta(seconds=30))
    alerted: list[int] = []
    watch = watch_at(session_factory, clock, alerted)
    assert watch.tick() == []
    burst = [
        post(i, f"no signal, network down #AcmeDown ({i})", base=clock() + timedelta(minutes=30))
        for i in range(12)
    ]
    pipeline.ingest(workspace.id, burst)
    clock.advance(timedelta(minutes=1))
    assert watch.tick()
    with session_factory() as s:
        assert "hashtag:#acmedown" in {a.series for a in s.scalars(select(Alert))}
    assert alerted == [workspace.id]


def test_a_restart_during_a_burst_raises_its_alert_from_the_replay(
    pipeline: Pipeline, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    """On start the watch replays an hour of stored traffic into an hour of steps: a burst
    that began minutes before a restart raises its alert on the first round, and the usual
    traffic before and after it raises none."""
    clock = FrozenClock(NOW)

    def usual(n: int, at: datetime) -> InboundEvent:
        return post(n, "what are your opening hours?", base=at + timedelta(minutes=30))

    # Two people a minute over the past hour, and a burst five minutes ago.
    history = [usual(m * 2 + k, NOW - timedelta(minutes=60 - m)) for m in range(60) for k in (0, 1)]
    burst = [
        post(
            500 + i,
            f"no signal, network down #AcmeDown ({i})",
            base=NOW - timedelta(minutes=5) + timedelta(minutes=30),
        )
        for i in range(15)
    ]
    pipeline.ingest(workspace.id, history + burst)
    alerted: list[int] = []
    watch = TrafficWatch(
        session_factory,
        clock=clock,
        config=QUICK,
        history=timedelta(hours=1),
        on_alert=alerted.append,
    )
    assert watch.tick()
    with session_factory() as s:
        alerts = s.scalars(select(Alert)).all()
    assert "hashtag:#acmedown" in {a.series for a in alerts}
    assert {a.window_start for a in alerts} == {NOW - timedelta(minutes=5)}
    n = 1000
    for _ in range(15):
        clock.advance(timedelta(minutes=1))
        pipeline.ingest(workspace.id, [usual(n, clock()), usual(n + 1, clock())])
        n += 2
        assert watch.tick() == []


def test_a_message_committed_after_a_later_one_is_still_heard(
    pg_factory: sessionmaker[Session], pg_workspace: int
) -> None:
    """On PostgreSQL an id is handed out at insert: a slow transaction can commit a message
    after a quicker one committed a higher id, and the watch must still count it."""
    pipeline = listening_pipeline(pg_factory)
    clock = FrozenClock(NOW + timedelta(seconds=5))
    watch = watch_at(pg_factory, clock, [])
    assert watch.tick() == []

    def burst(numbers: range) -> list[InboundEvent]:
        text = "no signal, network down #AcmeDown"
        return [post(i, f"{text} ({i})", base=clock() + timedelta(minutes=30)) for i in numbers]

    with pg_factory() as slow:
        stored = pipeline.accept_in(
            slow, pg_workspace, burst(range(8)), "test", processed_in_same_transaction=True
        ).stored
        pipeline.process_in(slow, pg_workspace, stored, mark_processed=False)
        slow.flush()  # eight lower ids, not committed yet
        pipeline.ingest(pg_workspace, burst(range(8, 15)))  # seven higher ids, committed
        clock.advance(timedelta(seconds=10))
        watch.tick()
        slow.commit()
    clock.advance(timedelta(minutes=1))
    assert watch.tick()
    with pg_factory() as s:
        alert = s.scalars(select(Alert).where(Alert.series == "hashtag:#acmedown")).one()
    assert alert.observed == 15
