"""Scale mode's live updates: a change in one web process (or a worker) reaches browsers
attached to another web process at once, through Redis pub/sub.

Two app instances share one PostgreSQL and one Redis. The listening instance compares the
database fingerprint only once a minute here, so the one way its stream can learn of a change
within seconds is the notice from the other process.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.config import Settings
from socialdesk.core.db import make_session_factory
from socialdesk.core.live_channel import LIVE_CHANNEL, LiveChannel
from socialdesk.core.models import Workspace
from socialdesk.ingest.wiring import build_pipeline
from socialdesk.web.app import create_app
from socialdesk.web.live import LiveHub, stream
from tests.ingest.factories import event
from tests.web.conftest import START, add_user, sign_in
from tests.web.factories import make_case

LONG_POLL = 60.0  # seconds between the listening process's own fingerprint queries
STREAM = 3.0  # seconds each event stream stays open


class Deployment:
    """Two web processes in scale mode on shared PostgreSQL and Redis."""

    def __init__(self, engine: Engine, redis_url: str, tmp: Path) -> None:
        self.factory = make_session_factory(engine)
        with self.factory() as s:
            ws = Workspace(slug="acme", name="Acme")
            s.add(ws)
            s.commit()
            self.workspace = ws
        self.channel = f"socialdesk-test-{uuid.uuid4().hex}:live"  # this test's alone
        self.redis_url = redis_url
        settings = Settings(
            mode="scale",
            redis_url=redis_url,
            database_url=engine.url.render_as_string(hide_password=False),
            default_workspace="acme",
            data_dir=tmp,
        )
        self.apps: list[FastAPI] = []
        for _ in range(2):
            app = create_app(settings, engine=engine, migrate=False)
            assert app.state.live_hub.channel.channel == LIVE_CHANNEL  # wired by the factory
            app.state.live_hub.stop()
            app.state.live_hub.connect(LiveChannel(redis_url, channel=self.channel))
            app.state.live_hub.start()
            self.apps.append(app)
        self.apps[1].state.live_hub.poll_seconds = LONG_POLL
        for app in self.apps:
            assert app.state.live_hub.channel.listening.wait(10)
        self.clients = [TestClient(app, base_url="https://testserver") for app in self.apps]

    def close(self) -> None:
        for client in self.clients:
            client.close()
        for app in self.apps:
            app.state.live_hub.stop()
            app.state.dispatcher.bus.close()


@pytest.fixture
def deployment(pg_engine: Engine, redis_url: str, tmp_path: Path) -> Iterator[Deployment]:
    both = Deployment(pg_engine, redis_url, tmp_path)
    yield both
    both.close()


def listen_while(client: TestClient, change: Callable[[], None]) -> tuple[str, float]:
    """The body of an event stream of ``STREAM`` seconds, and when ``change`` ran in it."""
    ran_at: list[float] = []

    def later() -> None:
        time.sleep(0.8)  # the stream has said hello by now
        ran_at.append(time.monotonic())
        change()

    thread = threading.Thread(target=later)
    opened = time.monotonic()
    thread.start()
    try:
        body = str(client.get(f"/console/events?max_seconds={STREAM}").text)
    finally:
        thread.join()
    return body, ran_at[0] - opened


def test_a_console_change_in_one_web_process_reaches_a_browser_of_another(
    deployment: Deployment,
) -> None:
    factory: sessionmaker[Session] = deployment.factory
    add_user(factory, deployment.workspace, "ana@acme.test", "agent", "Ana Agent")
    add_user(factory, deployment.workspace, "bo@acme.test", "agent", "Bo Agent")
    with factory() as s:
        conv, _, _ = make_case(s, deployment.workspace.id, text="router dead", at=START)
        s.commit()
    first, second = deployment.clients
    token = sign_in(first, "ana@acme.test")
    sign_in(second, "bo@acme.test")

    # Control: a row written behind both processes' backs makes no notice, and the second
    # process does not look at the database again within the stream's seconds.
    def silent_write() -> None:
        with factory() as s:
            make_case(s, deployment.workspace.id, text="another one", at=START)
            s.commit()

    body, _ = listen_while(second, silent_write)
    assert "event: hello" in body and "event: changed" not in body

    def note_in_first_process() -> None:
        response = first.post(
            f"/console/c/{conv.id}/note",
            data={"csrf_token": token, "text": "called the customer"},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text

    body, _ = listen_while(second, note_in_first_process)
    assert "event: changed" in body


def test_messages_a_worker_processes_reach_a_browser_at_once(deployment: Deployment) -> None:
    factory = deployment.factory
    add_user(factory, deployment.workspace, "bo@acme.test", "agent", "Bo Agent")
    sign_in(deployment.clients[1], "bo@acme.test")
    # What `socialdesk worker` wires: its pipeline publishes after each commit.
    pipeline = build_pipeline(Settings(), factory)
    worker_channel = LiveChannel(deployment.redis_url, channel=deployment.channel)
    pipeline.hooks.after_commit.append(worker_channel.after_commit_hook)
    ws = deployment.workspace.id

    def worker_processes() -> None:
        accepted = pipeline.accept(ws, [event("live-1", "dana", text="my bill is wrong")])
        assert pipeline.process_pending(ws, accepted.accepted).processed == 1

    try:
        body, _ = listen_while(deployment.clients[1], worker_processes)
    finally:
        worker_channel.stop()
    assert "event: changed" in body


class OpenRequest:
    async def is_disconnected(self) -> bool:
        return False


def test_a_stream_wakes_at_once_and_merges_a_burst() -> None:
    """The stream waits on the hub rather than sleeping a poll interval: a change heard a
    moment after the stream opened is announced long before the next fingerprint query, and
    a burst of fifty changes makes one or two refreshes, not fifty."""
    hub = LiveHub(poll_seconds=LONG_POLL)

    async def watch() -> tuple[float, list[str]]:
        frames = stream(OpenRequest(), hub, 7, lambda: "same", max_seconds=STREAM)  # type: ignore[arg-type]
        assert (await anext(frames)).startswith("retry")
        assert "hello" in await anext(frames)
        loop = asyncio.get_running_loop()
        started = loop.time()

        def burst() -> None:
            for _ in range(50):
                hub.changed_elsewhere(7)

        loop.call_later(0.2, lambda: threading.Thread(target=burst).start())
        first = await anext(frames)
        waited = loop.time() - started
        return waited, [first] + [frame async for frame in frames]

    waited, frames = asyncio.run(watch())
    assert frames[0].startswith("event: changed")
    assert waited < 2.0  # not the minute-long poll
    assert 1 <= sum(f.startswith("event: changed") for f in frames) <= 2
