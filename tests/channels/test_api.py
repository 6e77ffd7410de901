"""The channels read API and the tracked knowledge-base link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels import signing
from socialdesk.conversations.outbox_sender import OutboxSender
from socialdesk.conversations.replies import send_reply
from socialdesk.conversations.shift import invite_to_dm, schedule_callback
from socialdesk.core.models import Workspace
from socialdesk.web.api_tokens import create_token
from tests.channels.helpers import (
    T0,
    add_account,
    add_agent,
    inbound,
    ingest,
    message_by_external_id,
)


def bearer(session_factory: sessionmaker[Session], workspace_id: int, role: str) -> dict[str, str]:
    with session_factory() as s:
        token = create_token(s, workspace_id, f"{role} integration", role)
        s.commit()
    return {"Authorization": f"Bearer {token.secret}"}


def test_a_failed_delivery_shows_on_the_conversation_with_the_reason(
    client: TestClient,
    workspace: Workspace,
    session_factory: sessionmaker[Session],
    sender: OutboxSender,
) -> None:
    ingest(session_factory, workspace.id, inbound("1001"))
    agent = add_agent(session_factory, workspace.id)
    with session_factory() as s:
        conversation_id = message_by_external_id(s, "1001").conversation_id
        send_reply(
            s,
            workspace_id=workspace.id,
            conversation_id=conversation_id,
            author_user_id=agent,
            text="On it",
            clock=lambda: T0,
        )
        s.commit()
    sender.run_once()  # no X account is connected
    agent_headers = bearer(session_factory, workspace.id, "agent")
    url = f"/api/v1/conversations/{conversation_id}/deliveries"
    assert client.get(url).status_code == 401
    response = client.get(url, headers=agent_headers)
    assert response.status_code == 200
    [delivery] = response.json()
    assert delivery["status"] == "failed" and delivery["action"] == "x.reply"
    assert "no active x account" in delivery["error_reason"]
    missing = client.get("/api/v1/conversations/99999/deliveries", headers=agent_headers)
    assert missing.status_code == 404
    # Once an account is connected the agent retries; the item waits for the sender again.
    retried = client.post(f"/api/v1/deliveries/{delivery['id']}/retry", headers=agent_headers)
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    again = client.post(f"/api/v1/deliveries/{delivery['id']}/retry", headers=agent_headers)
    assert again.status_code == 409
    cancelled = client.post(f"/api/v1/deliveries/{delivery['id']}/cancel", headers=agent_headers)
    assert cancelled.json()["status"] == "cancelled"


def test_accounts_are_listed_without_credentials(
    client: TestClient, workspace: Workspace, session_factory: sessionmaker[Session]
) -> None:
    add_account(session_factory, workspace.id, "x", credentials={"access_token": "tok-123"})
    agent = client.get(
        "/api/v1/channel-accounts", headers=bearer(session_factory, workspace.id, "agent")
    )
    assert agent.status_code == 403
    response = client.get(
        "/api/v1/channel-accounts", headers=bearer(session_factory, workspace.id, "admin")
    )
    assert response.status_code == 200
    assert response.json()[0]["has_credentials"] is True
    assert "tok-123" not in response.text


def test_shifts_callbacks_and_knowledge_links_are_counted(
    client: TestClient, workspace: Workspace, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as s:
        ws = s.get(Workspace, workspace.id)
        assert ws is not None
        ws.settings = {"link_base_url": "https://desk.acme.test"}
        s.commit()
    ingest(session_factory, workspace.id, inbound("1001"), inbound("1002", author="43"))
    agent = add_agent(session_factory, workspace.id)
    with session_factory() as s:
        first = message_by_external_id(s, "1001").conversation_id
        second = message_by_external_id(s, "1002").conversation_id
        invite_to_dm(
            s,
            workspace_id=workspace.id,
            conversation_id=first,
            author_user_id=agent,
            reason="account data",
            clock=lambda: T0,
        )
        schedule_callback(
            s,
            workspace_id=workspace.id,
            conversation_id=second,
            author_user_id=agent,
            reason="prefers phone",
            phone="+3312345678",
            window_start=T0 + timedelta(hours=1),
            window_end=T0 + timedelta(hours=2),
            clock=lambda: T0,
        )
        message = send_reply(
            s,
            workspace_id=workspace.id,
            conversation_id=second,
            author_user_id=agent,
            text="This may help:",
            kb_article_url="https://help.acme.test/reset",
            clock=lambda: T0,
        )
        s.commit()
        token = message.text.rsplit("/", 1)[-1]
    redirect = client.get(f"/l/{token}", follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["location"] == "https://help.acme.test/reset"
    assert client.get("/l/not-a-token", follow_redirects=False).status_code == 404
    headers = bearer(session_factory, workspace.id, "supervisor")
    callbacks = client.get("/api/v1/callbacks", headers=headers).json()
    assert [(c["phone"], c["reason"]) for c in callbacks] == [("+3312345678", "prefers phone")]
    stats = client.get(
        "/api/v1/channel-stats",
        params={"since": "2026-11-01T00:00:00Z", "until": "2026-11-03T00:00:00Z"},
        headers=headers,
    ).json()
    assert sorted((s["kind"], s["reason"], s["count"]) for s in stats["shifts"]) == [
        ("dm", "account data", 1),
        ("phone", "prefers phone", 1),
    ]
    assert (stats["kb_links_sent"], stats["kb_links_used"]) == (1, 1)


def test_an_admin_inspects_and_replays_dead_letters(
    client: TestClient, workspace: Workspace, session_factory: sessionmaker[Session]
) -> None:
    account = add_account(
        session_factory, workspace.id, "webhook", credentials={"webhook_secret": "s"}
    )
    broken = b'{"messages": [{"id": "1", "text": "hi", "author": {"id": "u"}}]}'
    response = client.post(
        f"/webhooks/webhook/{account.id}",
        content=broken,
        headers=signing.signed_headers(broken, "s", datetime.now(UTC)),
    )
    assert response.status_code == 400
    letter_id = response.json()["dead_letter_id"]
    admin = bearer(session_factory, workspace.id, "admin")
    agent = bearer(session_factory, workspace.id, "agent")
    assert client.get("/api/v1/dead-letters", headers=agent).status_code == 403
    [listed] = client.get("/api/v1/dead-letters", headers=admin).json()
    assert listed["id"] == letter_id and "created_at" in listed["reason"]
    detail = client.get(f"/api/v1/dead-letters/{letter_id}", headers=admin).json()
    assert detail["body"] == broken.decode()
    fixed = broken.replace(b'"text": "hi"', b'"text": "hi", "created_at": "2026-11-02T09:00:00Z"')
    replayed = client.post(
        f"/api/v1/dead-letters/{letter_id}/replay",
        headers=admin,
        json={"corrected_body": fixed.decode()},
    )
    assert replayed.json() == {"accepted": 1, "error": None}
    with session_factory() as s:
        assert message_by_external_id(s, "reviews:1").text == "hi"
    assert client.get("/api/v1/dead-letters", headers=admin).json() == []
