"""In Chromium: deliveries update live, the shift form shows the target's fields, the admin
forms are valid and whole."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.conversations.outbox_thread import start_outbox_thread
from socialdesk.core.models import Workspace
from tests.web.browser import serve, sign_in_as
from tests.web.conftest import PASSWORD, add_user
from tests.web.factories import make_case

pytestmark = pytest.mark.browser


def sign_in(page: Any, base: str, email: str) -> None:
    sign_in_as(page, base, email, PASSWORD)
    page.wait_for_url(re.compile(rf"{re.escape(base)}/(console|dashboard)$"))


def test_a_reply_that_cannot_be_delivered_shows_failed_with_the_reason_live(
    page: Any, product: FastAPI, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    agent = add_user(session_factory, workspace, "ana@acme.test", "agent", "Ana Agent")
    with session_factory() as s:
        conv, _, _ = make_case(s, workspace.id, text="no signal", at=datetime.now(UTC))
        s.commit()
    stop = start_outbox_thread(product, interval=0.2)
    try:
        with serve(product) as base:
            sign_in(page, base, agent.email)
            page.goto(f"{base}/console/c/{conv.id}")
            page.wait_for_selector("body[data-live=on]")
            page.fill("#reply-text", "We are on it")
            page.click("#send-reply")
            page.wait_for_selector(".timeline .outbound")
            reply = page.locator(".timeline .outbound")
            assert "Ana Agent" in reply.inner_text()
            # No account of the brand is connected here: the sender fails it for good, and the
            # page says so without a reload.
            page.wait_for_selector(".outbound [data-delivery=failed]", timeout=30_000)
            assert "Not delivered" in reply.inner_text()
            assert page.is_visible(".outbound .retry-delivery")
    finally:
        stop()


def test_the_channel_shift_form_shows_only_the_chosen_targets_fields(
    page: Any, product: FastAPI, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    agent = add_user(session_factory, workspace, "ana@acme.test", "agent", "Ana Agent")
    with session_factory() as s:
        conv, _, _ = make_case(s, workspace.id, text="my account", at=datetime.now(UTC))
        s.commit()
    with serve(product) as base:
        sign_in(page, base, agent.email)
        page.goto(f"{base}/console/c/{conv.id}")
        page.click("details.shift summary")

        def visible_fields() -> set[str]:
            labels = page.locator("details.shift form label:visible")
            return {labels.nth(i).inner_text().strip() for i in range(labels.count())}

        page.select_option("#shift-action", "dm")
        assert not any("e-mail address" in f or "Phone" in f for f in visible_fields())
        page.select_option("#shift-action", "email")
        shown = visible_fields()
        assert any("e-mail address" in f for f in shown)
        assert not any("Phone" in f or "Callback" in f for f in shown)
        page.select_option("#shift-action", "callback")
        shown = visible_fields()
        assert any("Phone" in f for f in shown) and any("Callback" in f for f in shown)
        assert not any("e-mail address" in f for f in shown)


def test_admin_forms_are_valid_in_chromium_and_the_capacity_field_shows_its_value(
    page: Any, product: FastAPI, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    from socialdesk.demo import DEMO_CAPACITY
    from socialdesk.routing.service import upsert_agent

    admin = add_user(session_factory, workspace, "ada@acme.test", "admin", "Ada Admin")
    with session_factory() as s:
        upsert_agent(s, workspace.id, admin.email, admin.name, role="admin", capacity=DEMO_CAPACITY)
        s.commit()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    with serve(product) as base:
        sign_in(page, base, admin.email)
        page.goto(f"{base}/admin/canned")
        shortcut = page.locator("input[name=shortcut]")
        shortcut.fill("Not Valid!")
        assert shortcut.evaluate("el => el.validity.patternMismatch")
        shortcut.fill("late-order_2")
        assert shortcut.evaluate("el => el.validity.valid")
        assert not [m for m in console if "regular expression" in m], console

        page.goto(f"{base}/admin/agents")
        capacity = page.locator("input[name=routing_capacity]").first
        assert "email=5" in capacity.input_value()
        assert capacity.evaluate("el => el.scrollWidth <= el.clientWidth"), "capacity is cut off"
        box = capacity.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1280

        icon = page.request.get(f"{base}/favicon.ico")
        assert icon.status == 200
