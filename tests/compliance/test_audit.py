"""The audit log: every admin change, sign-in and GDPR action is recorded with who, when,
before and after; admins read, filter and export it; nobody else can."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.config import Settings
from socialdesk.core.audit import AuditEvent
from socialdesk.core.models import Workspace
from socialdesk.customers.models import Customer
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.people.models import User
from socialdesk.routing.service import add_to_team, create_team
from socialdesk.web.api_tokens import create_token
from socialdesk.web.app import create_app
from tests.ingest.factories import event
from tests.web.conftest import add_user, csrf_of, sign_in


@pytest.fixture
def site(engine: Engine) -> Iterator[TestClient]:
    """The whole app, console and API, over https (the session cookie is Secure)."""
    app = create_app(Settings(default_workspace="acme"), engine=engine, migrate=False)
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def _token(factory: sessionmaker[Session], workspace_id: int, role: str, name: str) -> str:
    with factory() as s:
        token = create_token(s, workspace_id, name, role)
        s.commit()
    return token.secret


def _events(factory: sessionmaker[Session], action: str) -> list[AuditEvent]:
    with factory() as s:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return list(s.scalars(query))


def test_a_role_change_in_the_console_is_recorded_with_who_before_and_after(
    site: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    admin = add_user(session_factory, workspace, "ada@acme.test", "admin")
    agent = add_user(session_factory, workspace, "ana@acme.test", "agent")
    csrf = sign_in(site, admin.email)
    response = site.post(
        f"/admin/agents/{agent.id}",
        data={"csrf_token": csrf, "role": "supervisor", "active": "on"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    (change,) = [e for e in _events(session_factory, "user.updated") if "role" in e.after]
    assert change.actor == "ada@acme.test" and change.actor_user_id == admin.id
    assert change.target_id == str(agent.id)
    assert (change.before["role"], change.after["role"]) == ("agent", "supervisor")


def test_sign_ins_are_recorded_whether_they_succeed_or_fail(
    site: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    admin = add_user(session_factory, workspace, "ada@acme.test", "admin")
    form = site.get("/login").text
    site.post(
        "/login",
        data={
            "workspace": "acme",
            "email": admin.email,
            "password": "wrong password!",
            "csrf_token": csrf_of(form),
        },
    )
    sign_in(site, admin.email)
    assert [e.actor for e in _events(session_factory, "signin.failed")] == [admin.email]
    assert [e.target_id for e in _events(session_factory, "signin.succeeded")] == [str(admin.id)]


def test_an_integration_changing_a_policy_is_named_by_its_token(
    site: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    secret = _token(session_factory, workspace.id, "admin", "crm-sync")
    response = site.put(
        "/api/v1/policies",
        json={"value": {"weights": {"customer_value": 40}}},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200, response.text
    (change,) = _events(session_factory, "policy.updated") or _events(
        session_factory, "policy.created"
    )
    assert change.actor == "token:crm-sync"
    assert "value" in change.after


def test_secrets_never_enter_the_log_and_routine_state_does_not_flood_it(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    _token(session_factory, workspace.id, "agent", "widget")
    user = add_user(session_factory, workspace, "ana@acme.test", "agent")
    with session_factory() as s:
        stored = s.get(User, user.id)
        assert stored is not None
        stored.presence = "online"  # agents come and go all day: not an admin change
        s.commit()
    (token,) = _events(session_factory, "token.created")
    assert token.after["token_hash"] == "[redacted]" and token.after["name"] == "widget"
    (created,) = _events(session_factory, "user.created")
    assert created.after["email"] == "ana@acme.test"
    assert not any("argon2" in str(v) for v in created.after.values())  # no password hash
    assert all("presence" not in e.after for e in _events(session_factory, "user.updated"))


def test_admins_filter_page_and_export_the_log(
    site: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    for n in range(5):
        add_user(session_factory, workspace, f"agent{n}@acme.test", "agent")
    headers = {"Authorization": f"Bearer {_token(session_factory, workspace.id, 'admin', 'ops')}"}
    first = site.get(
        "/api/v1/audit", params={"action": "user.created", "limit": 3}, headers=headers
    )
    assert first.status_code == 200
    page = first.json()
    assert [i["action"] for i in page["items"]] == ["user.created"] * 3
    rest = site.get(
        "/api/v1/audit",
        params={"action": "user.created", "limit": 3, "cursor": page["next_cursor"]},
        headers=headers,
    ).json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    ids = [i["id"] for i in page["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 5
    exported = site.get("/api/v1/audit/export", params={"action": "user"}, headers=headers)
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    # "user" is the family: created, and the skills routing gave each person.
    assert {r["action"] for r in rows} == {"user.created", "user.updated"}
    assert sum(r["action"] == "user.created" for r in rows) == 5
    assert exported.headers["content-type"].startswith("text/csv")


def test_only_admins_read_the_log(
    site: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    for role in ("agent", "supervisor"):
        secret = _token(session_factory, workspace.id, role, role)
        answer = site.get("/api/v1/audit", headers={"Authorization": f"Bearer {secret}"})
        assert answer.status_code == 403


def test_each_workspace_sees_only_its_own_log(
    site: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        other = Workspace(slug="globex", name="Globex")
        s.add(other)
        s.commit()
    add_user(session_factory, other, "gil@globex.test", "agent")
    secret = _token(session_factory, workspace.id, "admin", "ops")
    page = site.get("/api/v1/audit", headers={"Authorization": f"Bearer {secret}"}).json()
    assert all("globex" not in str(item) for item in page["items"])


def test_gdpr_export_and_erase_through_the_api_keep_to_the_workspace(
    site: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    Pipeline(session_factory).ingest(
        workspace.id, [event("1", "cust", text="my bill is wrong, call me on 0700 111")]
    )
    with session_factory() as s:
        other = Workspace(slug="globex", name="Globex")
        s.add(other)
        s.commit()
        other_id = other.id
    with session_factory() as s:
        customer_id = s.scalars(select(Customer.id)).one()
    admin = {"Authorization": f"Bearer {_token(session_factory, workspace.id, 'admin', 'dpo')}"}
    stranger = {"Authorization": f"Bearer {_token(session_factory, other_id, 'admin', 'x')}"}
    agent = {"Authorization": f"Bearer {_token(session_factory, workspace.id, 'agent', 'a')}"}
    url = f"/api/v1/customers/{customer_id}"
    assert site.get(f"{url}/export", headers=stranger).status_code == 404
    assert site.get(f"{url}/export", headers=agent).status_code == 403
    exported = site.get(f"{url}/export", headers=admin).json()
    assert "0700 111" in exported["cases"][0]["messages"][0]["text"]
    refused = site.post(f"{url}/erase", json={"confirm": "yes"}, headers=admin)
    assert refused.status_code == 422
    assert site.post(f"{url}/erase", json={"confirm": "ERASE"}, headers=stranger).status_code == 404
    erased = site.post(f"{url}/erase", json={"confirm": "ERASE", "reason": "#12"}, headers=admin)
    assert erased.status_code == 200 and erased.json()["messages"] == 1
    again = site.get(f"{url}/export", headers=admin).json()
    assert again["cases"][0]["messages"][0]["text"] == ""
    actions = [e.action for e in _events(session_factory, "customer.erased")]
    assert actions == ["customer.erased"]
    too_big = site.get("/api/v1/customers/99999999999999999999/export", headers=admin)
    assert too_big.status_code == 422


def test_retention_is_set_and_applied_through_the_api(
    site: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    admin = {"Authorization": f"Bearer {_token(session_factory, workspace.id, 'admin', 'ops')}"}
    assert site.post("/api/v1/retention/prune", headers=admin).status_code == 400
    bad = site.put("/api/v1/retention", json={"raw_payload_days": 0}, headers=admin)
    assert bad.status_code == 422
    ok = site.put("/api/v1/retention", json={"raw_payload_days": 30}, headers=admin)
    assert ok.json() == {"raw_payload_days": 30, "closed_case_days": None}
    assert site.get("/api/v1/retention", headers=admin).json()["raw_payload_days"] == 30
    pruned = site.post("/api/v1/retention/prune", headers=admin).json()
    assert pruned == {"raw_payloads": 0, "closed_cases": 0, "raw_events_of_cases": 0}
    (change,) = _events(session_factory, "retention.updated")
    assert change.actor == "token:ops" and change.after["raw_payload_days"] == 30


def test_moving_a_person_between_teams_is_recorded_with_the_teams_before_and_after(
    site: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    admin = add_user(session_factory, workspace, "ada@acme.test", "admin")
    agent = add_user(session_factory, workspace, "ana@acme.test", "agent")  # in Care
    with session_factory() as s:
        care, billing, sales = (
            create_team(s, workspace.id, name) for name in ("Care", "Billing", "Sales")
        )
        add_to_team(s, workspace.id, billing.id, agent.id)
        add_to_team(s, workspace.id, billing.id, agent.id)  # already a member: nothing new
        s.commit()
    added = [
        e for e in _events(session_factory, "team.member_added") if e.target_id == str(billing.id)
    ]
    assert [e.after for e in added] == [{"user": agent.id}]
    csrf = sign_in(site, admin.email)
    form = {"csrf_token": csrf, "role": "agent", "active": "on", "team_ids": [str(sales.id)]}
    response = site.post(f"/admin/agents/{agent.id}", data=form, follow_redirects=False)
    assert response.status_code == 303
    (moved,) = _events(session_factory, "user.teams_changed")
    assert moved.actor == "ada@acme.test" and moved.target_id == str(agent.id)
    assert moved.before == {"teams": sorted([care.id, billing.id])}
    assert moved.after == {"teams": [sales.id]}
    site.post(f"/admin/agents/{agent.id}", data=form, follow_redirects=False)
    assert len(_events(session_factory, "user.teams_changed")) == 1  # no change, no record
