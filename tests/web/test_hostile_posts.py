"""A corpus of hostile posts rendered in real Chromium: nothing executes, the layout holds.

Checked twice: with the pages' Content-Security-Policy, and with CSP bypassed, so that the
escaping alone is proven to stop every payload (CSP is the second wall, not the first).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.events import InboundEvent, Party
from socialdesk.config import Settings
from socialdesk.conversations.models import Conversation, Message
from socialdesk.core.models import Workspace
from socialdesk.web.app import create_app
from tests.web.browser import screenshot_path, serve
from tests.web.conftest import PASSWORD, add_user

pytestmark = pytest.mark.browser

LONG_WORD = "W" * 10_000
HOSTILE = [
    "<script>window.__pwned = 'script'; alert(1)</script>",
    "<img src=x onerror=\"window.__pwned = 'img'\">",
    "<a href=\"javascript:window.__pwned='link'\">click for a refund</a> javascript:alert(1)",
    '<svg onload="window.__pwned = \'svg\'"><circle r="40"/></svg>',
    "</textarea><script>window.__pwned = 'textarea'</script>",
    "<style>body { display: none !important }</style>"
    '<div style="position:fixed;inset:0;background:red;z-index:99">gotcha</div>',
    '"><iframe src="javascript:window.__pwned=\'iframe\'"></iframe>',
    "\u202eReversed text that tries to flip the layout\u202d and \u2067isolates\u2069 too",
    LONG_WORD,
    "{{ 7*7 }} ${7*7} <%= 7*7 %>",
    '<div onmouseover="window.__pwned=\'hover\'" style="width:5000px">wide</div>',
    '<base href="https://evil.example/">'
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
]
HOSTILE_NAMES = [
    "<b onmouseover=\"window.__pwned='name'\">Mallory</b>",
    "\u202eeman desrever",
    "Z" * 200,
]


@pytest.fixture
def hostile_app(
    engine: Engine, workspace: Workspace, tmp_path: Path, session_factory: sessionmaker[Session]
) -> FastAPI:
    app = create_app(
        Settings(default_workspace=workspace.slug, data_dir=tmp_path), engine=engine, migrate=False
    )
    # Every hostile post must become an item on screen, whatever triage thinks of it.
    app.state.pipeline.hooks.triage = None
    now = datetime.now(UTC)
    events = [
        InboundEvent(
            channel="x",
            external_id=f"hostile-{i}",
            text=text,
            created_at=now - timedelta(minutes=i + 1),
            author=Party(
                id=f"attacker-{i}",
                handle=f"@attacker{i}",
                name=HOSTILE_NAMES[i % len(HOSTILE_NAMES)],
            ),
        )
        for i, text in enumerate(HOSTILE)
    ]
    app.state.pipeline.ingest(workspace.id, events, source="hostile")
    add_user(session_factory, workspace, "sam@acme.test", "supervisor", "Sam Supervisor")
    return app


def _assert_nothing_ran(page: Any, viewport: dict[str, int]) -> None:
    assert page.evaluate("() => window.__pwned === undefined"), page.evaluate(
        "() => window.__pwned"
    )
    assert page.evaluate("() => document.querySelectorAll('script').length") == 1
    for selector in ("iframe", "img", "a[href^='javascript']", "base", "meta[http-equiv]", "style"):
        assert page.query_selector_all(f"main {selector}") == [], selector
    assert page.query_selector_all("main .social svg, main .social div") == []
    assert page.evaluate("() => getComputedStyle(document.body).display") != "none"
    assert page.is_visible(".topbar")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"the page overflows: {width}px wide"


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "escaping-alone"])
@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 800}, {"width": 390, "height": 844}],
    ids=["desk", "phone"],
)
def test_hostile_posts_neither_execute_nor_break_the_layout(
    browser: Any,
    hostile_app: FastAPI,
    session_factory: sessionmaker[Session],
    bypass_csp: bool,
    viewport: dict[str, int],
) -> None:
    with session_factory() as s:
        conversation_ids = list(s.scalars(select(Conversation.id).order_by(Conversation.id)))
        long_case = s.scalars(
            select(Message.conversation_id).where(Message.text == LONG_WORD)
        ).one()
    assert len(conversation_ids) == len(HOSTILE)
    with serve(hostile_app) as base:
        context = browser.new_context(viewport=viewport, bypass_csp=bypass_csp)
        dialogs: list[str] = []
        try:
            page = context.new_page()

            def refuse(dialog: Any) -> None:
                dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", refuse)
            page.goto(f"{base}/login")
            page.fill("input[name=email]", "sam@acme.test")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.goto(f"{base}/console?scope=all")
            assert len(page.query_selector_all(".item[data-id]")) == len(HOSTILE)
            page.hover(".item:nth-child(11)")
            _assert_nothing_ran(page, viewport)
            text = page.inner_text("main")
            assert "<script>window.__pwned" in text and "{{ 7*7 }}" in text
            for item in page.query_selector_all(".item"):
                box = item.bounding_box()
                assert box is not None and box["x"] + box["width"] <= viewport["width"]
            if not bypass_csp:
                page.screenshot(path=screenshot_path(f"hostile-inbox-{viewport['width']}.png"))
            for cid in conversation_ids:
                page.goto(f"{base}/console/c/{cid}")
                _assert_nothing_ran(page, viewport)
                # The case's own controls stay in place, whatever direction the post forces.
                head = page.query_selector(".case-head h1")
                assert head is not None and head.inner_text() == f"Case {cid}"
            page.goto(f"{base}/console/c/{long_case}")
            assert LONG_WORD in page.inner_text(".timeline .inbound .text")
            if not bypass_csp:
                page.screenshot(
                    path=screenshot_path(f"hostile-long-word-{viewport['width']}.png"),
                    full_page=True,
                )
            assert dialogs == []
        finally:
            context.close()
