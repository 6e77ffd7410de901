"""Routing events cross processes: work a worker opens, or an agent another process frees,
reaches every routing engine at once, without waiting for any timer."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.bus import ROUTING_STREAM, RedisStreamsBus
from socialdesk.core.clock import utcnow
from socialdesk.core.models import Workspace
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.routing.engine import RoutingEngine
from socialdesk.routing.events import RoutingAnnouncer
from socialdesk.routing.service import set_presence
from tests.ingest.factories import event
from tests.routing.factories import agent, assignee, task

HOUR = 3600.0


@pytest.fixture
def bus(redis_url: str) -> Iterator[RedisStreamsBus]:
    bus = RedisStreamsBus(redis_url, prefix=f"t{uuid.uuid4().hex[:8]}:")
    yield bus
    bus.client.delete(bus.key(ROUTING_STREAM))
    bus.close()


@pytest.fixture
def engine_elsewhere(
    session_factory: sessionmaker[Session], bus: RedisStreamsBus
) -> Iterator[Callable[[], RoutingEngine]]:
    """Starts the routing engine of a web process, whose timer would wait an hour."""
    engine = RoutingEngine(session_factory, tick_seconds=HOUR, bus=bus)

    def start() -> RoutingEngine:
        engine.start()
        assert engine.listening.wait(10)
        return engine

    yield start
    engine.stop()


def eventually(check: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_a_task_a_worker_opens_is_assigned_by_another_process_at_once(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    bus: RedisStreamsBus,
    engine_elsewhere: Callable[[], RoutingEngine],
) -> None:
    a = agent(session_factory, workspace.id, "A")
    engine_elsewhere()
    worker_pipeline = Pipeline(session_factory)
    worker_pipeline.hooks.after_commit.append(RoutingAnnouncer(bus).tasks_changed)
    _, processed = worker_pipeline.ingest(workspace.id, [event("1", "u1", text="help")])
    [opened] = processed.tasks_changed
    assert eventually(lambda: assignee(session_factory, opened) == a)


def test_an_agent_coming_online_elsewhere_gets_waiting_work_at_once(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    bus: RedisStreamsBus,
    engine_elsewhere: Callable[[], RoutingEngine],
) -> None:
    a = agent(session_factory, workspace.id, "A", presence="offline")
    waiting = task(session_factory, workspace.id)
    engine_elsewhere().on_tasks(workspace.id, [waiting])  # seen, but nobody is free
    assert assignee(session_factory, waiting) is None
    with session_factory() as s:  # the presence route of another web process
        set_presence(s, workspace.id, a, "online", utcnow())
        s.commit()
    RoutingAnnouncer(bus).announce(workspace.id, agents=[a])  # what its engine announces
    assert eventually(lambda: assignee(session_factory, waiting) == a)


def test_an_engine_serving_some_workspaces_leaves_the_others_alone(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    """An engine given its workspaces (the pipeline benchmark's, or one shard of many
    tenants) neither times nor hears the others' work; an engine for all assigns it."""
    with session_factory() as s:
        other = Workspace(slug="other", name="Other")
        s.add(other)
        s.commit()
        other_id = other.id
    mine_agent = agent(session_factory, workspace.id, "A")
    their_agent = agent(session_factory, other_id, "B")
    mine = task(session_factory, workspace.id, now=utcnow())
    theirs = task(session_factory, other_id, now=utcnow())
    engine = RoutingEngine(session_factory, workspaces=[workspace.id])
    engine.tick()
    engine.handle_event({"origin": "elsewhere", "workspace_id": other_id, "tasks": [theirs]})
    assert assignee(session_factory, mine) == mine_agent
    assert assignee(session_factory, theirs) is None
    RoutingEngine(session_factory).tick()
    assert assignee(session_factory, theirs) == their_agent
