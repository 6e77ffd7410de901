"""The first read API: health, docs, conversations, messages and customers, per workspace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.config import Settings
from socialdesk.core.models import Workspace
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.web.api_tokens import create_token, revoke_token
from socialdesk.web.app import create_app
from socialdesk.web.auth import create_user, start_session
from socialdesk.web.guard import CSRF_HEADER, SESSION_COOKIE
from tests.ingest.factories import event


def bearer(session_factory: sessionmaker[Session], workspace_id: int, role: str) -> dict[str, str]:
    with session_factory() as s:
        token = create_token(s, workspace_id, f"{role} integration", role)
        s.commit()
    return {"Authorization": f"Bearer {token.secret}"}


@pytest.fixture
def anonymous(engine: Engine) -> Iterator[TestClient]:
    app = create_app(Settings(default_workspace="acme"), engine=engine, migrate=False)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def client(
    anonymous: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> TestClient:
    """An admin integration of the workspace 'acme'."""
    anonymous.headers.update(bearer(session_factory, workspace.id, "admin"))
    return anonymous


@pytest.fixture
def other_workspace(session_factory: sessionmaker[Session]) -> Workspace:
    with session_factory() as s:
        ws = Workspace(slug="globex", name="Globex")
        s.add(ws)
        s.commit()
        return ws


def seed(session_factory: sessionmaker[Session], workspace_id: int) -> None:
    Pipeline(session_factory).ingest(
        workspace_id,
        [
            event("1", "cust", text="my bill is wrong", author_fields={"name": "Dana"}),
            event("2", "AcmeCare", minutes=5, reply_to="1", outbound=True, text="sorry!"),
            event("3", "fb-9", channel="facebook", minutes=10, text="where is my parcel"),
            event("4", "ig-3", channel="instagram", minutes=20, text="love it"),
        ],
    )


def test_health_and_openapi_docs(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert "/api/v1/conversations" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_conversations_are_paginated_and_filtered(
    client: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    seed(session_factory, workspace.id)
    page = client.get("/api/v1/conversations", params={"limit": 2}).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    rest = client.get("/api/v1/conversations", params={"limit": 2, "offset": 2}).json()
    assert len(rest["items"]) == 1
    pending = client.get("/api/v1/conversations", params={"status": "pending"}).json()
    assert [c["subject"] for c in pending["items"]] == ["my bill is wrong"]
    facebook = client.get("/api/v1/conversations", params={"channel": "facebook"}).json()
    assert [c["subject"] for c in facebook["items"]] == ["where is my parcel"]
    assert client.get("/api/v1/conversations", params={"status": "lost"}).status_code == 422


def test_a_conversation_lists_its_messages_in_time_order(
    client: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    seed(session_factory, workspace.id)
    case = client.get("/api/v1/conversations", params={"status": "pending"}).json()["items"][0]
    detail = client.get(f"/api/v1/conversations/{case['id']}").json()
    assert [t["key"] for t in detail["threads"]] == ["1"]
    messages = client.get(f"/api/v1/conversations/{case['id']}/messages").json()["items"]
    assert [(m["direction"], m["text"]) for m in messages] == [
        ("inbound", "my bill is wrong"),
        ("outbound", "sorry!"),
    ]
    outbound = client.get("/api/v1/messages", params={"direction": "outbound"}).json()
    assert outbound["total"] == 1


def test_customers_with_their_identities(
    client: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    seed(session_factory, workspace.id)
    found = client.get("/api/v1/customers", params={"q": "dana"}).json()
    assert [c["display_name"] for c in found["items"]] == ["Dana"]
    detail = client.get(f"/api/v1/customers/{found['items'][0]['id']}").json()
    assert [(i["channel"], i["handle"]) for i in detail["identities"]] == [("x", "cust")]


def test_customers_can_be_merged_explicitly(
    client: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    seed(session_factory, workspace.id)
    everyone = client.get("/api/v1/customers").json()["items"]
    dana, parcel = everyone[0]["id"], everyone[1]["id"]
    merged = client.post(f"/api/v1/customers/{parcel}/merge", json={"into_customer_id": dana})
    assert merged.status_code == 200
    assert {i["channel"] for i in merged.json()["identities"]} == {"x", "facebook"}
    cases = client.get("/api/v1/conversations", params={"customer_id": dana}).json()
    assert cases["total"] == 2
    again = client.post(f"/api/v1/customers/{parcel}/merge", json={"into_customer_id": dana})
    assert again.status_code == 400 and "already merged" in again.json()["detail"]


def test_every_read_is_scoped_to_the_callers_workspace(
    client: TestClient,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    other_workspace: Workspace,
) -> None:
    seed(session_factory, other_workspace.id)
    assert client.get("/api/v1/conversations").json()["total"] == 0
    theirs = bearer(session_factory, other_workspace.id, "agent")
    their_cases = client.get("/api/v1/conversations", headers=theirs).json()
    assert their_cases["total"] == 3
    case_id = their_cases["items"][0]["id"]
    assert client.get(f"/api/v1/conversations/{case_id}").status_code == 404
    assert client.get(f"/api/v1/conversations/{case_id}", headers=theirs).status_code == 200


def test_calls_without_valid_credentials_are_refused(
    anonymous: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    missing = anonymous.get("/api/v1/conversations")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    wrong = anonymous.get("/api/v1/conversations", headers={"Authorization": "Bearer sdk_nope"})
    assert wrong.status_code == 401
    with session_factory() as s:
        token = create_token(s, workspace.id, "old sync", "agent")
        revoke_token(s, workspace.id, token.id)
        s.commit()
    revoked = {"Authorization": f"Bearer {token.secret}"}
    assert anonymous.get("/api/v1/conversations", headers=revoked).status_code == 401


def test_roles_are_enforced(
    anonymous: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    seed(session_factory, workspace.id)
    agent = bearer(session_factory, workspace.id, "agent")
    supervisor = bearer(session_factory, workspace.id, "supervisor")
    assert anonymous.get("/api/v1/customers", headers=agent).status_code == 200
    merge = anonymous.post("/api/v1/customers/2/merge", json={"into_customer_id": 1}, headers=agent)
    assert merge.status_code == 403 and "supervisor" in merge.json()["detail"]
    push = anonymous.post("/api/v1/events", json=[], headers=supervisor)
    assert push.status_code == 403


def test_signed_in_people_use_the_api_with_their_session_and_csrf_token(
    anonymous: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        user = create_user(s, workspace.id, "sam@acme.example", "Sam", "s3cret-pass!", "supervisor")
        started = start_session(s, user)
        s.commit()
    anonymous.cookies.set(SESSION_COOKIE, started.token)
    assert anonymous.get("/api/v1/customers").status_code == 200
    body = {"into_customer_id": 1}
    refused = anonymous.post("/api/v1/customers/1/merge", json=body)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    allowed = anonymous.post(
        "/api/v1/customers/1/merge", json=body, headers={CSRF_HEADER: started.csrf_token}
    )
    assert allowed.status_code == 400  # past the checks: a customer cannot merge into itself


def test_events_pushed_over_http_are_stored_once_then_processed(client: TestClient) -> None:
    body = [
        event("p1", "cust", text="router down").model_dump(mode="json"),
        event("p1", "cust", text="router down").model_dump(mode="json"),
    ]
    first = client.post("/api/v1/events", json=body)
    assert first.status_code == 202 and first.json() == {"accepted": 1, "duplicates": 1}
    assert client.post("/api/v1/events", json=body[:1]).json() == {"accepted": 0, "duplicates": 1}
    # Processed after the answer, by the embedded drain's thread.
    assert client.app.state.dispatcher.drain.wait_idle(30)  # type: ignore[attr-defined]
    assert client.get("/api/v1/messages").json()["total"] == 1
    bad = client.post("/api/v1/events", json=[{"channel": "x"}])
    assert bad.status_code == 422


def test_events_a_stopped_server_left_pending_are_processed_when_it_starts_again(
    engine: Engine, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    # Stored and answered 202, but the process stopped before their round committed.
    pipeline = Pipeline(session_factory)
    left = pipeline.accept(workspace.id, [event("left1", "cust"), event("left2", "cust")])
    assert len(left.accepted) == 2
    app = create_app(Settings(default_workspace="acme"), engine=engine, migrate=False)
    with TestClient(app) as started:
        started.headers.update(bearer(session_factory, workspace.id, "admin"))
        assert app.state.dispatcher.drain.wait_idle(30)
        assert started.get("/api/v1/messages").json()["total"] == 2
