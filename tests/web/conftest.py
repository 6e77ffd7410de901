"""A console app on the test database, and signed-in browsers-without-a-browser (HTTP clients)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.config import Settings
from socialdesk.core.clock import FrozenClock
from socialdesk.core.models import Workspace
from socialdesk.people.models import User
from socialdesk.routing.service import upsert_agent
from socialdesk.web.auth import create_user
from socialdesk.web.ui import install_ui

PASSWORD = "correct horse battery"
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def build_app(engine: Engine, factory: sessionmaker[Session], clock: FrozenClock) -> FastAPI:
    app = FastAPI()
    app.state.settings = Settings(default_workspace="acme")
    app.state.engine = engine
    app.state.session_factory = factory
    app.state.clock = clock
    install_ui(app)
    return app


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def app(engine: Engine, session_factory: sessionmaker[Session], clock: FrozenClock) -> FastAPI:
    return build_app(engine, session_factory, clock)


def add_user(
    factory: sessionmaker[Session], workspace: Workspace, email: str, role: str, name: str = ""
) -> User:
    """A person who can sign in; routing gives them the Care team and its default capacity."""
    with factory() as s:
        display = name or email.split("@")[0].title()
        user = create_user(s, workspace.id, email, display, PASSWORD, role)
        upsert_agent(s, workspace.id, email, display, role=role)
        s.commit()
        return user


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(
    client: TestClient, email: str, password: str = PASSWORD, workspace: str = "acme"
) -> str:
    """Sign in through the form like a browser; returns the session's CSRF token."""
    form = client.get("/login")
    response = client.post(
        "/login",
        data={
            "workspace": workspace,
            "email": email,
            "password": password,
            "csrf_token": csrf_of(form.text),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get("/console")
    return csrf_of(page.text)


@pytest.fixture
def agent(session_factory: sessionmaker[Session], workspace: Workspace) -> User:
    return add_user(session_factory, workspace, "ana@acme.test", "agent", "Ana Agent")


@pytest.fixture
def supervisor(session_factory: sessionmaker[Session], workspace: Workspace) -> User:
    return add_user(session_factory, workspace, "sam@acme.test", "supervisor", "Sam Supervisor")


@pytest.fixture
def admin(session_factory: sessionmaker[Session], workspace: Workspace) -> User:
    return add_user(session_factory, workspace, "ada@acme.test", "admin", "Ada Admin")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module (skips, with the reason, where it is missing)."""
    from tests.web.browser import LAUNCH_ARGS, require_chromium

    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def product(engine: Engine, workspace: Workspace, tmp_path: Path) -> FastAPI:
    """The whole product's app (API, screens, pipeline) on the test database."""
    from socialdesk.web.app import create_app

    settings = Settings(default_workspace=workspace.slug, data_dir=tmp_path)
    return create_app(settings, engine=engine, migrate=False)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh desktop-sized browser page (its own cookies) for one test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    # https: the session cookie is Secure, so a client would not send it over plain http.
    with TestClient(app, base_url="https://testserver") as c:
        yield c
