"""In real headless Chromium: an injected spike raises a live alert in the supervisor's bell;
the supervisor opens the incident, sends a bulk reply, and sees the replies as sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.accounts import create_account
from socialdesk.channels.events import InboundEvent, Party
from socialdesk.config import Settings
from socialdesk.conversations.outbox_thread import start_outbox_thread
from socialdesk.core.models import Workspace
from socialdesk.listening.detection import DetectorConfig
from socialdesk.listening.monitor import MonitorConfig
from socialdesk.listening.watch import TrafficWatch
from socialdesk.web.app import create_app
from tests.web.browser import LAUNCH_ARGS, require_chromium, screenshot_path, serve
from tests.web.conftest import add_user
from tests.web.test_browser import DESK, sign_in, wait_until

pytestmark = pytest.mark.browser

# Seconds-long steps, so a test sees what production sees within minutes.
FAST = MonitorConfig(
    step=timedelta(seconds=2),
    volume=DetectorConfig(warmup=timedelta(seconds=4), scales=(timedelta(0),)),
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def crisis_app(engine: Engine, workspace: Workspace, tmp_path: Path) -> Iterator[FastAPI]:
    settings = Settings(default_workspace=workspace.slug, data_dir=tmp_path)
    app = create_app(settings, engine=engine, migrate=False)
    with app.state.session_factory() as s:
        create_account(
            s,
            workspace_id=workspace.id,
            channel="x",
            external_id="brand-1",
            secret_key=settings.secret_key,
            handle="@AcmeCare",
            settings={"sandbox": True},
        )
        s.commit()
    watch = TrafficWatch(
        app.state.session_factory,
        config=FAST,
        tick_seconds=0.5,
        on_alert=app.state.live_hub.notify,
    )
    app.state.traffic_watch = watch  # started by the test, after its first round
    stop_outbox = start_outbox_thread(app, interval=0.5)
    yield app
    stop_outbox()
    watch.stop()


def burst(n: int) -> list[InboundEvent]:
    now = datetime.now(UTC)
    return [
        InboundEvent(
            channel="x",
            external_id=f"down-{i}",
            text=f"@AcmeCare no signal for hours, is the network down? #AcmeDown ({i})",
            created_at=now,
            account="brand-1",
            author=Party(id=f"id-{i}", handle=f"@caller{i}", name=f"Caller {i}", followers=40),
        )
        for i in range(n)
    ]


def test_a_spike_raises_a_live_alert_and_the_incident_is_answered_in_bulk(
    browser: Any,
    crisis_app: FastAPI,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    add_user(session_factory, workspace, "sam@acme.test", "supervisor", "Sam Supervisor")
    with serve(crisis_app) as base:
        desk = browser.new_context(viewport=DESK)
        try:
            page = desk.new_page()
            sign_in(page, base, "sam@acme.test")
            page.goto(f"{base}/dashboard")
            page.wait_for_selector("body[data-live=on]")
            assert page.inner_text("#alert-count") == ""
            # The watch's first round (its warm-up replay of a quiet workspace), and the burst
            # at once, in the first step after it: the hardest moment for a fresh baseline.
            watch = crisis_app.state.traffic_watch
            assert watch.tick() == []
            watch.start()
            crisis_app.state.pipeline.ingest(workspace.id, burst(12), source="test")

            wait_until(lambda: page.inner_text("#alert-count") != "", "the bell to ring", 30)
            wait_until(
                lambda: "Spike on #acmedown" in page.inner_text("#alerts-panel"),
                "the alert on the dashboard",
            )
            page.screenshot(path=screenshot_path("crisis-alert.png"), full_page=True)

            page.click("#alert-bell")
            page.wait_for_selector("tr.alert-row")
            page.click("tr.alert-row a")
            page.wait_for_selector("#bulk-reply")
            wait_until(lambda: page.inner_text("#incident-messages") == "12", "12 grouped messages")
            page.fill(
                "#bulk-reply textarea[name=template]",
                "Hi {customer_name}, we know about the outage and are fixing it.",
            )
            page.click("#send-bulk")
            page.wait_for_selector("#bulk-result")
            assert "12 queued" in page.inner_text("#bulk-result")
            wait_until(
                lambda: page.inner_text("#replies-sent") == "12", "the replies to show as sent", 30
            )
            assert page.locator(".reply-state .delivery-sent").count() == 12
            page.screenshot(path=screenshot_path("crisis-incident.png"), full_page=True)
        finally:
            desk.close()
