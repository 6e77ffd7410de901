"""The listening API: roles, the workspace wall, refused rules, the incident flow over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.config import Settings
from socialdesk.core.audit import AuditEvent
from socialdesk.core.models import Workspace
from socialdesk.people.models import User
from socialdesk.web.app import create_app
from tests.listening.conftest import post
from tests.web.test_read_api import bearer


@pytest.fixture
def app_client(engine: Engine, workspace: Workspace) -> Iterator[TestClient]:
    app = create_app(Settings(default_workspace="acme"), engine=engine, migrate=False)
    with TestClient(app) as client:
        yield client


def headers(factory: sessionmaker[Session], workspace: Workspace, role: str) -> dict[str, str]:
    return bearer(factory, workspace.id, role)


def test_rules_are_managed_by_admins_and_bad_ones_refused_with_the_reason(
    app_client: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    admin = headers(session_factory, workspace, "admin")
    supervisor = headers(session_factory, workspace, "supervisor")
    agent = headers(session_factory, workspace, "agent")
    body = {"name": "Brand", "terms": ["Acme", "acme fiber"], "hashtags": ["AcmeDown"]}
    assert (
        app_client.post("/api/v1/listening/rules", json=body, headers=supervisor).status_code == 403
    )
    created = app_client.post("/api/v1/listening/rules", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["hashtags"] == ["#acmedown"]
    assert app_client.get("/api/v1/listening/rules", headers=agent).status_code == 403
    assert [
        r["name"] for r in app_client.get("/api/v1/listening/rules", headers=supervisor).json()
    ] == ["Brand"]
    for bad, reason in (
        ({"name": "all", "terms": ["*"]}, "would match everything"),
        ({"name": "none"}, "would match everything"),
        ({"name": "re", "terms": ["/acme(/"]}, "not a valid pattern"),
    ):
        answer = app_client.post("/api/v1/listening/rules", json=bad, headers=admin)
        assert answer.status_code == 400 and reason in answer.json()["detail"], answer.text
    duplicate = app_client.post("/api/v1/listening/rules", json=body, headers=admin)
    assert duplicate.status_code == 409
    rule_id = created.json()["id"]
    paused = app_client.put(
        f"/api/v1/listening/rules/{rule_id}", json={**body, "active": False}, headers=admin
    )
    assert paused.json()["active"] is False
    assert app_client.delete(f"/api/v1/listening/rules/{rule_id}", headers=admin).status_code == 204
    with session_factory() as s:
        actions = s.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.target_type == "listening_rule")
            .order_by(AuditEvent.id)
        ).all()
    assert actions == [
        "listening_rule.created",
        "listening_rule.updated",
        "listening_rule.deleted",
    ]


def test_another_workspace_sees_none_of_it(
    app_client: TestClient,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    supervisor: User,
) -> None:
    admin = headers(session_factory, workspace, "admin")
    rule = app_client.post(
        "/api/v1/listening/rules", json={"name": "B", "terms": ["acme"]}, headers=admin
    )
    incident = app_client.post(
        "/api/v1/incidents",
        json={"title": "Outage", "hashtags": ["#acmedown"], "user_id": supervisor.id},
        headers=admin,
    )
    assert incident.status_code == 201
    with session_factory() as s:
        other = Workspace(slug="globex", name="Globex")
        s.add(other)
        s.commit()
        theirs = bearer(session_factory, other.id, "admin")
    assert (
        app_client.get(f"/api/v1/listening/rules/{rule.json()['id']}", headers=theirs).status_code
        == 404
    )
    assert app_client.get("/api/v1/listening/rules", headers=theirs).json() == []
    assert app_client.get("/api/v1/incidents", headers=theirs).json() == []
    mine = incident.json()["id"]
    assert app_client.get(f"/api/v1/incidents/{mine}", headers=theirs).status_code == 404
    refused = app_client.post(
        f"/api/v1/incidents/{mine}/bulk-reply",
        json={"template": "hi", "user_id": supervisor.id},
        headers=theirs,
    )
    assert refused.status_code == 404  # their admin cannot act for our supervisor either


def test_a_supervisor_runs_an_incident_over_the_api(
    app_client: TestClient,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    supervisor: User,
    x_account: int,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    app_client.app.state.pipeline.ingest(  # type: ignore[attr-defined]
        workspace.id,
        [post(i, f"no service again #AcmeDown ({i})", minutes=i, base=now) for i in range(3)],
    )
    token = headers(session_factory, workspace, "supervisor")
    assert (
        app_client.post(
            "/api/v1/incidents", json={"title": "Outage", "hashtags": ["AcmeDown"]}, headers=token
        ).status_code
        == 400
    )  # an integration must name the person acting
    opened = app_client.post(
        "/api/v1/incidents",
        json={"title": "Outage", "hashtags": ["AcmeDown"], "user_id": supervisor.id},
        headers=token,
    )
    assert opened.status_code == 201, opened.text
    incident_id = opened.json()["id"]
    detail = app_client.get(f"/api/v1/incidents/{incident_id}", headers=token).json()
    assert len(detail["messages"]) == 3 and detail["authors"] == 3
    sent = app_client.post(
        f"/api/v1/incidents/{incident_id}/bulk-reply",
        json={"template": "Sorry {customer_name}, fixing it", "user_id": supervisor.id},
        headers=token,
    ).json()
    assert len(sent["sent"]) == 3 and sent["failed"] == []
    again = app_client.post(
        f"/api/v1/incidents/{incident_id}/bulk-reply",
        json={"template": "Sorry", "user_id": supervisor.id},
        headers=token,
    ).json()
    assert again["sent"] == [] and len(again["skipped"]) == 3
    resolved = app_client.post(
        f"/api/v1/incidents/{incident_id}/resolve",
        json={"note": "fixed", "user_id": supervisor.id},
        headers=token,
    )
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolved_by_id"] == supervisor.id
    agent = headers(session_factory, workspace, "agent")
    assert app_client.get(f"/api/v1/incidents/{incident_id}", headers=agent).status_code == 403
    # The routing engine of the app found the half-hour-old posts late: SLA notes in the bell.
    bell = app_client.get("/api/v1/listening/bell", headers=token).json()
    assert bell["unacknowledged"] >= 1 and {i["source"] for i in bell["items"]} == {"sla"}
    first = bell["items"][0]
    acknowledged = app_client.post(
        f"/api/v1/listening/sla-notifications/{first['id']}/acknowledge",
        json={"user_id": supervisor.id},
        headers=token,
    )
    assert acknowledged.status_code == 204
    after = app_client.get("/api/v1/listening/bell", headers=token).json()
    assert after["unacknowledged"] == bell["unacknowledged"] - 1
    assert after["items"][0]["acknowledged_by"] == supervisor.name
    trends = app_client.get(
        "/api/v1/listening/trends",
        params={
            "since": (now - timedelta(hours=1)).isoformat(),
            "until": now.isoformat(),
            "by": "hashtag",
        },
        headers=token,
    ).json()
    assert trends["groups"][0]["group"] == "#acmedown" and trends["groups"][0]["total"] == 3
