"""Fixtures of the channel tests: our webhook endpoints in a web app, fake platforms."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.models import ChannelAccount
from socialdesk.channels.registry import default_connectors
from socialdesk.config import Settings
from socialdesk.conversations.outbox_sender import OutboxSender
from socialdesk.conversations.shift import complete_shifts
from socialdesk.core.clock import FrozenClock
from socialdesk.core.models import Workspace
from socialdesk.core.processing import PipelineHooks
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.web.app import create_app
from tests.channels.fake_mail import FakeImap, FakeSmtp
from tests.channels.fake_meta import FakeMeta
from tests.channels.fake_x import FakeX
from tests.channels.helpers import SECRET, T0, add_account
from tests.channels.mail_helpers import WEBHOOK_SECRET
from tests.channels.meta_helpers import meta_account


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def app(engine: Engine, session_factory: sessionmaker[Session], clock: FrozenClock) -> FastAPI:
    settings = Settings(secret_key=SECRET)
    app = create_app(settings, engine=engine, migrate=False)
    app.state.session_factory = session_factory
    # Triage has tests of its own; here every customer message is work, so that the
    # channel tests do not depend on how a classifier reads their sample texts.
    app.state.pipeline = Pipeline(
        session_factory, PipelineHooks(on_tasks_changed=[complete_shifts]), clock=clock
    )
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


@pytest.fixture
def fake_meta() -> Iterator[FakeMeta]:
    with FakeMeta().serve() as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def page(
    session_factory: sessionmaker[Session], workspace: Workspace, fake_meta: FakeMeta
) -> ChannelAccount:
    return meta_account(session_factory, workspace, fake_meta, "facebook")


@pytest.fixture
def instagram(
    session_factory: sessionmaker[Session], workspace: Workspace, fake_meta: FakeMeta
) -> ChannelAccount:
    fake_meta.owner_id = "ig-1"
    return meta_account(session_factory, workspace, fake_meta, "instagram")


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    with FakeSmtp().serve() as server:
        yield server


@pytest.fixture
def imap() -> Iterator[FakeImap]:
    with FakeImap().serve() as server:
        yield server


@pytest.fixture
def mailbox(
    session_factory: sessionmaker[Session], workspace: Workspace, smtp: FakeSmtp, imap: FakeImap
) -> ChannelAccount:
    return add_account(
        session_factory,
        workspace.id,
        "email",
        credentials={
            "username": "care@acme.test",
            "password": "mail-password",
            "webhook_secret": WEBHOOK_SECRET,
        },
        settings={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_security": "none",
            "imap_host": "127.0.0.1",
            "imap_port": imap.port,
            "imap_ssl": "false",
            "display_name": "Acme Care",
        },
    )
