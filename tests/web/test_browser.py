"""End to end in real headless Chromium: the agent's day and the supervisor's levers.

Screenshots of the inbox, the conversation and the dashboard land in artifacts/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.events import InboundEvent, Party
from socialdesk.config import Settings
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task
from socialdesk.customers.models import Customer
from socialdesk.knowledge.service import save_canned_reply
from socialdesk.priority.service import ScoringHook
from socialdesk.simulation.traffic import BrandProfile, generate_n
from socialdesk.web.app import create_app
from tests.web.browser import screenshot_path, serve
from tests.web.conftest import PASSWORD, add_user

pytestmark = pytest.mark.browser

DESK = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def live_app(engine: Engine, workspace: Workspace, tmp_path: Path) -> FastAPI:
    app = create_app(
        Settings(default_workspace=workspace.slug, data_dir=tmp_path), engine=engine, migrate=False
    )
    hooks = app.state.pipeline.hooks
    if not any(isinstance(h, ScoringHook) for h in hooks.on_tasks_changed):
        hooks.on_tasks_changed.append(ScoringHook())
    return app


def sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/(console|dashboard)$"))


def event(
    text: str, *, ext: str, handle: str, name: str, followers: int = 10, **kw: Any
) -> InboundEvent:
    return InboundEvent(
        channel="x",
        external_id=ext,
        text=text,
        created_at=datetime.now(UTC) - timedelta(minutes=1),
        author=Party(id=f"id-{handle}", handle=f"@{handle}", name=name, followers=followers, **kw),
    )


def wait_until(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    """Poll from Python: the pages' CSP forbids evaluating strings, as it should."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def item_ids(page: Any) -> list[int]:
    return [
        int(x)
        for x in page.eval_on_selector_all(".item[data-id]", "els => els.map(e => e.dataset.id)")
    ]


def test_an_agent_sees_an_item_arrive_live_answers_it_and_the_dashboard_counts_it(
    browser: Any,
    live_app: FastAPI,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    agent = add_user(session_factory, workspace, "ana@acme.test", "agent", "Ana Agent")
    add_user(session_factory, workspace, "sam@acme.test", "supervisor", "Sam Supervisor")
    with session_factory() as s:
        save_canned_reply(
            s,
            workspace_id=workspace.id,
            shortcut="sorry",
            title="Apology",
            body="Hi {customer_name}, sorry about this. We are on it. {agent_name}",
        )
        s.commit()
    with serve(live_app) as base:
        desk = browser.new_context(viewport=DESK)
        phone = browser.new_context(viewport=PHONE)
        try:
            agent_page = desk.new_page()
            sign_in(agent_page, base, agent.email)
            agent_page.wait_for_selector("body[data-live=on]")
            assert item_ids(agent_page) == []

            supervisor_page = phone.new_page()
            sign_in(supervisor_page, base, "sam@acme.test")
            supervisor_page.goto(f"{base}/dashboard")
            supervisor_page.wait_for_selector("body[data-live=on]")
            resolved_before = supervisor_page.inner_text("#resolved-24h")
            open_before = supervisor_page.inner_text("#open-total")

            generated = generate_n(
                BrandProfile(
                    kind_mix={"complaint": 1.0}, channel_mix={"x": 1.0}, private_share={"x": 0.0}
                ),
                8,  # triage may judge some generated posts as not for care
                seed=7,
                start=datetime.now(UTC) - timedelta(minutes=2),
            )
            live_app.state.pipeline.ingest(workspace.id, generated, source="test")

            agent_page.wait_for_selector(".item[data-id]", timeout=15_000)
            first_line = agent_page.inner_text(".item .first-line").strip()
            assert first_line and any(first_line[:20] in e.text for e in generated)
            assert agent_page.inner_text(".item .countdown") != ""
            agent_page.screenshot(path=screenshot_path("inbox.png"), full_page=True)

            wait_until(
                lambda: supervisor_page.inner_text("#open-total") != open_before,
                "the dashboard's open count to change",
            )

            agent_page.click(".item a")
            agent_page.wait_for_selector("#reply-text")
            agent_page.select_option("#canned", label="/sorry · Apology")
            assert agent_page.input_value("#reply-text") == ""  # choosing alone inserts nothing
            agent_page.click("#canned-insert")
            wait_until(
                lambda: agent_page.input_value("#reply-text").startswith("Hi "),
                "the canned reply in the composer",
            )
            reply = agent_page.input_value("#reply-text")
            assert "{customer_name}" not in reply and reply.endswith("Ana Agent")
            assert re.match(r"\d+ / 280", agent_page.inner_text("#reply-counter"))
            agent_page.screenshot(path=screenshot_path("conversation.png"), full_page=True)
            agent_page.click("#send-reply")
            agent_page.wait_for_selector(".timeline .outbound")
            assert "sorry about this" in agent_page.inner_text(".timeline .outbound")

            agent_page.click("#resolve")
            agent_page.wait_for_selector("#case-status:has-text('resolved')")

            wait_until(
                lambda: supervisor_page.inner_text("#resolved-24h") != resolved_before,
                "the dashboard's resolved count to change",
            )
            assert int(supervisor_page.inner_text("#resolved-24h")) == int(resolved_before) + 1
            width = supervisor_page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], "the dashboard overflows a phone screen"
            supervisor_page.screenshot(path=screenshot_path("dashboard-phone.png"), full_page=True)
            boss_desk = browser.new_context(viewport=DESK)
            try:
                dash = boss_desk.new_page()
                sign_in(dash, base, "sam@acme.test")
                dash.goto(f"{base}/dashboard")
                dash.screenshot(path=screenshot_path("dashboard.png"), full_page=True)
            finally:
                boss_desk.close()
        finally:
            desk.close()
            phone.close()


def test_a_supervisor_changes_a_value_weight_and_the_order_changes(
    browser: Any,
    live_app: FastAPI,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    agent = add_user(session_factory, workspace, "ana@acme.test", "agent", "Ana Agent")
    add_user(session_factory, workspace, "sam@acme.test", "supervisor", "Sam Supervisor")
    live_app.state.pipeline.ingest(
        workspace.id,
        [
            event(
                "my bill is wrong again",
                ext="1",
                handle="famous",
                name="Famous Person",
                followers=2_000_000,
                verified=True,
            ),
            event("my bill is wrong again", ext="2", handle="loyal", name="Loyal Customer"),
        ],
    )
    with session_factory() as s:
        loyal = s.scalars(select(Customer).where(Customer.display_name == "Loyal Customer")).one()
        loyal.tier = "platinum"
        loyal.lifetime_value = 90_000  # type: ignore[assignment]
        s.commit()
        tasks = {t.conversation_id: t for t in s.scalars(select(Task))}
    assert len(tasks) == 2

    with serve(live_app) as base:
        context = browser.new_context(viewport=DESK)
        try:
            boss = context.new_page()
            sign_in(boss, base, "sam@acme.test")

            def set_weights(**weights: float) -> None:
                boss.goto(f"{base}/admin/weights")
                for name, value in weights.items():
                    boss.fill(f"input[data-weight={name}]", str(value))
                boss.click("#save-weights")
                boss.wait_for_url(f"{base}/admin/weights")

            set_weights(influence=100, customer_value=0)
            agent_view = browser.new_context(viewport=DESK).new_page()
            try:
                sign_in(agent_view, base, agent.email)
                agent_view.wait_for_selector("body[data-live=on]")
                before = item_ids(agent_view)
                names = agent_view.eval_on_selector_all(
                    ".item .cust", "els => els.map(e => e.textContent.trim())"
                )
                assert names[0] == "Famous Person" and len(before) == 2

                set_weights(influence=0, customer_value=100)
                wait_until(
                    lambda: item_ids(agent_view)[:1] == [before[1]],
                    "the inbox to re-sort",
                )
                assert item_ids(agent_view) == [before[1], before[0]]
                assert agent_view.inner_text(".item .cust") == "Loyal Customer"
            finally:
                agent_view.context.close()
        finally:
            context.close()


def test_keyboard_shortcuts_drive_the_common_actions(
    browser: Any,
    live_app: FastAPI,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    agent = add_user(session_factory, workspace, "ana@acme.test", "agent", "Ana Agent")
    live_app.state.pipeline.ingest(
        workspace.id,
        [
            event(
                "first problem: my bill is wrong",
                ext="k1",
                handle="one",
                name="One",
                followers=50_000,
            ),
            event("second problem: my router is down again", ext="k2", handle="two", name="Two"),
        ],
    )
    with serve(live_app) as base:
        context = browser.new_context(viewport=DESK)
        try:
            page = context.new_page()
            sign_in(page, base, agent.email)
            ids = item_ids(page)
            assert len(ids) == 2
            page.keyboard.press("?")
            assert page.is_visible("#help")
            page.keyboard.press("Escape")
            assert not page.is_visible("#help")
            page.keyboard.press("j")
            page.keyboard.press("j")
            assert page.get_attribute(".item.selected", "data-id") == str(ids[1])
            page.keyboard.press("Enter")
            page.wait_for_url(f"{base}/console/c/{ids[1]}")
            page.keyboard.press("a")
            page.wait_for_selector("text=with Ana Agent")
            page.keyboard.press("r")
            assert page.evaluate("() => document.activeElement.id") == "reply-text"
            page.keyboard.press("Escape")
            page.keyboard.press("e")
            page.wait_for_selector("#case-status:has-text('resolved')")
            page.keyboard.press("n")
            page.wait_for_url(f"{base}/console/c/{ids[0]}")
        finally:
            context.close()


def test_a_colleague_taking_an_item_and_a_mention_show_up_live(
    browser: Any,
    live_app: FastAPI,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    add_user(session_factory, workspace, "ana@acme.test", "agent", "Ana Agent")
    add_user(session_factory, workspace, "bo@acme.test", "agent", "Bo Builder")
    live_app.state.pipeline.ingest(
        workspace.id, [event("my line has been dead since monday", ext="c1", handle="c", name="C")]
    )
    with serve(live_app) as base:
        ana_context = browser.new_context(viewport=DESK)
        bo_context = browser.new_context(viewport=DESK)
        try:
            bo = bo_context.new_page()
            sign_in(bo, base, "bo@acme.test")
            bo.wait_for_selector("body[data-live=on]")
            assert bo.inner_text("#bell-count") == ""
            (case,) = item_ids(bo)

            ana = ana_context.new_page()
            sign_in(ana, base, "ana@acme.test")
            ana.goto(f"{base}/console/c/{case}")
            ana.click("#assign-me")
            ana.wait_for_selector("text=with Ana Agent")
            # Taken by a colleague, it leaves Bo's list of unassigned team work at once.
            wait_until(lambda: item_ids(bo) == [], "the item to leave Bo's list")

            ana.fill("#note-text", "@bo could you check the line test?")
            ana.click("#note-form button")
            ana.wait_for_selector(".timeline .note")
            wait_until(lambda: bo.inner_text("#bell-count") == "1", "Bo's mention counter")
        finally:
            ana_context.close()
            bo_context.close()
