"""What an agent does over the API goes out as the workspace's webhook events, as it does
from the console: the relay reads the same rows the shared services write."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.clock import FrozenClock, utcnow
from socialdesk.core.models import Workspace
from socialdesk.eventhooks.relay import relay
from socialdesk.people.models import User
from tests.web.api.conftest import Client
from tests.web.factories import make_case

Token = Callable[[Workspace, str], TestClient]


def test_assign_reply_and_resolve_over_the_api_emit_their_events(
    api: Any,
    as_user: Client,
    with_token: Token,
    agent: User,
    workspace: Workspace,
    session_factory: sessionmaker[Session],
) -> None:
    admin = with_token(workspace, "admin")
    events = ["task.assigned", "reply.sent", "conversation.resolved"]
    made = admin.post("/api/v1/webhooks", json={"url": "https://crm.example/h", "events": events})
    assert made.status_code == 201, made.text
    sub_id = made.json()["id"]
    now = utcnow()
    with session_factory() as s:
        relay(s, now)  # a new subscription hears what happens from now on
        conv, _, _ = make_case(s, workspace.id, text="my bill is wrong", at=now)
        s.commit()
    api.state.clock = FrozenClock(now + timedelta(minutes=1))
    client = as_user(agent)
    for action, body in (("assign", {}), ("reply", {"text": "On it!"}), ("resolve", {})):
        done = client.post(f"/api/v1/conversations/{conv.id}/{action}", json=body)
        assert done.status_code in (200, 201), done.text
    with session_factory() as s:
        relay(s, now + timedelta(minutes=2))
        s.commit()
    deliveries = admin.get(f"/api/v1/webhooks/{sub_id}/deliveries").json()["items"]
    # reply.sent follows once the outbox has delivered the reply (no sender runs here).
    assert sorted(d["event_type"] for d in deliveries) == [
        "conversation.resolved",
        "task.assigned",
    ]
    resolved = next(d for d in deliveries if d["event_type"] == "conversation.resolved")
    assert resolved["payload"]["data"]["conversation_id"] == conv.id
