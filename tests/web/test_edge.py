"""Bad input at the edge: refused with a 4xx and its reason (or cleaned), never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.inbox import RawEvent
from socialdesk.config import Settings
from socialdesk.conversations.models import Message
from socialdesk.core.limits import MAX_DB_INT
from socialdesk.core.models import Workspace
from socialdesk.people.models import User
from socialdesk.web.app import create_app
from socialdesk.web.auth import create_user
from tests.web.test_read_api import bearer, seed

TOO_BIG = str(MAX_DB_INT + 1)


@pytest.fixture
def app_client(engine: Engine) -> Iterator[TestClient]:
    app = create_app(Settings(default_workspace="acme"), engine=engine, migrate=False)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def client(
    app_client: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> TestClient:
    app_client.headers.update(bearer(session_factory, workspace.id, "admin"))
    return app_client


def raw_event(external_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "channel": "x",
        "external_id": external_id,
        "author": {"id": "42", "handle": "@dana"} | fields.pop("author", {}),
        "text": "my router is down",
        "created_at": "2026-11-02T09:00:00Z",
    } | fields


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/conversations/{TOO_BIG}",
        f"/api/v1/customers/{TOO_BIG}",
        f"/api/v1/conversations?offset={TOO_BIG}",
        f"/api/v1/customers?offset={TOO_BIG}",
        f"/api/v1/conversations?customer_id={TOO_BIG}",
        f"/api/v1/conversations?customer_id=-{TOO_BIG}",
    ],
)
def test_integers_beyond_64_bits_are_refused_with_the_range(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 422, response.text
    assert str(MAX_DB_INT) in response.text


def test_a_merge_into_an_impossible_customer_id_is_refused(
    client: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    seed(session_factory, workspace.id)
    response = client.post("/api/v1/customers/1/merge", json={"into_customer_id": int(TOO_BIG)})
    assert response.status_code == 422
    assert "into_customer_id" in response.text


def test_a_date_that_leaves_the_calendar_in_utc_is_refused(client: TestClient) -> None:
    response = client.get(
        "/api/v1/channel-stats",
        params={"since": "0001-01-01T00:00:00+14:00", "until": "2026-01-01T00:00:00Z"},
    )
    assert response.status_code == 400
    assert "out of the range" in response.json()["detail"]


def test_nul_in_a_url_is_refused(client: TestClient) -> None:
    response = client.get("/api/v1/customers", params={"q": "\x00"})
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


def test_nul_in_a_json_body_is_refused_and_nothing_is_stored(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    response = client.post("/api/v1/events", json=[raw_event("1", text="router\x00down")])
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]
    with session_factory() as s:
        assert s.scalars(select(RawEvent)).all() == []


def test_an_escaped_backslash_before_u0000_is_ordinary_text(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    response = client.post("/api/v1/events", json=[raw_event("1", text="C:\\u0000 path")])
    assert response.status_code == 202, response.text
    assert client.app.state.dispatcher.drain.wait_idle(30)  # type: ignore[attr-defined]
    with session_factory() as s:
        assert s.scalars(select(Message.text)).one() == "C:\\u0000 path"


def test_a_lone_surrogate_is_refused_with_a_readable_answer(client: TestClient) -> None:
    body = json.dumps([raw_event("1", text="x\ud83dy")])  # ensure_ascii keeps the escape
    response = client.post(
        "/api/v1/events", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "unicode" in response.text


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"author": {"followers": 10**30}}, "less than or equal"),
        ({"metrics": {"likes": 10**30}}, "less than or equal"),
        ({"created_at": "0001-01-01T00:00:00Z"}, "before 1970"),
    ],
)
def test_events_that_could_never_be_processed_are_refused_at_once(
    client: TestClient, session_factory: sessionmaker[Session], fields: dict[str, Any], reason: str
) -> None:
    response = client.post("/api/v1/events", json=[raw_event("1", **fields)])
    assert response.status_code == 422
    assert reason in response.text
    with session_factory() as s:
        assert s.scalars(select(RawEvent)).all() == []


def test_the_events_api_refuses_bodies_over_one_mebibyte(client: TestClient) -> None:
    big = [raw_event(str(i), text="x" * 9_000) for i in range(120)]
    response = client.post("/api/v1/events", json=big)
    assert response.status_code == 413
    assert "1048576" in response.json()["detail"]


def test_every_kind_of_response_carries_security_headers(app_client: TestClient) -> None:
    for url in ("/health", "/docs", "/openapi.json", "/api/v1/conversations", "/webhooks/x/1"):
        response = app_client.get(url)
        assert response.headers["x-content-type-options"] == "nosniff", url
        assert response.headers["x-frame-options"] == "DENY", url
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], url
        assert "cdn" not in response.headers["content-security-policy"], url  # all served here
        assert "strict-transport-security" not in response.headers, url
    console = app_client.get("/login")
    assert "script-src 'self';" in console.headers["content-security-policy"]


def test_hsts_is_sent_over_https(engine: Engine) -> None:
    app = create_app(Settings(default_workspace="acme"), engine=engine, migrate=False)
    with TestClient(app, base_url="https://testserver") as secure:
        assert "max-age=" in secure.get("/health").headers["strict-transport-security"]


def test_an_agent_token_cannot_set_someone_elses_presence(
    client: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        admin = create_user(s, workspace.id, "ada@acme.test", "Ada", "long password 1", "admin")
        s.commit()
    agent = bearer(session_factory, workspace.id, "agent")
    url = f"/api/v1/agents/{admin.id}/presence"
    refused = client.put(url, json={"presence": "online"}, headers=agent)
    assert refused.status_code == 403
    with session_factory() as s:
        assert s.get(User, admin.id).presence != "online"  # type: ignore[union-attr]
    supervisor = bearer(session_factory, workspace.id, "supervisor")
    assert client.put(url, json={"presence": "online"}, headers=supervisor).status_code == 204
