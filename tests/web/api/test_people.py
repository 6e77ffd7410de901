"""People and the workspace over the API: an admin adds a person, changes their role or
switches them off, and renames the workspace; others are refused, the wall holds, and the
audit log records each change."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.audit import AuditEvent
from socialdesk.core.models import Workspace
from socialdesk.people.models import User
from socialdesk.web.auth import create_user
from tests.web.api.conftest import Client

Token = Callable[[Workspace, str], TestClient]


def _actions(factory: sessionmaker[Session], workspace: Workspace) -> list[str]:
    with factory() as s:
        query = select(AuditEvent.action).where(AuditEvent.workspace_id == workspace.id)
        return list(s.scalars(query))


def test_an_admin_adds_a_person_who_can_then_sign_in(
    as_user: Client,
    admin: User,
    supervisor: User,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    body = {"email": "Nia@Acme.test", "name": "Nia", "role": "agent", "password": "long-enough-1"}
    added = as_user(admin).post("/api/v1/people", json=body)
    assert added.status_code == 201, added.text
    person = added.json()
    assert (person["email"], person["role"], person["active"]) == ("nia@acme.test", "agent", True)
    assert "user.created" in _actions(session_factory, workspace)
    again = as_user(admin).post("/api/v1/people", json=body)
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    bad = as_user(admin).post("/api/v1/people", json={**body, "email": "nia", "role": "boss"})
    assert bad.status_code == 400 and "e-mail" in bad.json()["detail"]
    refused = as_user(supervisor).post("/api/v1/people", json={**body, "email": "x@acme.test"})
    assert refused.status_code == 403


def test_someone_of_another_workspace_joins_with_their_own_password(
    as_user: Client,
    admin: User,
    other_workspace: Workspace,
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as s:
        create_user(s, other_workspace.id, "sam@outsourcer.test", "Sam", "sams-own-password")
        s.commit()
    body = {"email": "sam@outsourcer.test", "name": "Sam", "role": "supervisor", "password": "x"}
    joined = as_user(admin).post("/api/v1/people", json=body)
    assert joined.status_code == 201 and joined.json()["role"] == "supervisor"


def test_an_admin_changes_a_role_and_switches_a_person_off(
    as_user: Client,
    admin: User,
    agent: User,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    promoted = as_user(admin).patch(f"/api/v1/people/{agent.id}", json={"role": "supervisor"})
    assert promoted.status_code == 200, promoted.text
    assert (promoted.json()["role"], promoted.json()["active"]) == ("supervisor", True)
    off = as_user(admin).patch(f"/api/v1/people/{agent.id}", json={"active": False})
    assert (off.json()["role"], off.json()["active"]) == ("supervisor", False)
    with session_factory() as s:
        changes = s.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "user.updated", AuditEvent.target_id == str(agent.id))
            .order_by(AuditEvent.id)
        ).all()
    role_or_active = [c.after for c in changes if {"role", "is_active"} & set(c.after)]
    assert role_or_active == [{"role": "supervisor"}, {"is_active": False}]
    self_demotion = as_user(admin).patch(f"/api/v1/people/{admin.id}", json={"role": "agent"})
    assert self_demotion.status_code == 409 and "yourself" in self_demotion.json()["detail"]
    unknown = as_user(admin).patch(f"/api/v1/people/{agent.id}", json={"role": "boss"})
    assert unknown.status_code == 400 and "role" in unknown.json()["detail"]


def test_people_of_another_workspace_are_out_of_reach(
    with_token: Token, agent: User, other_workspace: Workspace, as_user: Client
) -> None:
    theirs = with_token(other_workspace, "admin")
    assert theirs.patch(f"/api/v1/people/{agent.id}", json={"active": False}).status_code == 404
    assert (
        as_user(agent).patch(f"/api/v1/people/{agent.id}", json={"role": "admin"}).status_code
        == 403
    )


def test_an_admin_renames_the_workspace(
    as_user: Client,
    admin: User,
    supervisor: User,
    with_token: Token,
    workspace: Workspace,
    session_factory: sessionmaker[Session],
) -> None:
    assert as_user(admin).put("/api/v1/workspace", json={"name": "Acme Care"}).status_code == 204
    assert (
        with_token(workspace, "admin").put("/api/v1/workspace", json={"name": ""}).status_code
        == 422
    )
    assert as_user(supervisor).put("/api/v1/workspace", json={"name": "Mine"}).status_code == 403
    with session_factory() as s:
        renamed = s.get(Workspace, workspace.id)
        assert renamed is not None and renamed.name == "Acme Care"
