"""WCAG 2.2 AA in Chromium: axe-core finds no critical or serious problem on any page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.config import Settings
from socialdesk.core.models import Workspace
from socialdesk.demo_content import seed_knowledge
from socialdesk.web.app import create_app
from tests.web.browser import serious_accessibility_violations, serve, sign_in_as
from tests.web.conftest import PASSWORD, add_user
from tests.web.factories import make_case

pytestmark = pytest.mark.browser

ADMIN_SECTIONS = (
    "workspace",
    "channels",
    "teams",
    "agents",
    "sla",
    "weights",
    "taxonomies",
    "canned",
    "kb",
    "listening",
    "webhooks",
    "audit",
)


@pytest.fixture
def desk(
    engine: Engine, workspace: Workspace, tmp_path: Path, session_factory: sessionmaker[Session]
) -> Iterator[tuple[str, dict[str, int]]]:
    app: FastAPI = create_app(
        Settings(default_workspace=workspace.slug, data_dir=tmp_path), engine=engine, migrate=False
    )
    add_user(session_factory, workspace, "ana@acme.test", "agent", "Ana Agent")
    add_user(session_factory, workspace, "ada@acme.test", "admin", "Ada Admin")
    now = datetime.now(UTC)
    with session_factory() as s:
        seed_knowledge(s, workspace.id)
        tweet, _, _ = make_case(
            s, workspace.id, text="my router died @bobby", at=now - timedelta(minutes=25)
        )
        late, _, _ = make_case(s, workspace.id, text="still nothing", at=now - timedelta(hours=2))
        mail, _, _ = make_case(
            s,
            workspace.id,
            text="Hi,\nmy invoice is wrong",
            at=now,
            channel="email",
            visibility="private",
        )
        mail.subject = "Invoice"
        s.commit()
        ids = {"case": tweet.id, "late": late.id, "mail": mail.id, "customer": tweet.customer_id}
    with serve(app) as base:
        yield base, ids  # type: ignore[misc]


def check(page: Any, what: str) -> None:
    problems = serious_accessibility_violations(page)
    assert problems == [], f"{what}: " + "\n".join(problems)


def test_every_page_an_agent_sees_passes_axe(
    browser: Any, desk: tuple[str, dict[str, int]]
) -> None:
    base, ids = desk
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{base}/login")
        check(page, "sign-in")
        page.fill("input[name=email]", "ana@acme.test")
        page.fill("input[name=password]", "wrong password")
        page.click("button[type=submit]")
        page.wait_for_selector(".error")
        check(page, "sign-in error")
        sign_in_as(page, base, "ana@acme.test", PASSWORD)
        page.wait_for_selector("body[data-live=on]")
        check(page, "inbox")
        page.goto(f"{base}/console?scope=team&q=router&sla=warn")
        check(page, "filtered inbox")
        for key in ("case", "late", "mail"):
            page.goto(f"{base}/console/c/{ids[key]}")
            page.click("details.shift summary")
            check(page, f"case {key}")
        page.goto(f"{base}/console/customers/{ids['customer']}")
        check(page, "customer 360")
        page.goto(f"{base}/console/notifications")
        check(page, "notifications")
        page.keyboard.press("?")
        check(page, "help dialog")
    finally:
        context.close()


def test_every_page_an_admin_sees_passes_axe(
    browser: Any, desk: tuple[str, dict[str, int]]
) -> None:
    base, ids = desk
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        sign_in_as(page, base, "ada@acme.test", PASSWORD)
        page.wait_for_url(re.compile(r".*/dashboard$"))
        page.wait_for_selector("body[data-live=on]")
        check(page, "dashboard")
        page.goto(f"{base}/dashboard?range=7d")
        check(page, "dashboard, 7 days")
        for section in ADMIN_SECTIONS:
            page.goto(f"{base}/admin/{section}")
            check(page, f"admin {section}")
        page.goto(f"{base}/console/customers/{ids['customer']}")
        check(page, "customer 360 with merge")
        for path in (
            "/console/alerts",
            "/console/incidents",
            "/dashboard/trends",
            "/dashboard/reports",
            "/dashboard/reports?bucket=hour&tz=Europe/Paris",
        ):
            page.goto(f"{base}{path}")
            check(page, path)
    finally:
        context.close()
