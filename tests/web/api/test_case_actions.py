"""What an agent does to a case, over the API: each operation works, refuses a caller without
the right, keeps the workspace wall (another workspace's case is 404) and says what is wrong
with bad input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.models import ChannelShift, OutboxItem
from socialdesk.conversations.action_models import CaseEvent, Note, Snooze
from socialdesk.conversations.models import Conversation, Message
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task, TaskStatus
from socialdesk.knowledge.service import save_canned_reply
from socialdesk.people.models import Team, User
from socialdesk.triage.models import TriageLabelRow as TriageLabel
from tests.web.api.conftest import Client
from tests.web.conftest import START, add_user
from tests.web.factories import make_case

Token = Callable[[Workspace, str], TestClient]


def _case(
    factory: sessionmaker[Session], workspace: Workspace, **kwargs: Any
) -> tuple[int, int, int]:
    """A case waiting in the workspace: (conversation id, task id, message id)."""
    with factory() as s:
        conv, task, message = make_case(
            s, workspace.id, text=kwargs.pop("text", "my bill is wrong"), at=START, **kwargs
        )
        s.commit()
        return conv.id, task.id, message.id


def _task(factory: sessionmaker[Session], task_id: int) -> Task:
    with factory() as s:
        task = s.get(Task, task_id)
        assert task is not None
        s.expunge(task)
        return task


def _events(factory: sessionmaker[Session], conversation_id: int) -> list[str]:
    with factory() as s:
        return list(
            s.scalars(
                select(CaseEvent.kind)
                .where(CaseEvent.conversation_id == conversation_id)
                .order_by(CaseEvent.id)
            )
        )


@pytest.fixture
def case(session_factory: sessionmaker[Session], workspace: Workspace) -> tuple[int, int, int]:
    return _case(session_factory, workspace)


@pytest.fixture
def foreign_case(
    session_factory: sessionmaker[Session], other_workspace: Workspace
) -> tuple[int, int, int]:
    return _case(session_factory, other_workspace, text="their case, not ours")


# -- reply -------------------------------------------------------------------------------------


def test_reply_goes_out_on_the_case_channel_publicly_or_privately(
    as_user: Client,
    agent: User,
    case: tuple[int, int, int],
    session_factory: sessionmaker[Session],
) -> None:
    cid, _, _ = case
    client = as_user(agent)
    public = client.post(f"/api/v1/conversations/{cid}/reply", json={"text": "Sorry, Dana!"})
    assert public.status_code == 201, public.text
    body = public.json()
    assert body["status"] == "pending" and body["task"]["status"] == "pending"
    private = client.post(
        f"/api/v1/conversations/{cid}/reply",
        json={"text": "Your account number, please?", "visibility": "private"},
    )
    assert private.status_code == 201, private.text
    with session_factory() as s:
        sent = s.scalars(
            select(Message).where(Message.direction == "outbound").order_by(Message.id)
        ).all()
        assert [(m.text, m.visibility) for m in sent] == [
            ("Sorry, Dana!", "public"),
            ("Your account number, please?", "private"),
        ]
        assert sent[0].id == body["message_id"]
        items = s.scalars(select(OutboxItem)).all()
        assert {i.author_user_id for i in items} == {agent.id}


def test_reply_refusals_wall_and_bad_input(
    as_user: Client,
    with_token: Token,
    agent: User,
    workspace: Workspace,
    case: tuple[int, int, int],
    foreign_case: tuple[int, int, int],
) -> None:
    cid, _, _ = case
    client = as_user(agent)
    url = f"/api/v1/conversations/{cid}/reply"
    # An agent's API token belongs to no person and may not act for one.
    token = with_token(workspace, "agent")
    refused = token.post(url, json={"text": "hi", "user_id": agent.id})
    assert refused.status_code == 403 and "cannot act for a person" in refused.json()["detail"]
    assert token.post(url, json={"text": "hi"}).status_code == 400
    assert (
        client.post(
            f"/api/v1/conversations/{foreign_case[0]}/reply", json={"text": "x"}
        ).status_code
        == 404
    )
    empty = client.post(url, json={"text": "   "})
    assert empty.status_code == 400 and "empty" in empty.json()["detail"]
    wrong = client.post(url, json={"text": "hi", "visibility": "shout"})
    assert wrong.status_code == 422 and "visibility" in wrong.text
    no_article = client.post(url, json={"text": "hi", "kb_article_id": 999})
    assert no_article.status_code == 404 and "knowledge article" in no_article.json()["detail"]


def test_a_supervisor_token_replies_as_the_agent_it_names(
    with_token: Token,
    agent: User,
    workspace: Workspace,
    case: tuple[int, int, int],
    session_factory: sessionmaker[Session],
) -> None:
    cid, _, _ = case
    token = with_token(workspace, "supervisor")
    done = token.post(
        f"/api/v1/conversations/{cid}/reply", json={"text": "On it", "user_id": agent.id}
    )
    assert done.status_code == 201, done.text
    with session_factory() as s:
        assert s.scalars(select(OutboxItem.author_user_id)).one() == agent.id


# -- shift ---------------------------------------------------------------------------------------


def test_shift_to_dm_and_email_with_a_reason(
    as_user: Client,
    agent: User,
    case: tuple[int, int, int],
    session_factory: sessionmaker[Session],
) -> None:
    cid, _, _ = case
    client = as_user(agent)
    url = f"/api/v1/conversations/{cid}/shift"
    dm = client.post(url, json={"action": "dm", "reason": "account data"})
    assert dm.status_code == 200, dm.text
    email = client.post(
        url, json={"action": "email", "reason": "invoice copy", "detail": "dana@example.com"}
    )
    assert email.status_code == 200, email.text
    with session_factory() as s:
        shifts = s.scalars(select(ChannelShift).order_by(ChannelShift.id)).all()
        assert [(x.reason) for x in shifts] == ["account data", "invoice copy"]
    assert _events(session_factory, cid) == ["shift to dm", "shift to email"]


def test_shift_refusals_wall_and_bad_input(
    as_user: Client,
    agent: User,
    supervisor: User,
    case: tuple[int, int, int],
    foreign_case: tuple[int, int, int],
) -> None:
    cid, _, _ = case
    client = as_user(agent)
    url = f"/api/v1/conversations/{cid}/shift"
    other = client.post(url, json={"action": "dm", "reason": "x", "user_id": supervisor.id})
    assert other.status_code == 403 and "only supervisors" in other.json()["detail"]
    walled = client.post(
        f"/api/v1/conversations/{foreign_case[0]}/shift", json={"action": "dm", "reason": "x"}
    )
    assert walled.status_code == 404
    no_reason = client.post(url, json={"action": "dm", "reason": ""})
    assert no_reason.status_code == 422 and "reason" in no_reason.text
    no_address = client.post(url, json={"action": "email", "reason": "invoice"})
    assert no_address.status_code == 400 and "e-mail address" in no_address.json()["detail"]
    fax = client.post(url, json={"action": "fax", "reason": "old school"})
    assert fax.status_code == 422


# -- note ----------------------------------------------------------------------------------------


def test_note_with_a_mention(
    as_user: Client,
    agent: User,
    supervisor: User,
    case: tuple[int, int, int],
    foreign_case: tuple[int, int, int],
    session_factory: sessionmaker[Session],
) -> None:
    cid, _, _ = case
    client = as_user(agent)
    done = client.post(f"/api/v1/conversations/{cid}/notes", json={"text": "@sam look at this"})
    assert done.status_code == 201, done.text
    with session_factory() as s:
        note = s.get(Note, done.json()["note_id"])
        assert note is not None and note.mentioned_user_ids == [supervisor.id]
        assert note.author_user_id == agent.id
    assert (
        client.post(
            f"/api/v1/conversations/{foreign_case[0]}/notes", json={"text": "x"}
        ).status_code
        == 404
    )
    assert client.post(f"/api/v1/conversations/{cid}/notes", json={"text": "  "}).status_code == 400
    too_long = client.post(f"/api/v1/conversations/{cid}/notes", json={"text": "x" * 10_001})
    assert too_long.status_code == 422
    as_other = client.post(
        f"/api/v1/conversations/{cid}/notes", json={"text": "x", "user_id": supervisor.id}
    )
    assert as_other.status_code == 403


# -- relabel -------------------------------------------------------------------------------------


def test_relabel_teaches_triage_and_acts_on_the_work(
    as_user: Client,
    agent: User,
    case: tuple[int, int, int],
    session_factory: sessionmaker[Session],
) -> None:
    cid, _tid, mid = case
    client = as_user(agent)
    url = f"/api/v1/conversations/{cid}/relabel"
    done = client.post(url, json={"message_id": mid, "kind": "complaint", "topic": "billing"})
    assert done.status_code == 200, done.text
    with session_factory() as s:
        labels = {(x.task, x.label) for x in s.scalars(select(TriageLabel))}
        assert {("kind", "complaint"), ("topic", "billing")} <= labels
    marketing = client.post(url, json={"message_id": mid, "verdict": "marketing"})
    assert marketing.json()["task"]["queue"] == "marketing"
    assert _events(session_factory, cid)[-1] == "moved"


def test_relabel_refusals_wall_and_bad_input(
    as_user: Client,
    with_token: Token,
    agent: User,
    workspace: Workspace,
    case: tuple[int, int, int],
    foreign_case: tuple[int, int, int],
) -> None:
    cid, _, mid = case
    client = as_user(agent)
    url = f"/api/v1/conversations/{cid}/relabel"
    token = with_token(workspace, "agent")
    assert (
        token.post(url, json={"message_id": mid, "kind": "x", "user_id": agent.id}).status_code
        == 403
    )
    foreign_cid, _, foreign_mid = foreign_case
    walled = client.post(
        f"/api/v1/conversations/{foreign_cid}/relabel",
        json={"message_id": foreign_mid, "kind": "x"},
    )
    assert walled.status_code == 404
    # A message of another workspace named on our case is not found either.
    assert client.post(url, json={"message_id": foreign_mid, "kind": "x"}).status_code == 404
    nothing = client.post(url, json={"message_id": mid})
    assert nothing.status_code == 400 and "at least one label" in nothing.json()["detail"]
    assert client.post(url, json={"message_id": mid, "sentiment": "angry"}).status_code == 422


# -- assign and transfer --------------------------------------------------------------------------


def test_assign_takes_the_work_and_a_colleague_cannot_take_it_too(
    as_user: Client,
    agent: User,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    case: tuple[int, int, int],
) -> None:
    cid, tid, _ = case
    bo = add_user(session_factory, workspace, "bo@acme.test", "agent", "Bo")
    done = as_user(agent).post(f"/api/v1/conversations/{cid}/assign", json={})
    assert done.status_code == 200, done.text
    assert done.json()["task"] == {
        "id": tid,
        "status": "assigned",
        "assignee_id": agent.id,
        "team_id": None,
        "queue": "care",
    }
    taken = as_user(bo).post(f"/api/v1/conversations/{cid}/assign", json={})
    assert taken.status_code == 409 and "already taken by Ana Agent" in taken.json()["detail"]
    assert _events(session_factory, cid) == ["assigned"]


def test_assign_refusals_wall_and_bad_input(
    as_user: Client,
    agent: User,
    supervisor: User,
    outsider: User,
    case: tuple[int, int, int],
    foreign_case: tuple[int, int, int],
) -> None:
    cid, _, _ = case
    client = as_user(agent)
    url = f"/api/v1/conversations/{cid}/assign"
    assert client.post(url, json={"user_id": supervisor.id}).status_code == 403
    assert (
        client.post(f"/api/v1/conversations/{foreign_case[0]}/assign", json={}).status_code == 404
    )
    # A supervisor cannot hand our case to a person of another workspace.
    assert as_user(supervisor).post(url, json={"user_id": outsider.id}).status_code == 404
    assert client.post(url, json={"exceed_capacity": "sometimes"}).status_code == 422
    assert client.post("/api/v1/conversations/0/assign", json={}).status_code == 422


def test_transfer_to_a_colleague_or_a_team(
    as_user: Client,
    agent: User,
    supervisor: User,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    case: tuple[int, int, int],
) -> None:
    cid, tid, _ = case
    bo = add_user(session_factory, workspace, "bo@acme.test", "agent", "Bo")
    client = as_user(agent)
    client.post(f"/api/v1/conversations/{cid}/assign", json={})
    to_bo = client.post(f"/api/v1/conversations/{cid}/transfer", json={"to_user_id": bo.id})
    assert to_bo.status_code == 200, to_bo.text
    assert to_bo.json()["task"]["assignee_id"] == bo.id
    with session_factory() as s:
        team = s.scalars(select(Team).where(Team.workspace_id == workspace.id)).first()
        assert team is not None
        team_id = team.id
    to_team = as_user(supervisor).post(
        f"/api/v1/conversations/{cid}/transfer", json={"to_team_id": team_id}
    )
    assert to_team.status_code == 200, to_team.text
    task = _task(session_factory, tid)
    assert task.assignee_id is None and task.team_id == team_id
    assert task.status == TaskStatus.OPEN
    assert _events(session_factory, cid) == ["assigned", "transferred", "transferred"]


def test_transfer_refusals_wall_and_bad_input(
    as_user: Client,
    with_token: Token,
    agent: User,
    outsider: User,
    workspace: Workspace,
    other_workspace: Workspace,
    session_factory: sessionmaker[Session],
    case: tuple[int, int, int],
    foreign_case: tuple[int, int, int],
) -> None:
    cid, _, _ = case
    client = as_user(agent)
    url = f"/api/v1/conversations/{cid}/transfer"
    token = with_token(workspace, "agent")
    assert token.post(url, json={"to_user_id": agent.id, "user_id": agent.id}).status_code == 403
    assert (
        client.post(
            f"/api/v1/conversations/{foreign_case[0]}/transfer", json={"to_user_id": agent.id}
        ).status_code
        == 404
    )
    # Nor to a person or a team of the other workspace.
    assert client.post(url, json={"to_user_id": outsider.id}).status_code == 404
    with session_factory() as s:
        theirs = Team(workspace_id=other_workspace.id, name="Their care", kind="care", settings={})
        s.add(theirs)
        s.commit()
        their_team = theirs.id
    assert client.post(url, json={"to_team_id": their_team}).status_code == 404
    both = client.post(url, json={"to_user_id": agent.id, "to_team_id": their_team})
    assert both.status_code == 400 and "exactly one" in both.json()["detail"]
    assert client.post(url, json={}).status_code == 400


# -- snooze, resolve, reopen ----------------------------------------------------------------------


def test_snooze_resolve_and_reopen(
    as_user: Client,
    agent: User,
    case: tuple[int, int, int],
    session_factory: sessionmaker[Session],
) -> None:
    cid, _tid, _ = case
    client = as_user(agent)
    snoozed = client.post(f"/api/v1/conversations/{cid}/snooze", json={"minutes": 90})
    assert snoozed.status_code == 200, snoozed.text
    assert snoozed.json()["snoozed_until"].startswith("2026-11-23T10:30")
    resolved = client.post(f"/api/v1/conversations/{cid}/resolve")
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved" and resolved.json()["snoozed_until"] is None
    assert resolved.json()["task"]["status"] == TaskStatus.DONE
    reopened = client.post(f"/api/v1/conversations/{cid}/reopen", json={})
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["status"] == "open"
    assert reopened.json()["task"]["assignee_id"] == agent.id
    assert _events(session_factory, cid) == ["snoozed", "resolved", "reopened"]
    with session_factory() as s:
        assert s.scalars(select(Snooze)).all() == []
        conv = s.get(Conversation, cid)
        assert conv is not None and conv.resolved_at is None


def test_snooze_resolve_reopen_refusals_wall_and_bad_input(
    as_user: Client,
    with_token: Token,
    agent: User,
    supervisor: User,
    workspace: Workspace,
    case: tuple[int, int, int],
    foreign_case: tuple[int, int, int],
) -> None:
    cid, _, _ = case
    client = as_user(agent)
    token = with_token(workspace, "agent")
    for action, body in (("snooze", {"minutes": 5}), ("resolve", {}), ("reopen", {})):
        walled = client.post(f"/api/v1/conversations/{foreign_case[0]}/{action}", json=body)
        assert walled.status_code == 404, action
        as_other = client.post(
            f"/api/v1/conversations/{cid}/{action}", json={**body, "user_id": supervisor.id}
        )
        assert as_other.status_code == 403, action
        nobody = token.post(f"/api/v1/conversations/{cid}/{action}", json=body)
        assert nobody.status_code == 400 and "user_id" in nobody.json()["detail"], action
    url = f"/api/v1/conversations/{cid}/snooze"
    assert client.post(url, json={}).status_code == 400
    assert client.post(url, json={"minutes": 0}).status_code == 422
    past = client.post(url, json={"until": (START - timedelta(hours=1)).isoformat()})
    assert past.status_code == 400 and "future" in past.json()["detail"]
    not_resolved = client.post(f"/api/v1/conversations/{cid}/reopen")
    assert not_resolved.status_code == 409 and "not resolved" in not_resolved.json()["detail"]


# -- canned replies filled in for a case ----------------------------------------------------------


def test_a_canned_reply_filled_in_for_the_case(
    as_user: Client,
    with_token: Token,
    agent: User,
    workspace: Workspace,
    other_workspace: Workspace,
    session_factory: sessionmaker[Session],
    case: tuple[int, int, int],
    foreign_case: tuple[int, int, int],
) -> None:
    cid, _, _ = case
    with session_factory() as s:
        ours = save_canned_reply(
            s,
            workspace_id=workspace.id,
            shortcut="hi",
            title="Hi",
            body="Hi {customer_name} ({customer_handle}), {agent_name} here about #{case_id}.",
        )
        theirs = save_canned_reply(
            s, workspace_id=other_workspace.id, shortcut="hi", title="Hi", body="x"
        )
        s.commit()
        ours_id, theirs_id = ours.id, theirs.id
    client = as_user(agent)
    filled = client.get(f"/api/v1/conversations/{cid}/canned-replies/{ours_id}")
    assert filled.status_code == 200, filled.text
    text = filled.json()["text"]
    assert text.startswith("Hi Dana (@dana") and f"Ana Agent here about #{cid}." in text
    token = with_token(workspace, "agent")
    refused = token.get(
        f"/api/v1/conversations/{cid}/canned-replies/{ours_id}", params={"user_id": agent.id}
    )
    assert refused.status_code == 403
    walled = client.get(f"/api/v1/conversations/{foreign_case[0]}/canned-replies/{ours_id}")
    assert walled.status_code == 404
    assert client.get(f"/api/v1/conversations/{cid}/canned-replies/{theirs_id}").status_code == 404
    assert client.get(f"/api/v1/conversations/{cid}/canned-replies/0").status_code == 422


# -- mentions ----------------------------------------------------------------------------------


def test_mentions_are_listed_and_marked_read(
    as_user: Client,
    with_token: Token,
    agent: User,
    supervisor: User,
    outsider: User,
    workspace: Workspace,
    case: tuple[int, int, int],
) -> None:
    cid, _, _ = case
    boss = as_user(supervisor)
    for n in range(3):
        boss.post(f"/api/v1/conversations/{cid}/notes", json={"text": f"@ana look {n}"})
    client = as_user(agent)
    first = client.get("/api/v1/mentions", params={"limit": 2}).json()
    assert first["total"] == 3 and len(first["items"]) == 2
    rest = client.get("/api/v1/mentions", params={"limit": 2, "cursor": first["next_cursor"]})
    assert len(rest.json()["items"]) == 1 and rest.json()["next_cursor"] is None
    assert first["items"][0]["conversation_id"] == cid
    assert client.post("/api/v1/mentions/read").status_code == 204
    assert client.get("/api/v1/mentions").json()["items"] == []
    assert len(client.get("/api/v1/mentions", params={"unread": False}).json()["items"]) == 3
    # The supervisor has none; an agent's token reads nobody's; the wall holds.
    assert boss.get("/api/v1/mentions").json()["total"] == 0
    token = with_token(workspace, "agent")
    assert token.get("/api/v1/mentions", params={"user_id": agent.id}).status_code == 403
    walled = boss.get("/api/v1/mentions", params={"user_id": outsider.id})
    assert walled.status_code == 404
    forged = client.get("/api/v1/mentions", params={"cursor": "abc"})
    assert forged.status_code == 400 and "cursor" in forged.json()["detail"]
