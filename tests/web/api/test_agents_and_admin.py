"""Agents' presence and capacity, and the admin objects over the API (SLA policy, value
weights, teams, taxonomy, canned replies, knowledge articles): each works, refuses a caller
without the role, keeps the workspace wall and says what is wrong with bad input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.audit import AuditEvent
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task
from socialdesk.knowledge.models import CannedReply, KbArticle
from socialdesk.people.models import User
from tests.channels.helpers import add_account
from tests.web.api.conftest import Client
from tests.web.conftest import START
from tests.web.factories import make_case

Token = Callable[[Workspace, str], TestClient]


def _audit(factory: sessionmaker[Session], workspace: Workspace) -> list[str]:
    with factory() as s:
        return list(
            s.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.workspace_id == workspace.id)
                .order_by(AuditEvent.id)
            )
        )


# -- presence and capacity ------------------------------------------------------------------------


def test_presence_own_or_by_a_supervisor(
    as_user: Client,
    agent: User,
    supervisor: User,
    outsider: User,
    session_factory: sessionmaker[Session],
) -> None:
    mine = as_user(agent).put(f"/api/v1/agents/{agent.id}/presence", json={"presence": "online"})
    assert mine.status_code == 204, mine.text
    by_supervisor = as_user(supervisor).put(
        f"/api/v1/agents/{agent.id}/presence", json={"presence": "away"}
    )
    assert by_supervisor.status_code == 204
    with session_factory() as s:
        user = s.get(User, agent.id)
        assert user is not None and user.presence == "away"
    # An agent sets no one else's presence; another workspace's person is not found.
    refused = as_user(agent).put(
        f"/api/v1/agents/{supervisor.id}/presence", json={"presence": "offline"}
    )
    assert refused.status_code == 403
    walled = as_user(supervisor).put(
        f"/api/v1/agents/{outsider.id}/presence", json={"presence": "online"}
    )
    assert walled.status_code == 404
    bad = as_user(agent).put(f"/api/v1/agents/{agent.id}/presence", json={"presence": "busy"})
    assert bad.status_code == 400 and "online" in bad.json()["detail"]


def test_capacity_set_by_a_supervisor(
    as_user: Client,
    agent: User,
    supervisor: User,
    outsider: User,
    session_factory: sessionmaker[Session],
) -> None:
    url = f"/api/v1/agents/{agent.id}/skills"
    done = as_user(supervisor).put(url, json={"capacity": {"x": 2, "email": 6}})
    assert done.status_code == 204, done.text
    with session_factory() as s:
        user = s.get(User, agent.id)
        assert user is not None and user.capacity == {"x": 2, "email": 6}
    listed = as_user(agent).get("/api/v1/agents").json()
    assert next(a for a in listed if a["id"] == agent.id)["capacity"] == {"x": 2, "email": 6}
    assert as_user(agent).put(url, json={"capacity": {"x": 9}}).status_code == 403
    walled = as_user(supervisor).put(
        f"/api/v1/agents/{outsider.id}/skills", json={"capacity": {"x": 1}}
    )
    assert walled.status_code == 404
    fax = as_user(supervisor).put(url, json={"capacity": {"fax": 1}})
    assert fax.status_code == 400 and "unknown channel" in fax.json()["detail"]
    negative = as_user(supervisor).put(url, json={"capacity": {"x": -1}})
    assert negative.status_code == 400 and "0..1000" in negative.json()["detail"]


# -- service levels and value weights -------------------------------------------------------------


def test_sla_policy_is_replaced_by_an_admin_and_the_open_work_follows(
    as_user: Client,
    agent: User,
    supervisor: User,
    admin: User,
    workspace: Workspace,
    other_workspace: Workspace,
    with_token: Token,
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as s:
        _, task, _ = make_case(s, workspace.id, text="my bill is wrong", at=START, channel="x")
        s.commit()
        task_id = task.id
    policy = as_user(agent).get("/api/v1/sla-policy").json()
    x_rule = next(r for r in policy["rules"] if r["channel"] == "x")
    x_rule["first_response_minutes"] = 10.0
    refused = as_user(supervisor).put("/api/v1/sla-policy", json=policy)
    assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    done = as_user(admin).put("/api/v1/sla-policy", json=policy)
    assert done.status_code == 200, done.text
    with session_factory() as s:
        stored = s.get(Task, task_id)
        assert stored is not None and stored.due_at is not None
        assert stored.due_at - stored.waiting_since <= timedelta(minutes=10)
    assert {"policy.created", "policy.updated"} & set(_audit(session_factory, workspace))
    # The other workspace keeps its own service levels.
    theirs = with_token(other_workspace, "agent").get("/api/v1/sla-policy").json()
    assert next(r for r in theirs["rules"] if r["channel"] == "x")["first_response_minutes"] == 30
    bad = as_user(admin).put("/api/v1/sla-policy", json={"rules": "soon"})
    assert bad.status_code == 400 and "SLA" in bad.json()["detail"]


def test_value_weights_are_tuned_by_supervisors(
    as_user: Client,
    agent: User,
    supervisor: User,
    workspace: Workspace,
    other_workspace: Workspace,
    with_token: Token,
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as s:
        _, task, _ = make_case(s, workspace.id, text="my bill is wrong", at=START, value=0.0)
        s.commit()
        task_id = task.id
    before = as_user(agent).get("/api/v1/value-weights").json()["weights"]
    assert set(before) >= {"customer_value", "influence"}
    refused = as_user(agent).put("/api/v1/value-weights", json={"weights": {"influence": 1}})
    assert refused.status_code == 403
    done = as_user(supervisor).put("/api/v1/value-weights", json={"weights": {"influence": 50}})
    assert done.status_code == 200, done.text
    assert done.json()["weights"]["influence"] == 50
    assert done.json()["weights"]["customer_value"] == before["customer_value"]
    assert "policy.created" in _audit(session_factory, workspace)
    with session_factory() as s:
        rescored = s.get(Task, task_id)
        assert rescored is not None and rescored.value_score > 0  # scored again at once
    theirs = with_token(other_workspace, "agent").get("/api/v1/value-weights").json()
    assert theirs["weights"]["influence"] == before["influence"]
    unknown = as_user(supervisor).put("/api/v1/value-weights", json={"weights": {"luck": 1}})
    assert unknown.status_code == 400 and "no weight 'luck'" in unknown.json()["detail"]
    empty = as_user(supervisor).put("/api/v1/value-weights", json={"weights": {}})
    assert empty.status_code == 422


# -- teams ----------------------------------------------------------------------------------------


def test_teams_are_listed_to_everyone_and_added_by_admins(
    as_user: Client,
    agent: User,
    supervisor: User,
    admin: User,
    workspace: Workspace,
    other_workspace: Workspace,
    with_token: Token,
    session_factory: sessionmaker[Session],
) -> None:
    added = as_user(admin).post("/api/v1/teams", json={"name": "Billing", "kind": "care"})
    assert added.status_code == 201, added.text
    assert "team.created" in _audit(session_factory, workspace)
    listed = as_user(agent).get("/api/v1/teams").json()
    names = [t["name"] for t in listed["items"]]
    assert "Billing" in names and listed["total"] == len(names)
    care = next(t for t in listed["items"] if t["name"] != "Billing")
    assert agent.id in care["member_ids"]
    refused = as_user(supervisor).post("/api/v1/teams", json={"name": "Other", "kind": "care"})
    assert refused.status_code == 403
    theirs = with_token(other_workspace, "admin").get("/api/v1/teams").json()
    assert "Billing" not in [t["name"] for t in theirs["items"]]
    twice = as_user(admin).post("/api/v1/teams", json={"name": "Billing", "kind": "care"})
    assert twice.status_code == 409 and "exists already" in twice.json()["detail"]
    kind = as_user(admin).post("/api/v1/teams", json={"name": "Legal", "kind": "lawyers"})
    assert kind.status_code == 400 and "team kind" in kind.json()["detail"]


def test_an_admin_puts_a_person_in_teams(
    as_user: Client,
    agent: User,
    supervisor: User,
    admin: User,
    outsider: User,
    workspace: Workspace,
    other_workspace: Workspace,
    with_token: Token,
    session_factory: sessionmaker[Session],
) -> None:
    billing = as_user(admin).post("/api/v1/teams", json={"name": "Billing", "kind": "care"})
    team_id = billing.json()["id"]
    url = f"/api/v1/agents/{agent.id}/teams"
    done = as_user(admin).put(url, json={"team_ids": [team_id]})
    assert done.status_code == 204, done.text
    listed = as_user(agent).get("/api/v1/agents").json()
    assert next(a for a in listed if a["id"] == agent.id)["team_ids"] == [team_id]
    assert "user.teams_changed" in _audit(session_factory, workspace)
    assert as_user(supervisor).put(url, json={"team_ids": []}).status_code == 403
    # Nobody of another workspace, nor a team of another workspace.
    walled = as_user(admin).put(f"/api/v1/agents/{outsider.id}/teams", json={"team_ids": []})
    assert walled.status_code == 404
    theirs = with_token(other_workspace, "admin").post(
        "/api/v1/teams", json={"name": "Their care", "kind": "care"}
    )
    foreign = as_user(admin).put(url, json={"team_ids": [theirs.json()["id"]]})
    assert foreign.status_code == 404 and "no such team" in foreign.json()["detail"]
    assert as_user(admin).put(url, json={"team_ids": [0]}).status_code == 422


# -- taxonomy -------------------------------------------------------------------------------------


def test_taxonomy_is_chosen_or_written_by_admins(
    as_user: Client,
    agent: User,
    supervisor: User,
    admin: User,
    workspace: Workspace,
    other_workspace: Workspace,
    with_token: Token,
    session_factory: sessionmaker[Session],
) -> None:
    listed = as_user(agent).get("/api/v1/taxonomies", params={"limit": 3}).json()
    assert len(listed["items"]) == 3 and listed["next_cursor"]
    rest = (
        as_user(agent)
        .get("/api/v1/taxonomies", params={"limit": 100, "cursor": listed["next_cursor"]})
        .json()
    )
    names = [t["name"] for t in listed["items"] + rest["items"]]
    assert "telecom" in names and len(set(names)) == len(names) and rest["next_cursor"] is None
    assert as_user(supervisor).put("/api/v1/taxonomy", json={"name": "telecom"}).status_code == 403
    chosen = as_user(admin).put("/api/v1/taxonomy", json={"name": "telecom"})
    assert chosen.status_code == 200 and chosen.json()["name"] == "telecom"
    custom = as_user(admin).put(
        "/api/v1/taxonomy",
        json={"name": "acme", "topics": [{"id": "billing", "cues": ["bill"]}]},
    )
    assert custom.status_code == 200, custom.text
    assert as_user(agent).get("/api/v1/taxonomy").json()["topics"] == [
        {"id": "billing", "description": ""}
    ]
    assert _audit(session_factory, workspace).count("taxonomy.updated") == 2
    theirs = with_token(other_workspace, "agent").get("/api/v1/taxonomy").json()
    assert theirs["name"] != "acme"
    unknown = as_user(admin).put("/api/v1/taxonomy", json={"name": "astrology"})
    assert unknown.status_code == 400 and "unknown taxonomy" in unknown.json()["detail"]
    empty = as_user(admin).put("/api/v1/taxonomy", json={"name": "x", "topics": []})
    assert empty.status_code == 400 and "at least one topic" in empty.json()["detail"]


# -- canned replies and articles ------------------------------------------------------------------


def test_canned_replies_are_managed_by_admins(
    as_user: Client,
    agent: User,
    admin: User,
    other_workspace: Workspace,
    with_token: Token,
    session_factory: sessionmaker[Session],
) -> None:
    body = {"shortcut": "refund", "title": "Refund", "body": "Hi {customer_name}!"}
    created = as_user(admin).post("/api/v1/canned-replies", json=body)
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    changed = as_user(admin).put(f"/api/v1/canned-replies/{rid}", json={**body, "title": "Money"})
    assert changed.status_code == 200 and changed.json()["title"] == "Money"
    listed = as_user(agent).get("/api/v1/canned-replies").json()
    assert [c["shortcut"] for c in listed["items"]] == ["refund"]
    assert as_user(agent).post("/api/v1/canned-replies", json=body).status_code == 403
    assert as_user(agent).delete(f"/api/v1/canned-replies/{rid}").status_code == 403
    theirs = with_token(other_workspace, "admin")
    assert theirs.put(f"/api/v1/canned-replies/{rid}", json=body).status_code == 404
    assert theirs.delete(f"/api/v1/canned-replies/{rid}").status_code == 404
    assert theirs.get("/api/v1/canned-replies").json()["items"] == []
    bad = as_user(admin).post("/api/v1/canned-replies", json={**body, "shortcut": "Not OK"})
    assert bad.status_code == 400 and "shortcut" in bad.json()["detail"]
    twice = as_user(admin).post("/api/v1/canned-replies", json=body)
    assert twice.status_code == 409
    assert as_user(admin).delete(f"/api/v1/canned-replies/{rid}").status_code == 204
    with session_factory() as s:
        assert s.scalars(select(CannedReply)).all() == []


def test_knowledge_articles_are_managed_by_admins(
    as_user: Client,
    agent: User,
    admin: User,
    other_workspace: Workspace,
    with_token: Token,
    session_factory: sessionmaker[Session],
) -> None:
    body = {"title": "Reset your router", "url": "https://help.acme.example/reset"}
    created = as_user(admin).post("/api/v1/kb-articles", json={**body, "tags": ["Router"]})
    assert created.status_code == 201, created.text
    aid = created.json()["id"]
    assert created.json()["tags"] == ["router"]
    changed = as_user(admin).put(f"/api/v1/kb-articles/{aid}", json={**body, "published": False})
    assert changed.status_code == 200 and changed.json()["published"] is False
    assert [a["id"] for a in as_user(agent).get("/api/v1/kb-articles").json()["items"]] == [aid]
    assert as_user(agent).post("/api/v1/kb-articles", json=body).status_code == 403
    theirs = with_token(other_workspace, "admin")
    assert theirs.put(f"/api/v1/kb-articles/{aid}", json=body).status_code == 404
    assert theirs.delete(f"/api/v1/kb-articles/{aid}").status_code == 404
    script = as_user(admin).post("/api/v1/kb-articles", json={**body, "url": "javascript:x()"})
    assert script.status_code == 400 and "http(s)" in script.json()["detail"]
    assert as_user(admin).post("/api/v1/kb-articles", json={"title": "x"}).status_code == 422
    assert as_user(admin).delete(f"/api/v1/kb-articles/{aid}").status_code == 204
    with session_factory() as s:
        assert s.scalars(select(KbArticle)).all() == []


def test_cursor_pages_of_a_short_list_are_stable_and_refuse_a_forged_cursor(
    as_user: Client, admin: User
) -> None:
    for n in range(5):
        made = as_user(admin).post(
            "/api/v1/canned-replies", json={"shortcut": f"c{n}", "title": "t", "body": "b"}
        )
        assert made.status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = as_user(admin).get("/api/v1/canned-replies", params=params).json()
        seen += [c["shortcut"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["c0", "c1", "c2", "c3", "c4"]
    forged = as_user(admin).get("/api/v1/canned-replies", params={"cursor": "not-a-cursor"})
    assert forged.status_code == 400 and "cursor" in forged.json()["detail"]


# -- channel accounts ---------------------------------------------------------------------------


def test_an_admin_turns_a_channel_account_off_and_on(
    as_user: Client,
    supervisor: User,
    admin: User,
    workspace: Workspace,
    other_workspace: Workspace,
    session_factory: sessionmaker[Session],
) -> None:
    ours = add_account(session_factory, workspace.id, "x").id
    theirs = add_account(session_factory, other_workspace.id, "x").id
    client = as_user(admin)
    off = client.put(f"/api/v1/channel-accounts/{ours}", json={"active": False})
    assert off.status_code == 200, off.text
    assert off.json()["active"] is False
    assert "channel_account.updated" in _audit(session_factory, workspace)
    on = client.put(f"/api/v1/channel-accounts/{ours}", json={"active": True})
    assert on.json()["active"] is True
    refused = as_user(supervisor).put(f"/api/v1/channel-accounts/{ours}", json={"active": False})
    assert refused.status_code == 403
    walled = client.put(f"/api/v1/channel-accounts/{theirs}", json={"active": False})
    assert walled.status_code == 404
    assert (
        client.put(f"/api/v1/channel-accounts/{ours}", json={"active": "maybe"}).status_code == 422
    )
