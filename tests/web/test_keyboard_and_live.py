"""Working by keyboard and with a screen reader, in Chromium: live updates that keep focus,
a status region, shortcuts that can be turned off, menus that wait for Apply, a help dialog
that holds focus, and the main path without a mouse."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.models import ChannelShift
from socialdesk.conversations.models import Conversation
from socialdesk.core.models import Workspace
from socialdesk.people.models import User
from tests.web.browser import serve, sign_in_as
from tests.web.conftest import PASSWORD, add_user
from tests.web.factories import make_case

pytestmark = pytest.mark.browser


def cases(factory: sessionmaker[Session], workspace: Workspace, n: int) -> list[int]:
    now = datetime.now(UTC)
    with factory() as s:
        ids = [
            make_case(s, workspace.id, text=f"problem {i}", at=now, value=100 - i)[0].id
            for i in range(n)
        ]
        s.commit()
    return ids


def active_item(page: Any) -> str | None:
    return page.evaluate(  # type: ignore[no-any-return]
        "() => { const i = document.activeElement.closest('.item'); return i && i.dataset.id; }"
    )


def wait_for(check: Any, what: str, timeout: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_live_update_keeps_focus_on_the_same_item_and_announces_new_work(
    page: Any,
    product: FastAPI,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    agent = add_user(session_factory, workspace, "ana@acme.test", "agent", "Ana Agent")
    ids = cases(session_factory, workspace, 4)
    with serve(product) as base:
        sign_in_as(page, base, agent.email, PASSWORD)
        page.wait_for_selector("body[data-live=on]")
        for _ in range(4):
            page.keyboard.press("j")
        assert active_item(page) == str(ids[3])
        assert page.get_attribute(f".item[data-id='{ids[3]}'] a", "aria-current") == "true"
        (fresh,) = cases(session_factory, workspace, 1)
        product.state.live_hub.notify(workspace.id)
        page.wait_for_selector(f".item[data-id='{fresh}']", timeout=20_000)
        assert active_item(page) == str(ids[3]), "focus left the item it was on"
        wait_for(lambda: "1 new item" in page.inner_text("#status"), "the announcement")

        page.click("#live-pause")
        assert page.get_attribute("#live-pause", "aria-pressed") == "true"
        assert page.inner_text("#live-text") == "paused"
        (held,) = cases(session_factory, workspace, 1)
        product.state.live_hub.notify(workspace.id)
        page.wait_for_timeout(2500)
        assert page.query_selector(f".item[data-id='{held}']") is None
        page.click("#live-pause")
        page.wait_for_selector(f".item[data-id='{held}']", timeout=20_000)


def test_updates_wait_while_a_form_has_focus_and_a_half_typed_relabel_survives(
    page: Any,
    product: FastAPI,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    agent = add_user(session_factory, workspace, "ana@acme.test", "agent", "Ana Agent")
    (case,) = cases(session_factory, workspace, 1)
    with serve(product) as base:
        sign_in_as(page, base, agent.email, PASSWORD)
        page.goto(f"{base}/console/c/{case}")
        page.wait_for_selector("body[data-live=on]")
        page.click("details.relabel summary")
        page.fill("details.relabel input[name=topic]", "roaming abr")
        with session_factory() as s:
            conv = s.get(Conversation, case)
            assert conv is not None
            conv.status = "pending"
            s.commit()
        product.state.live_hub.notify(workspace.id)
        page.wait_for_timeout(2500)
        assert page.is_visible("details.relabel input[name=topic]")
        assert page.input_value("details.relabel input[name=topic]") == "roaming abr"
        assert "pending" not in page.inner_text("#case-status")  # held
        page.keyboard.press("Escape")  # leaves the field: the held update arrives
        page.wait_for_selector("#case-status:has-text('pending')", timeout=20_000)
        assert page.input_value("details.relabel input[name=topic]") == "roaming abr"


def test_resolve_is_announced_can_be_undone_and_asks_first_on_a_case_not_mine(
    page: Any,
    product: FastAPI,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    agent = add_user(session_factory, workspace, "ana@acme.test", "agent", "Ana Agent")
    (case,) = cases(session_factory, workspace, 1)
    asked: list[str] = []
    with serve(product) as base:
        sign_in_as(page, base, agent.email, PASSWORD)
        page.goto(f"{base}/console/c/{case}")

        def dismiss(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.dismiss()

        def accept(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.accept()

        page.once("dialog", dismiss)
        page.keyboard.press("e")
        page.wait_for_timeout(500)
        assert asked and "not assigned to you" in asked[0]
        assert "resolved" not in page.inner_text("#case-status")

        page.once("dialog", lambda d: d.accept())
        page.keyboard.press("e")
        page.wait_for_selector("#case-status:has-text('resolved')")
        wait_for(lambda: page.inner_text("#status") == "Case resolved.", "the status message")
        assert "done=" not in page.url
        page.click("#undo-resolve")
        page.wait_for_selector("#case-status:not(:has-text('resolved'))")
        wait_for(lambda: page.inner_text("#status") == "Case reopened.", "the reopen message")

        # Single-key shortcuts off: e does nothing at all, not even ask.
        page.keyboard.press("?")
        page.uncheck("#keys-enabled")
        page.keyboard.press("Escape")
        page.on("dialog", accept)
        asked.clear()
        page.keyboard.press("e")
        page.wait_for_timeout(800)
        assert asked == [] and "resolved" not in page.inner_text("#case-status")
        page.reload()
        page.keyboard.press("?")
        assert page.is_hidden("#help") and not page.is_checked("#keys-enabled")


def test_menus_wait_for_apply_and_the_help_dialog_holds_focus(
    page: Any,
    product: FastAPI,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    agent = add_user(session_factory, workspace, "ana@acme.test", "agent", "Ana Agent")
    with serve(product) as base:
        sign_in_as(page, base, agent.email, PASSWORD)
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
        page.keyboard.press("Enter")
        assert page.evaluate("() => document.activeElement.id") == "main"

        page.focus("#presence-form select")
        page.keyboard.press("ArrowDown")  # moves the choice, applies nothing
        page.wait_for_timeout(500)
        assert page.url.split("#")[0].endswith("/console")
        with Session(product.state.engine) as s:
            assert s.get(User, agent.id).presence != "away"  # type: ignore[union-attr]
        page.click("#presence-apply")
        page.wait_for_url(re.compile(r".*/console\?done=presence|.*/console$"))

        page.focus("button[data-help]")
        page.keyboard.press("Enter")
        assert page.evaluate(
            "() => document.getElementById('help').contains(document.activeElement)"
        )
        for _ in range(5):
            page.keyboard.press("Tab")
            assert page.evaluate(
                "() => document.getElementById('help').contains(document.activeElement)"
            ), "focus escaped the dialog"
        page.keyboard.press("Escape")
        assert page.is_hidden("#help")
        assert page.evaluate("() => document.activeElement.hasAttribute('data-help')")


def test_the_main_path_by_keyboard_alone(
    page: Any,
    product: FastAPI,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    add_user(session_factory, workspace, "ana@acme.test", "agent", "Ana Agent")
    (case,) = cases(session_factory, workspace, 1)
    with serve(product) as base:
        page.goto(f"{base}/login")
        # Chromium applies autofocus at its next rendering step, which can come after the
        # load event on a busy machine: wait for it rather than type into the page body.
        page.wait_for_function("() => document.activeElement?.name === 'email'")
        page.keyboard.type("ana@acme.test")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/console")
        page.keyboard.press("n")
        page.wait_for_url(f"{base}/console/c/{case}")
        page.keyboard.press("a")
        page.wait_for_selector("text=with Ana Agent")
        page.keyboard.press("r")
        page.keyboard.type("Sorry about this, we are checking your line.")
        page.keyboard.press("Control+Enter")
        page.wait_for_selector(".timeline .outbound")

        def tab_to(selector: str) -> None:
            for _ in range(80):
                page.keyboard.press("Tab")
                if page.evaluate(f"() => document.activeElement.matches({selector!r})"):
                    return
            raise AssertionError(f"{selector} not reachable by Tab")

        tab_to("details.shift summary")
        page.keyboard.press("Enter")
        tab_to("#shift-action")
        page.keyboard.press("ArrowDown")  # invite to DM -> move to e-mail
        assert page.input_value("#shift-action") == "email"
        page.keyboard.press("Tab")
        page.keyboard.type("needs the account number")
        page.keyboard.press("Tab")
        page.keyboard.type("dana@example.com")
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Channel shift recorded.", state="attached")
        with session_factory() as s:
            (shift,) = s.query(ChannelShift).all()
            assert shift.reason == "needs the account number"
        page.keyboard.press("e")
        page.wait_for_selector("#case-status:has-text('resolved')")
