"""Every list reads on by an opaque cursor, in a stable order, within the caller's workspace;
the offsets that lists had keep working."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.models import DeadLetter
from socialdesk.core.models import Workspace
from socialdesk.core.pagination import NEXT_CURSOR_HEADER, decode_cursor, encode_cursor
from socialdesk.people.models import User
from socialdesk.routing.models import RoutingNotification
from tests.channels.helpers import add_account
from tests.web.api.conftest import Client
from tests.web.conftest import START
from tests.web.factories import make_case

Token = Callable[[Workspace, str], TestClient]


def _cases(factory: sessionmaker[Session], workspace: Workspace, n: int) -> list[int]:
    """``n`` cases, a minute apart (the last is the newest); their conversation ids."""
    with factory() as s:
        made = [
            make_case(s, workspace.id, text=f"case {i}", at=START + timedelta(minutes=i))[0].id
            for i in range(n)
        ]
        s.commit()
        return made


def _read_all(client: TestClient, path: str, limit: int, **params: Any) -> list[Any]:
    """Every page of a list answered as a page object, following next_cursor."""
    ids: list[Any] = []
    cursor = None
    for _ in range(50):
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        answer = client.get(path, params=query)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert len(page["items"]) <= limit
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("the pages never ended")


def _read_all_by_header(client: TestClient, path: str, limit: int) -> list[int]:
    """Every page of a list answered as an array, following the X-Next-Cursor header."""
    ids: list[int] = []
    cursor = None
    for _ in range(50):
        query: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        answer = client.get(path, params=query)
        assert answer.status_code == 200, answer.text
        ids += [item["id"] for item in answer.json()]
        cursor = answer.headers.get(NEXT_CURSOR_HEADER)
        if cursor is None:
            return ids
    raise AssertionError("the pages never ended")


def test_cursor_encodes_times_and_ids_and_refuses_anything_else() -> None:
    key = (START, 42)
    assert decode_cursor(encode_cursor(*key), 2) == key
    for forged in ("", "!!!", encode_cursor(1), encode_cursor([1], 2)):
        try:
            decode_cursor(forged, 2)
        except Exception as exc:
            assert "cursor" in str(exc)
        else:
            raise AssertionError(f"{forged!r} was taken")


def test_conversations_by_cursor_newest_first_and_walled(
    with_token: Token,
    workspace: Workspace,
    other_workspace: Workspace,
    session_factory: sessionmaker[Session],
) -> None:
    ours = _cases(session_factory, workspace, 5)
    _cases(session_factory, other_workspace, 3)
    client = with_token(workspace, "agent")
    assert _read_all(client, "/api/v1/conversations", 2) == list(reversed(ours))
    # Offsets still work, and say where the cursor would go on.
    by_offset = client.get("/api/v1/conversations", params={"limit": 2, "offset": 2}).json()
    assert [c["id"] for c in by_offset["items"]] == [ours[2], ours[1]]
    assert by_offset["total"] == 5 and by_offset["next_cursor"]
    both = client.get(
        "/api/v1/conversations", params={"offset": 1, "cursor": by_offset["next_cursor"]}
    )
    assert both.status_code == 400 and "not both" in both.json()["detail"]
    forged = client.get("/api/v1/conversations", params={"cursor": encode_cursor(7)})
    assert forged.status_code == 400 and "cursor" in forged.json()["detail"]


def test_messages_and_a_case_messages_by_cursor(
    with_token: Token, workspace: Workspace, session_factory: sessionmaker[Session]
) -> None:
    ours = _cases(session_factory, workspace, 4)
    client = with_token(workspace, "agent")
    newest_first = _read_all(client, "/api/v1/messages", 3)
    assert len(newest_first) == 4 and newest_first == sorted(newest_first, reverse=True)
    one = _read_all(client, f"/api/v1/conversations/{ours[0]}/messages", 1)
    assert len(one) == 1


def test_customers_by_cursor(
    with_token: Token,
    workspace: Workspace,
    other_workspace: Workspace,
    session_factory: sessionmaker[Session],
) -> None:
    _cases(session_factory, workspace, 5)
    _cases(session_factory, other_workspace, 2)
    client = with_token(workspace, "agent")
    ids = _read_all(client, "/api/v1/customers", 2)
    assert len(ids) == 5 and ids == sorted(ids)
    offset = client.get("/api/v1/customers", params={"limit": 2, "offset": 4}).json()
    assert [c["id"] for c in offset["items"]] == ids[4:] and offset["next_cursor"] is None


def test_array_lists_page_by_header(
    with_token: Token,
    as_user: Client,
    admin: User,
    workspace: Workspace,
    other_workspace: Workspace,
    session_factory: sessionmaker[Session],
) -> None:
    client = with_token(workspace, "admin")
    for n in range(3):
        made = client.post("/api/v1/listening/rules", json={"name": f"R{n}", "terms": ["acme"]})
        assert made.status_code == 201, made.text
        hook = client.post(
            "/api/v1/webhooks",
            json={"url": f"https://crm.example/hook/{n}", "events": ["reply.sent"]},
        )
        assert hook.status_code == 201, hook.text
    rules = _read_all_by_header(client, "/api/v1/listening/rules", 2)
    assert len(rules) == 3 and rules == sorted(rules)
    hooks = _read_all_by_header(client, "/api/v1/webhooks", 2)
    assert len(hooks) == 3 and hooks == sorted(hooks)
    agents = _read_all_by_header(client, "/api/v1/agents", 1)
    assert agents == [admin.id]
    theirs = with_token(other_workspace, "admin")
    assert theirs.get("/api/v1/listening/rules").json() == []


def test_notifications_page_newest_first_by_header(
    with_token: Token, workspace: Workspace, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as s:
        _, task, _ = make_case(s, workspace.id, text="late", at=START)
        for i in range(5):
            s.add(
                RoutingNotification(
                    workspace_id=workspace.id,
                    task_id=task.id,
                    kind="sla_warning",
                    detail={},
                    created_at=START + timedelta(minutes=i % 2),  # equal times: the id decides
                )
            )
        s.commit()
    client = with_token(workspace, "supervisor")
    ids = _read_all_by_header(client, "/api/v1/routing/notifications", 2)
    assert len(ids) == 5 and len(set(ids)) == 5
    whole = [n["id"] for n in client.get("/api/v1/routing/notifications").json()]
    assert ids == whole


def test_channel_lists_page_by_header(
    with_token: Token,
    as_user: Client,
    agent: User,
    workspace: Workspace,
    other_workspace: Workspace,
    session_factory: sessionmaker[Session],
) -> None:
    cases = _cases(session_factory, workspace, 3)
    client = as_user(agent)
    for n, cid in enumerate(reversed(cases)):  # the last case gets the earliest window
        shifted = client.post(
            f"/api/v1/conversations/{cid}/shift",
            json={
                "action": "callback",
                "reason": "too long to type",
                "detail": "+44 20 7946 0000",
                "callback_at": (START + timedelta(days=1, hours=n)).isoformat(),
            },
        )
        assert shifted.status_code == 200, shifted.text
    admin = with_token(workspace, "admin")
    callbacks = _read_all_by_header(admin, "/api/v1/callbacks", 1)
    assert len(callbacks) == 3
    whole = admin.get("/api/v1/callbacks").json()
    assert [c["id"] for c in whole] == callbacks
    assert [c["conversation_id"] for c in whole] == list(reversed(cases))
    with session_factory() as s:
        for n in range(3):
            s.add(DeadLetter(workspace_id=workspace.id, channel="x", reason=f"bad {n}"))
        s.add(DeadLetter(workspace_id=other_workspace.id, channel="x", reason="theirs"))
        s.commit()
    letters = _read_all_by_header(admin, "/api/v1/dead-letters", 2)
    assert len(letters) == 3 and letters == sorted(letters, reverse=True)
    add_account(session_factory, workspace.id, "x")
    add_account(session_factory, workspace.id, "facebook")
    accounts = _read_all_by_header(admin, "/api/v1/channel-accounts", 1)
    assert len(accounts) == 2 and accounts == sorted(accounts)
    deliveries = _read_all_by_header(client, f"/api/v1/conversations/{cases[0]}/deliveries", 1)
    assert deliveries == sorted(deliveries)
