"""The demo: a brand, its people, a backlog of work, and traffic arriving live."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.models import ChannelAccount
from socialdesk.config import Settings
from socialdesk.conversations.models import Message
from socialdesk.core.clock import FrozenClock, as_utc
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task
from socialdesk.demo import DEMO_PASSWORD, DEMO_PEOPLE, LiveTraffic, prepare_demo
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.people.models import User
from socialdesk.web.auth import password_hash_of, verify_password


def count(session_factory: sessionmaker[Session], model: type) -> int:
    with session_factory() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_the_demo_brand_has_people_who_can_sign_in_and_a_backlog_of_work(
    session_factory: sessionmaker[Session],
) -> None:
    settings = Settings(default_workspace="demo")
    pipeline = Pipeline(session_factory)
    prepare_demo(settings, session_factory, pipeline, backlog_hours=2, rate_per_minute=10, seed=3)
    prepare_demo(settings, session_factory, pipeline, backlog_hours=0, rate_per_minute=10, seed=3)
    with session_factory() as s:
        assert s.scalars(select(Workspace.slug)).all() == ["demo"]
        people = {u.email: u for u in s.scalars(select(User))}
        hashes = [password_hash_of(s, u) for u in people.values()]
    assert set(people) == {p.email for p in DEMO_PEOPLE}  # seeded once, not twice
    assert all(verify_password(h, DEMO_PASSWORD) for h in hashes)
    assert count(session_factory, Message) > 60  # about 10 a minute for two hours
    assert count(session_factory, Task) > 0
    ava = people["ava@demo.socialdesk.example"]
    # Whoever signs in sets themselves online to get work; the simulated team is on duty.
    assert ava.presence == "away" and ava.capacity["instagram"] > 0
    with session_factory() as s:
        accounts = s.scalars(select(ChannelAccount)).all()
    assert {a.channel for a in accounts} == {"x", "facebook", "instagram", "email"}
    assert all(a.settings["sandbox"] for a in accounts)


def test_live_traffic_arrives_as_time_passes_and_stops_when_asked(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    clock = FrozenClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    traffic = LiveTraffic(
        Pipeline(session_factory), workspace.id, rate_per_minute=60, seed=5, clock=clock, tick=0.01
    )
    traffic.start()
    try:
        time.sleep(0.1)
        assert count(session_factory, Message) == 0  # nothing is due yet
        clock.advance(timedelta(minutes=10))
        deadline = time.monotonic() + 20
        while traffic.delivered == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        traffic.stop()
    assert not traffic.thread.is_alive()
    assert traffic.delivered > 100  # about 60 a minute for ten minutes
    assert count(session_factory, Message) == traffic.delivered


def test_the_backlog_carries_the_teams_past_answers() -> None:
    from socialdesk.demo import past_answers
    from socialdesk.simulation.traffic import BrandProfile, generate

    brand = BrandProfile()
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    inbound = list(generate(brand, now - timedelta(hours=3), timedelta(hours=3), 300, 4))
    answers = past_answers(inbound, brand, now=now, seed=4)
    by_id = {e.external_id: e for e in inbound}
    needing = [e for e in inbound if e.extra["sim"]["needs_response"]]
    assert 0.6 * len(needing) < len(answers) <= len(needing)
    for answer in answers:
        question = by_id[answer.reply_to or ""]
        assert answer.direction == "outbound" and answer.author.is_brand
        assert question.created_at < answer.created_at < now
        assert answer.channel == question.channel and answer.visibility == question.visibility


def test_a_restart_continues_the_demos_timeline_instead_of_a_second_backlog(
    session_factory: sessionmaker[Session],
) -> None:
    settings = Settings(default_workspace="demo")
    pipeline = Pipeline(session_factory)
    first_start = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def start_demo(now: datetime) -> None:
        prepare_demo(
            settings,
            session_factory,
            pipeline,
            backlog_hours=1.0,
            rate_per_minute=2.0,
            seed=3,
            now=now,
        )

    start_demo(first_start)
    with session_factory() as s:
        first = s.scalar(select(func.count()).select_from(Message)) or 0
    restart = first_start + timedelta(minutes=20)
    start_demo(restart)
    with session_factory() as s:
        total = s.scalar(select(func.count()).select_from(Message)) or 0
        newest = s.scalar(select(func.max(Message.created_at)))
        gap_filled = s.scalar(
            select(func.count()).select_from(Message).where(Message.created_at > first_start)
        )
    added = total - first
    assert first > 50
    # Twenty minutes of traffic fill the gap: about a third of the hour-long backlog.
    assert 0 < added < first / 2
    assert gap_filled == added  # nothing was added before the first run ended
    assert newest is not None and as_utc(newest) <= restart


def test_the_demo_prints_every_sign_in_with_its_role_an_admin_among_them() -> None:
    from socialdesk.demo import ROLE_SUMMARY, banner

    text = banner("127.0.0.1", 8000, "sqlite:///demo.db", 10)
    lines = text.splitlines()
    for person in DEMO_PEOPLE:
        (line,) = [x for x in lines if person.email in x]
        assert line.split()[0] == person.role
    assert {p.role for p in DEMO_PEOPLE} == {"agent", "supervisor", "admin"}
    stripped = [x.strip() for x in lines]
    for role, summary in ROLE_SUMMARY.items():
        assert f"{role:<10} may use {summary}" in stripped
    assert DEMO_PASSWORD in text and "http://127.0.0.1:8000/docs" in text


def test_the_telecom_demo_has_telecom_topics_canned_replies_and_help_articles(
    session_factory: sessionmaker[Session],
) -> None:
    from socialdesk.demo_content import DEMO_ARTICLES, DEMO_CANNED
    from socialdesk.knowledge import repository as knowledge_repo
    from socialdesk.knowledge.service import suggestions_for
    from socialdesk.triage.service import triage_settings

    settings = Settings(default_workspace="demo")
    pipeline = Pipeline(session_factory)
    workspace_id = prepare_demo(
        settings, session_factory, pipeline, backlog_hours=0, rate_per_minute=10, seed=3
    )
    prepare_demo(settings, session_factory, pipeline, backlog_hours=0, rate_per_minute=10, seed=3)
    with session_factory() as s:
        assert triage_settings(s, workspace_id)["taxonomy"] == "telecom"
        canned = knowledge_repo.canned_replies(s, workspace_id)
        assert sorted(c.shortcut for c in canned) == sorted(c.shortcut for c in DEMO_CANNED)
        assert len(knowledge_repo.articles(s, workspace_id)) == len(DEMO_ARTICLES)
        (first, _), *_ = suggestions_for(
            s, workspace_id=workspace_id, message="my internet is down again, no signal"
        )
        assert first.title == "Check for outages in your area"


def test_the_demo_banner_counts_its_traffic_in_good_english() -> None:
    from socialdesk.demo import banner

    assert "about 1 message a minute" in banner("127.0.0.1", 8000, "sqlite:///d.db", 1)
    assert "about 2.5 messages a minute" in banner("127.0.0.1", 8000, "sqlite:///d.db", 2.5)
