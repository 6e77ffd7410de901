"""Fixtures of the channel tests: our webhook endpoints in a web app, fake platforms."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.registry import default_connectors
from socialdesk.channels.sender import OutboxSender
from socialdesk.config import Settings
from socialdesk.core.clock import FrozenClock
from socialdesk.ingest.wiring import build_pipeline
from socialdesk.web.app import create_app
from tests.channels.fake_x import FakeX
from tests.channels.helpers import SECRET, T0


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def app(engine: Engine, session_factory: sessionmaker[Session], clock: FrozenClock) -> FastAPI:
    settings = Settings(secret_key=SECRET)
    app = create_app(settings, engine=engine, migrate=False)
    app.state.session_factory = session_factory
    app.state.pipeline = build_pipeline(settings, session_factory, clock=clock)
    app.state.process_webhooks_inline = True
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def sender(session_factory: sessionmaker[Session], clock: FrozenClock) -> OutboxSender:
    return OutboxSender(session_factory, default_connectors(), secret_key=SECRET, clock=clock)


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    with FakeX().serve() as server:
        yield server  # type: ignore[misc]
