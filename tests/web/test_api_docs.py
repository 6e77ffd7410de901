"""The API reference pages work without internet: every asset comes from our own origin."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from socialdesk.web.api_docs import inline_script_hashes
from tests.web.browser import serve


def test_the_api_page_loads_every_script_and_style_from_our_own_origin(product: FastAPI) -> None:
    with TestClient(product) as client:
        assert client.get("/redoc").status_code == 404  # its bundle would fetch from a CDN
        response = client.get("/docs")
        assert response.status_code == 200
        sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
        assert sources and all(s.startswith("/") for s in sources), sources
        for source in sources:
            assert client.get(source).status_code == 200, source
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-eval" not in policy
        assert all(h in policy for h in inline_script_hashes(response.text))


def test_the_favicon_is_our_own() -> None:
    from socialdesk.web.templating import STATIC_DIR

    app = FastAPI()
    from socialdesk.web.ui import install_ui

    install_ui(app)
    with TestClient(app) as client:
        icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.content == (STATIC_DIR / "favicon.svg").read_bytes()


@pytest.mark.browser
def test_swagger_ui_lists_the_operations_offline(browser: Any, product: FastAPI) -> None:
    with serve(product) as base:
        context = browser.new_context()
        elsewhere: list[str] = []

        def only_our_origin(route: Any) -> None:
            url = route.request.url
            if url.startswith(base) or url.startswith(("data:", "blob:")):
                route.continue_()
            else:  # as on a machine without internet
                elsewhere.append(url)
                route.abort()

        context.route("**/*", only_our_origin)
        problems: list[str] = []
        try:
            page = context.new_page()
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on(
                "console",
                lambda m: problems.append(m.text) if m.type == "error" else None,
            )
            page.goto(f"{base}/docs")
            # Swagger UI builds the page from /openapi.json in the browser: on a loaded
            # machine (two test suites beside it) that has taken over 15 s.
            page.wait_for_selector(".opblock-summary-path", timeout=60_000)
            paths = page.eval_on_selector_all(
                ".opblock-summary-path", "els => els.map(e => e.textContent.trim())"
            )
            assert "/api/v1/conversations" in "".join(paths).replace("\u200b", "")
            assert elsewhere == [] and problems == [], (elsewhere, problems)
        finally:
            context.close()
