"""Each action of the console and its API twin call the same service function: one path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels import accounts as channel_accounts
from socialdesk.conversations import actions, canned, replies, shift
from socialdesk.core.models import Workspace
from socialdesk.knowledge import service as knowledge_service
from socialdesk.people.models import Team, User
from socialdesk.priority import service as priority_service
from socialdesk.routing import cases
from socialdesk.routing import service as routing_service
from socialdesk.triage import corrections
from socialdesk.triage import service as triage_service
from tests.channels.helpers import add_account
from tests.web.api.conftest import Client
from tests.web.conftest import START, sign_in
from tests.web.factories import make_case


def watch_calls(
    monkeypatch: pytest.MonkeyPatch,
    module: object,
    name: str,
    about: Callable[[tuple[Any, ...], dict[str, Any]], Any],
) -> list[Any]:
    """Let the service run as it is, noting what each call was about."""
    calls: list[Any] = []
    original: Callable[..., Any] = getattr(module, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(about(args, kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return calls


# action: (module, function, console form, API body); {team} and {message} are filled in.
ACTIONS: dict[str, tuple[object, str, dict[str, str], dict[str, Any]]] = {
    "reply": (replies, "reply_to_case", {"text": "Sorry!"}, {"text": "Sorry!"}),
    "shift": (
        shift,
        "shift_channel",
        {"action": "dm", "reason": "account data"},
        {"action": "dm", "reason": "account data"},
    ),
    "note": (actions, "add_note", {"text": "checked"}, {"text": "checked"}),
    "relabel": (
        corrections,
        "relabel",
        {"message_id": "{message}", "kind": "complaint"},
        {"message_id": "{message}", "kind": "complaint"},
    ),
    "assign": (cases, "assign_case", {}, {}),
    "transfer": (cases, "transfer_case", {"target": "t:{team}"}, {"to_team_id": "{team}"}),
    "snooze": (actions, "snooze", {"minutes": "60"}, {"minutes": 60}),
    "resolve": (actions, "resolve", {}, {}),
    "reopen": (actions, "reopen", {}, {}),
}
# Where the API twin lives, when it is not /api/v1/conversations/{id}/<action>.
API_PATHS = {"note": "notes"}


def _fill(values: dict[str, Any], team: int, message: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value == "{team}":
            out[key] = team
        elif value == "{message}":
            out[key] = message
        elif isinstance(value, str):
            out[key] = value.format(team=team, message=message)
        else:
            out[key] = value
    return out


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_console_and_api_call_the_same_service(
    action: str,
    api: Any,
    as_user: Client,
    agent: User,
    workspace: Workspace,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module, name, form, body = ACTIONS[action]
    with session_factory() as s:
        team = s.scalars(select(Team.id).where(Team.workspace_id == workspace.id)).first()
        assert team is not None
        made = [make_case(s, workspace.id, text="my bill is wrong", at=START) for _ in range(2)]
        if action == "reopen":
            for conv, _, _ in made:
                actions.resolve(s, workspace_id=workspace.id, conversation_id=conv.id, actor=None)  # type: ignore[arg-type]
        s.commit()
        ids = [(conv.id, message.id) for conv, _, message in made]

    calls = watch_calls(
        monkeypatch, module, name, lambda args, kwargs: int(kwargs["conversation_id"])
    )

    (console_case, console_message), (api_case, api_message) = ids
    console = TestClient(api, base_url="https://testserver")
    csrf = sign_in(console, agent.email)
    done = console.post(
        f"/console/c/{console_case}/{action}",
        data={**_fill(form, team, console_message), "csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    twin = as_user(agent).post(
        f"/api/v1/conversations/{api_case}/{API_PATHS.get(action, action)}",
        json=_fill(body, team, api_message),
    )
    assert twin.status_code in (200, 201), twin.text
    assert calls == [console_case, api_case]


def test_presence_from_the_console_and_the_api_takes_one_path(
    api: Any,
    as_user: Client,
    agent: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = watch_calls(monkeypatch, routing_service, "set_presence", lambda args, kwargs: args[3])
    console = TestClient(api, base_url="https://testserver")
    csrf = sign_in(console, agent.email)
    done = console.post(
        "/console/presence", data={"status": "away", "csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    twin = as_user(agent).put(f"/api/v1/agents/{agent.id}/presence", json={"presence": "online"})
    assert twin.status_code == 204, twin.text
    assert calls == ["away", "online"]


# action: (module, function, console path and form, API method, path and body)
ADMIN_ACTIONS: dict[str, tuple[object, str, str, dict[str, str], str, str, Any]] = {
    "value weights": (
        priority_service,
        "set_value_weights",
        "/admin/weights",
        {"influence": "30"},
        "PUT",
        "/api/v1/value-weights",
        {"weights": {"influence": 30}},
    ),
    "sla policy": (
        priority_service,
        "change_policies",
        "/admin/sla",
        {"policy": '{"default_first_response_minutes": 60}'},
        "PUT",
        "/api/v1/sla-policy",
        {"default_first_response_minutes": 60},
    ),
    "team": (
        routing_service,
        "add_team",
        "/admin/teams",
        {"name": "Billing", "kind": "care"},
        "POST",
        "/api/v1/teams",
        {"name": "Sales desk", "kind": "sales"},
    ),
    "taxonomy": (
        triage_service,
        "configure",
        "/admin/taxonomies",
        {"name": "telecom"},
        "PUT",
        "/api/v1/taxonomy",
        {"name": "retail"},
    ),
    "canned reply": (
        knowledge_service,
        "save_canned_reply",
        "/admin/canned",
        {"shortcut": "hi", "title": "Hi", "body": "Hello"},
        "POST",
        "/api/v1/canned-replies",
        {"shortcut": "bye", "title": "Bye", "body": "Goodbye"},
    ),
    "article": (
        knowledge_service,
        "save_article",
        "/admin/kb",
        {"title": "Reset", "url": "https://help.example/reset"},
        "POST",
        "/api/v1/kb-articles",
        {"title": "Bills", "url": "https://help.example/bills"},
    ),
}


@pytest.mark.parametrize("action", sorted(ADMIN_ACTIONS))
def test_admin_screen_and_api_call_the_same_service(
    action: str,
    api: Any,
    as_user: Client,
    admin: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module, name, page, form, method, path, body = ADMIN_ACTIONS[action]
    calls = watch_calls(monkeypatch, module, name, lambda args, kwargs: name)
    console = TestClient(api, base_url="https://testserver")
    csrf = sign_in(console, admin.email)
    done = console.post(page, data={**form, "csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert calls == [name]
    twin = as_user(admin).request(method, path, json=body)
    assert twin.status_code in (200, 201), twin.text
    assert calls == [name, name]


def test_agent_capacity_from_the_admin_screen_and_the_api_takes_one_path(
    api: Any, as_user: Client, admin: User, agent: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = watch_calls(
        monkeypatch, routing_service, "set_skills", lambda args, kwargs: kwargs["capacity"]
    )
    console = TestClient(api, base_url="https://testserver")
    csrf = sign_in(console, admin.email)
    form = {"role": "agent", "active": "on", "routing_capacity": "x=2", "csrf_token": csrf}
    done = console.post(f"/admin/agents/{agent.id}", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    twin = as_user(admin).put(f"/api/v1/agents/{agent.id}/skills", json={"capacity": {"x": 4}})
    assert twin.status_code == 204, twin.text
    assert calls == [{"x": 2}, {"x": 4}]


def test_team_membership_from_the_admin_screen_and_the_api_takes_one_path(
    api: Any,
    as_user: Client,
    admin: User,
    agent: User,
    workspace: Workspace,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with session_factory() as s:
        team = s.scalars(select(Team.id).where(Team.workspace_id == workspace.id)).first()
    calls = watch_calls(
        monkeypatch, routing_service, "set_teams", lambda args, kwargs: list(args[3])
    )
    console = TestClient(api, base_url="https://testserver")
    csrf = sign_in(console, admin.email)
    form = {"role": "agent", "active": "on", "team_ids": str(team), "csrf_token": csrf}
    done = console.post(f"/admin/agents/{agent.id}", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    twin = as_user(admin).put(f"/api/v1/agents/{agent.id}/teams", json={"team_ids": []})
    assert twin.status_code == 204, twin.text
    assert calls == [[team], []]


def test_a_canned_reply_for_the_composer_and_the_api_takes_one_path(
    api: Any,
    as_user: Client,
    agent: User,
    workspace: Workspace,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with session_factory() as s:
        conv, _, _ = make_case(s, workspace.id, text="my bill is wrong", at=START)
        reply = knowledge_service.save_canned_reply(
            s, workspace_id=workspace.id, shortcut="hi", title="Hi", body="Hi {customer_name}"
        )
        s.commit()
        cid, rid = conv.id, reply.id
    calls = watch_calls(
        monkeypatch, canned, "fill_canned_reply", lambda args, kwargs: kwargs["conversation_id"]
    )
    console = TestClient(api, base_url="https://testserver")
    sign_in(console, agent.email)
    composer = console.get(f"/console/c/{cid}/canned/{rid}")
    twin = as_user(agent).get(f"/api/v1/conversations/{cid}/canned-replies/{rid}")
    assert composer.json() == twin.json() == {"text": "Hi Dana"}
    assert calls == [cid, cid]


def test_marking_mentions_read_from_the_console_and_the_api_takes_one_path(
    api: Any, as_user: Client, agent: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = watch_calls(
        monkeypatch, actions, "mark_notifications_read", lambda args, kwargs: kwargs["user"].id
    )
    console = TestClient(api, base_url="https://testserver")
    csrf = sign_in(console, agent.email)
    done = console.post(
        "/console/notifications/read", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    assert as_user(agent).post("/api/v1/mentions/read").status_code == 204
    assert calls == [agent.id, agent.id]


def test_a_channel_account_toggled_from_the_admin_screen_and_the_api_takes_one_path(
    api: Any,
    as_user: Client,
    admin: User,
    workspace: Workspace,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = add_account(session_factory, workspace.id, "x").id
    calls = watch_calls(monkeypatch, channel_accounts, "set_active", lambda args, kwargs: args[2])
    console = TestClient(api, base_url="https://testserver")
    csrf = sign_in(console, admin.email)
    done = console.post(
        f"/admin/channels/{account}/toggle", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    twin = as_user(admin).put(f"/api/v1/channel-accounts/{account}", json={"active": True})
    assert twin.status_code == 200, twin.text
    assert calls == [account, account]
