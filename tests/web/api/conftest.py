"""The whole product's app for the JSON API's tests, with clients signed in as a person
(session cookie and CSRF header) or holding an integration's API token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.config import Settings
from socialdesk.core.clock import FrozenClock
from socialdesk.core.models import Workspace
from socialdesk.people.models import User
from socialdesk.web.api_tokens import create_token
from socialdesk.web.app import create_app
from socialdesk.web.auth import start_session
from socialdesk.web.guard import CSRF_HEADER, SESSION_COOKIE
from tests.web.conftest import add_user

Client = Callable[[User], TestClient]


@pytest.fixture
def api(engine: Engine, workspace: Workspace, clock: FrozenClock, tmp_path: Path) -> FastAPI:
    """The product's app, its clock frozen; its background loops are not started (no
    lifespan), so only the requests change anything."""
    settings = Settings(default_workspace=workspace.slug, data_dir=tmp_path)
    app = create_app(settings, engine=engine, migrate=False)
    app.state.clock = clock
    return app


@pytest.fixture
def as_user(api: FastAPI, session_factory: sessionmaker[Session]) -> Iterator[Client]:
    """A client signed in as the person (the console's session, CSRF header included)."""
    clients: list[TestClient] = []

    def make(user: User) -> TestClient:
        with session_factory() as s:
            started = start_session(s, s.get(User, user.id))  # type: ignore[arg-type]
            s.commit()
        client = TestClient(api, base_url="https://testserver")
        client.cookies.set(SESSION_COOKIE, started.token)
        client.headers[CSRF_HEADER] = started.csrf_token
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def with_token(
    api: FastAPI, session_factory: sessionmaker[Session]
) -> Iterator[Callable[[Workspace, str], TestClient]]:
    """A client holding an integration's API token of that role in the workspace."""
    clients: list[TestClient] = []

    def make(workspace: Workspace, role: str) -> TestClient:
        with session_factory() as s:
            token = create_token(s, workspace.id, f"{role} integration", role)
            s.commit()
        client = TestClient(api, base_url="https://testserver")
        client.headers["Authorization"] = f"Bearer {token.secret}"
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def other_workspace(session_factory: sessionmaker[Session]) -> Workspace:
    with session_factory() as s:
        ws = Workspace(slug="globex", name="Globex")
        s.add(ws)
        s.commit()
        return ws


@pytest.fixture
def outsider(session_factory: sessionmaker[Session], other_workspace: Workspace) -> User:
    """An agent of the other workspace."""
    return add_user(session_factory, other_workspace, "olga@globex.test", "agent", "Olga")
