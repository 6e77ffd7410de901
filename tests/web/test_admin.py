"""Admin and supervisor screens: people, skills, teams, canned replies, articles, weights."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.models import Workspace
from socialdesk.core.work import Task
from socialdesk.people.models import Team, User
from socialdesk.priority.service import load_policies
from tests.web.conftest import START, sign_in
from tests.web.factories import make_case


def test_an_admin_manages_canned_replies_and_articles(client: TestClient, admin: User) -> None:
    token = sign_in(client, admin.email)
    client.post(
        "/admin/canned",
        data={
            "csrf_token": token,
            "shortcut": "late",
            "title": "Late delivery",
            "body": "Hi {customer_name}, your parcel is on its way.",
        },
    )
    bad = client.post(
        "/admin/kb",
        data={"csrf_token": token, "title": "Evil", "url": "javascript:alert(1)"},
    )
    assert bad.status_code == 400 and "http(s) URL" in bad.text
    client.post(
        "/admin/kb",
        data={
            "csrf_token": token,
            "title": "Track a parcel",
            "url": "https://help.acme.test/track",
            "tags": "delivery, parcel",
        },
    )
    assert "/late" in client.get("/admin/canned").text
    page = client.get("/admin/kb").text
    assert "Track a parcel" in page and "delivery, parcel" in page


def test_an_admin_sets_an_agents_role_teams_skills_and_capacity(
    client: TestClient,
    admin: User,
    agent: User,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    token = sign_in(client, admin.email)
    client.post("/admin/teams", data={"csrf_token": token, "name": "Sales", "kind": "sales"})
    with session_factory() as s:
        sales = s.scalars(select(Team).where(Team.name == "Sales")).one()
    response = client.post(
        f"/admin/agents/{agent.id}",
        data={
            "csrf_token": token,
            "role": "supervisor",
            "active": "on",
            "team_ids": [str(sales.id)],
            "routing_languages": "en, es",
            "routing_topics": "billing",
            "routing_tiers": "",
            "routing_capacity": "x=2, email=4",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    with session_factory() as s:
        stored = s.get(User, agent.id)
        assert stored is not None
        assert stored.role == "supervisor"
        assert stored.languages == ["en", "es"] and stored.topics == ["billing"]
        assert stored.capacity == {"x": 2, "email": 4}
    bad = client.post(
        f"/admin/agents/{agent.id}",
        data={"csrf_token": token, "role": "agent", "active": "on", "routing_capacity": "x=lots"},
    )
    assert bad.status_code == 400


def test_an_admin_says_per_team_whether_answered_items_hold_a_slot(
    client: TestClient,
    admin: User,
    supervisor: User,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    token = sign_in(client, admin.email)
    client.post("/admin/teams", data={"csrf_token": token, "name": "Back office", "kind": "care"})
    with session_factory() as s:
        team = s.scalars(select(Team).where(Team.name == "Back office")).one()
    page = client.get("/admin/teams").text
    assert f'action="/admin/teams/{team.id}/capacity"' in page and "hold a slot" in page
    on = {"csrf_token": token, "waiting_holds_slot": "true"}
    assert client.post(f"/admin/teams/{team.id}/capacity", data=on).status_code == 200
    with session_factory() as s:
        assert s.get(Team, team.id).settings["waiting_holds_slot"] is True  # type: ignore[union-attr]
    client.post(f"/admin/teams/{team.id}/capacity", data={"csrf_token": token})
    with session_factory() as s:
        assert s.get(Team, team.id).settings["waiting_holds_slot"] is False  # type: ignore[union-attr]
    assert client.post("/admin/teams/999999/capacity", data=on).status_code == 404
    client.cookies.clear()
    token = sign_in(client, supervisor.email)
    on["csrf_token"] = token
    assert client.post(f"/admin/teams/{team.id}/capacity", data=on).status_code == 403


def test_an_admin_cannot_lock_themselves_out(client: TestClient, admin: User) -> None:
    token = sign_in(client, admin.email)
    response = client.post(
        f"/admin/agents/{admin.id}", data={"csrf_token": token, "role": "agent", "active": "on"}
    )
    assert response.status_code == 409


def test_a_supervisor_changes_value_weights_and_open_work_is_rescored(
    client: TestClient,
    supervisor: User,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    with session_factory() as s:
        make_case(s, workspace.id, text="my bill", at=START, followers=1_000_000)
        s.commit()
    token = sign_in(client, supervisor.email)
    page = client.get("/admin/weights").text
    assert 'data-weight="influence"' in page
    client.post("/admin/weights", data={"csrf_token": token, "influence": "0"})
    with session_factory() as s:
        assert load_policies(s, workspace.id).value.weights.influence == 0
        without = s.scalars(select(Task)).one().value_score
    client.post("/admin/weights", data={"csrf_token": token, "influence": "90"})
    with session_factory() as s:
        with_influence = s.scalars(select(Task)).one().value_score
    assert with_influence > without
    bad = client.post("/admin/weights", data={"csrf_token": token, "influence": "-3"})
    assert bad.status_code == 400


def test_service_levels_and_taxonomies_are_shown(client: TestClient, supervisor: User) -> None:
    sign_in(client, supervisor.email)
    assert "first response" in client.get("/admin/sla").text
    assert "billing" in client.get("/admin/taxonomies").text


def test_the_customer_panel_gathers_the_whole_person(
    client: TestClient, agent: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        conv, _, _ = make_case(
            s,
            workspace.id,
            text="@AcmeCare @dana_friend my router died",
            at=START,
            name="Grace",
            tier="gold",
            followers=12_345,
        )
        s.commit()
    sign_in(client, agent.email)
    page = client.get(f"/console/c/{conv.id}").text
    assert "Grace" in page and "12,345" in page and ">gold<" in page
    # Handles in the text are not people: the brand and unknown handles are not listed.
    assert "@acmecare" not in page.lower().replace("@acmecare @dana_friend", "")
    assert "People they talk with" not in page
    assert f"Case {conv.id}" in page


def test_an_agent_sets_their_presence(
    client: TestClient, agent: User, session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, agent.email)
    client.post("/console/presence", data={"csrf_token": token, "status": "online"})
    with session_factory() as s:
        stored = s.get(User, agent.id)
        assert stored is not None and stored.presence == "online"
    assert (
        client.post("/console/presence", data={"csrf_token": token, "status": "asleep"}).status_code
        == 422
    )


def test_a_relabel_is_stored_for_learning_and_moves_marketing_out_of_care(
    client: TestClient, agent: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    from socialdesk.conversations.action_models import CaseEvent
    from socialdesk.triage.models import TriageLabelRow

    with session_factory() as s:
        conv, _, message = make_case(s, workspace.id, text="use code SAVE10!", at=START)
        s.commit()
    token = sign_in(client, agent.email)
    client.post(
        f"/console/c/{conv.id}/relabel",
        data={
            "csrf_token": token,
            "message_id": str(message.id),
            "sentiment": "positive",
            "verdict": "marketing",
        },
    )
    with session_factory() as s:
        event = s.scalars(select(CaseEvent).where(CaseEvent.kind == "relabel")).one()
        assert event.data == {
            "message_id": message.id,
            "sentiment": "positive",
            "verdict": "marketing",
        }
        assert event.actor_user_id == agent.id
        labels = {
            (row.task, row.label, row.created_by) for row in s.scalars(select(TriageLabelRow))
        }
        assert labels == {
            ("sentiment", "positive", agent.id),
            ("kind", "marketing", agent.id),
            ("needs_response", "no", agent.id),
        }
        assert s.scalars(select(Task)).one().queue == "marketing"
    empty = client.post(
        f"/console/c/{conv.id}/relabel", data={"csrf_token": token, "message_id": str(message.id)}
    )
    assert empty.status_code == 400


def test_an_admin_chooses_the_sector_taxonomy(client: TestClient, admin: User) -> None:
    token = sign_in(client, admin.email)
    client.post("/admin/taxonomies", data={"csrf_token": token, "name": "airline"})
    page = client.get("/admin/taxonomies").text
    assert "<option selected>airline</option>" in page
    assert "lost_baggage" in page or "baggage" in page


def test_an_admin_edits_the_service_level_policy(
    client: TestClient, admin: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    import json

    token = sign_in(client, admin.email)
    with session_factory() as s:
        policy = load_policies(s, workspace.id).sla.to_dict()
    policy["default_first_response_minutes"] = 45
    saved = client.post(
        "/admin/sla",
        data={"csrf_token": token, "policy": json.dumps(policy)},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    with session_factory() as s:
        assert load_policies(s, workspace.id).sla.to_dict()["default_first_response_minutes"] == 45
    broken = client.post("/admin/sla", data={"csrf_token": token, "policy": "{not json"})
    assert broken.status_code == 400 and "not valid JSON" in broken.text
    unknown = client.post("/admin/sla", data={"csrf_token": token, "policy": '{"surprise": 1}'})
    assert unknown.status_code == 400
    with session_factory() as s:
        assert load_policies(s, workspace.id).sla.to_dict()["default_first_response_minutes"] == 45
