"""The README's screenshots, taken in Chromium from the demo's data.

Written to artifacts/ on every run; `SOCIALDESK_UPDATE_SCREENSHOTS=1` writes them to
docs/screenshots/ (the files the README shows) instead.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.config import Settings
from socialdesk.conversations.models import Conversation
from socialdesk.demo import DEMO_PASSWORD, prepare_demo
from socialdesk.priority.service import ScoringHook
from socialdesk.web.app import create_app
from tests.web.browser import ARTIFACTS, serve, sign_in_as

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
MAX_BYTES = 400_000


def target() -> Path:
    folder = DOCS if os.environ.get("SOCIALDESK_UPDATE_SCREENSHOTS") == "1" else ARTIFACTS
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_screenshots_of_the_demo(
    browser: Any, engine: Engine, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = Settings(default_workspace="demo", data_dir=tmp_path)
    app = create_app(settings, engine=engine, migrate=False)
    hooks = app.state.pipeline.hooks
    if not any(isinstance(h, ScoringHook) for h in hooks.on_tasks_changed):
        hooks.on_tasks_changed.append(ScoringHook())  # as the routing engine scores in the demo
    prepare_demo(
        settings,
        session_factory,
        app.state.pipeline,
        backlog_hours=2,
        rate_per_minute=8,
        seed=11,
    )
    with session_factory() as s:
        case = s.scalars(
            select(Conversation.id)
            .where(Conversation.customer_id.is_not(None), Conversation.message_count > 1)
            .order_by(Conversation.message_count.desc(), Conversation.id)
        ).first()
    assert case is not None
    folder = target()
    shots: list[Path] = []
    with serve(app) as base:
        context = browser.new_context(viewport={"width": 1280, "height": 760})
        try:
            page = context.new_page()

            def shoot(name: str) -> None:
                page.wait_for_load_state("networkidle")
                path = folder / name
                page.screenshot(path=str(path))
                shots.append(path)

            sign_in_as(page, base, "ava@demo.socialdesk.example", DEMO_PASSWORD)
            page.wait_for_selector(".item[data-id]")
            shoot("inbox.png")
            page.goto(f"{base}/console/c/{case}")
            page.wait_for_selector(".case-side .customer")
            shoot("case-360.png")
            context.clear_cookies()
            sign_in_as(page, base, "admin@demo.socialdesk.example", DEMO_PASSWORD)
            page.wait_for_url(re.compile(r".*/dashboard$"))
            shoot("dashboard.png")
            page.goto(f"{base}/admin/agents")
            shoot("admin.png")
        finally:
            context.close()
    for path in shots:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and 5_000 < len(data) < MAX_BYTES, path
