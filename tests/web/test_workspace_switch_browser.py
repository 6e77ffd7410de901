"""The workspace switcher in Chromium: by keyboard alone, with no script needed, and accessible."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.models import Workspace
from tests.web.browser import serious_accessibility_violations, serve, sign_in_as
from tests.web.conftest import PASSWORD, add_user
from tests.web.factories import make_case

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("scripts", [True, False], ids=["with-script", "without-script"])
def test_an_outsourcer_switches_workspace_by_keyboard(
    browser: Any,
    app: FastAPI,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    scripts: bool,
) -> None:
    with session_factory() as s:
        globex = Workspace(slug="globex", name="Globex Energy")
        s.add(globex)
        s.commit()
    add_user(session_factory, workspace, "olga@outsource.test", "agent", "Olga")
    add_user(session_factory, globex, "olga@outsource.test", "agent", "Olga")
    now = datetime.now(UTC)
    with session_factory() as s:
        make_case(s, workspace.id, text="acme router keeps dropping", at=now)
        make_case(s, globex.id, text="globex meter reading wrong", at=now)
        s.commit()
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, java_script_enabled=scripts
    )
    page = context.new_page()
    try:
        with serve(app) as base:
            sign_in_as(page, base, "olga@outsource.test", PASSWORD)  # no workspace typed
            assert "acme router" in page.content()
            switcher = page.get_by_label("Workspace")
            assert switcher.input_value() == str(workspace.id)
            problems = serious_accessibility_violations(page) if scripts else []
            assert problems == [], "\n".join(problems)
            switcher.focus()
            switcher.select_option(str(globex.id))
            page.keyboard.press("Tab")  # to the Switch button
            with page.expect_navigation():
                page.keyboard.press("Enter")
            page.wait_for_load_state()
            assert "globex meter" in page.content() and "acme router" not in page.content()
            assert page.get_by_label("Workspace").input_value() == str(globex.id)
    finally:
        context.close()
