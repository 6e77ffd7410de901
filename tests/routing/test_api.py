"""The routing and policy API, and distribution wired into the app and the pipeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.events import InboundEvent
from socialdesk.config import Settings
from socialdesk.core.db import make_session_factory
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task
from socialdesk.web.api_tokens import create_token
from socialdesk.web.app import create_app
from tests.routing.factories import agent, assignee, task, team


def app_for(engine: Engine, workspace: Workspace) -> FastAPI:
    return create_app(Settings(default_workspace=workspace.slug), engine=engine, migrate=False)


def client_for(engine: Engine, workspace: Workspace, role: str = "admin") -> TestClient:
    """An integration of the workspace with an API token of ``role``."""
    with make_session_factory(engine)() as s:
        token = create_token(s, workspace.id, f"{role} integration", role)
        s.commit()
    client = TestClient(app_for(engine, workspace))
    client.headers.update({"Authorization": f"Bearer {token.secret}"})
    return client


def complaint(external_id: str, author: str) -> InboundEvent:
    return InboundEvent.model_validate(
        {
            "channel": "x",
            "external_id": external_id,
            "author": {"id": author, "handle": author, "followers": 900},
            "text": "My internet has been down since this morning, this is unacceptable",
            "created_at": datetime.now(UTC) - timedelta(minutes=1),
        }
    )


def test_an_inbound_message_reaches_the_online_agent_at_once(
    engine: Engine, workspace: Workspace
) -> None:
    factory = make_session_factory(engine)
    online = agent(factory, workspace.id, "Online")
    agent(factory, workspace.id, "Away", presence="away")
    app = app_for(engine, workspace)
    _, result = app.state.pipeline.ingest(workspace.id, [complaint("1", "dana")])
    assert len(result.tasks_changed) == 1
    task_id = result.tasks_changed[0]
    assert assignee(factory, task_id) == online
    with factory() as s:
        row = s.get(Task, task_id)
        assert row is not None
        assert row.value_score > 0 and row.due_at is not None
        assert row.kind is not None  # the triage result was read


def test_presence_through_the_api_triggers_distribution(
    engine: Engine, workspace: Workspace
) -> None:
    factory = make_session_factory(engine)
    later = agent(factory, workspace.id, "Later", presence="offline")
    waiting = task(factory, workspace.id)
    client = client_for(engine, workspace)
    assert (
        client.put(f"/api/v1/agents/{later}/presence", json={"presence": "online"}).status_code
        == 204
    )
    assert assignee(factory, waiting) == later
    bad = client.put(f"/api/v1/agents/{later}/presence", json={"presence": "asleep"})
    assert bad.status_code == 400 and "presence must be one of" in bad.json()["detail"]
    listed = client.get("/api/v1/agents").json()
    assert listed[0]["presence"] == "online" and listed[0]["load"] == {"x": 1}


def test_policies_are_read_and_replaced_and_bad_ones_refused(
    engine: Engine, workspace: Workspace
) -> None:
    client = client_for(engine, workspace)
    assert (
        client_for(engine, workspace, "agent").put("/api/v1/policies", json={}).status_code == 403
    )
    defaults = client.get("/api/v1/policies").json()
    assert defaults["value"]["weights"]["customer_value"] == 20.0
    assert defaults["sla"]["rules"][0] == {
        "channel": "x",
        "kind": None,
        "min_priority": None,
        "first_response_minutes": 30.0,
        "next_response_minutes": 60.0,
    }
    changed = client.put(
        "/api/v1/policies",
        json={"value": {"weights": {"influence": 50}}, "routing": {"sticky": False}},
    )
    assert changed.status_code == 200
    assert changed.json()["value"]["weights"]["influence"] == 50
    refused = client.put("/api/v1/policies", json={"sla": {"warning_fractions": [2]}})
    assert refused.status_code == 400
    assert "SLA policy" in refused.json()["detail"]
    assert client.get("/api/v1/policies").json()["routing"]["sticky"] is False


def test_agents_pick_transfer_and_release_through_the_api(
    engine: Engine, workspace: Workspace, session_factory: sessionmaker[Session]
) -> None:
    a = agent(session_factory, workspace.id, "A", presence="away")
    b = agent(session_factory, workspace.id, "B", presence="away")
    t = task(session_factory, workspace.id, priority=40)
    with session_factory() as s:
        sales = team(s, workspace.id, "Sales", "sales")
        s.commit()
    client = client_for(engine, workspace)
    assert [i["task_id"] for i in client.get(f"/api/v1/agents/{a}/team-list").json()] == [t]
    nameless = client.post(f"/api/v1/tasks/{t}/assign-to-me", json={})
    assert nameless.status_code == 400  # an integration must name the acting agent
    assert client.post(f"/api/v1/tasks/{t}/assign-to-me", json={"user_id": a}).status_code == 204
    again = client.post(f"/api/v1/tasks/{t}/assign-to-me", json={"user_id": b})
    assert again.status_code == 409
    assert client.post(f"/api/v1/tasks/{t}/transfer", json={"user_id": b}).status_code == 204
    assert assignee(session_factory, t) == b
    assert client.post(f"/api/v1/tasks/{t}/release", json={"user_id": a}).status_code == 409
    assert client.post(f"/api/v1/tasks/{t}/transfer", json={"team_id": sales}).status_code == 204
    with session_factory() as s:
        row = s.scalars(select(Task).where(Task.id == t)).one()
        assert (row.status, row.queue, row.team_id, row.assignee_id) == (
            "open",
            "sales",
            sales,
            None,
        )
    assert client.post(f"/api/v1/tasks/{t}/wait-on-customer").status_code == 204
    assert client.post(f"/api/v1/tasks/{t}/resume-clock").status_code == 204
    assert client.post("/api/v1/tasks/999999/wait-on-customer").status_code == 404
    neither = client.post(f"/api/v1/tasks/{t}/transfer", json={})
    assert neither.status_code == 400
    assert client.get("/api/v1/routing/notifications").json() == []


def test_a_full_agent_is_told_why_and_may_take_one_more_once(
    engine: Engine, workspace: Workspace, session_factory: sessionmaker[Session]
) -> None:
    a = agent(session_factory, workspace.id, "A", capacity={"x": 1}, presence="away")
    held_task, first, second = (task(session_factory, workspace.id) for _ in range(3))
    client = client_for(engine, workspace)
    take = f"/api/v1/tasks/{held_task}/assign-to-me"
    assert client.post(take, json={"user_id": a}).status_code == 204
    full = client.post(f"/api/v1/tasks/{first}/assign-to-me", json={"user_id": a})
    assert full.status_code == 409
    assert "no free x slot (1 of 1 in use)" in full.json()["detail"]
    body = {"user_id": a, "exceed_capacity": True}
    assert client.post(f"/api/v1/tasks/{first}/assign-to-me", json=body).status_code == 204
    assert assignee(session_factory, first) == a
    twice = client.post(f"/api/v1/tasks/{second}/assign-to-me", json=body)
    assert twice.status_code == 409
    assert "already holds one x item over capacity" in twice.json()["detail"]
