"""Outgoing event webhooks, end to end against a real local HTTP receiver: subscribe, hear
what was committed, signed; failures retried with backoff; a slow or failing receiver costs
nothing else; a subscription that keeps failing is disabled with a notice."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.config import Settings
from socialdesk.conversations.action_models import Notification
from socialdesk.conversations.actions import resolve
from socialdesk.conversations.models import Message
from socialdesk.core.clock import FrozenClock, utcnow
from socialdesk.core.db import unit_of_work
from socialdesk.core.models import Workspace
from socialdesk.customers.models import Customer
from socialdesk.eventhooks import sender
from socialdesk.eventhooks.models import WebhookDelivery, WebhookSubscription
from socialdesk.eventhooks.relay import relay
from socialdesk.eventhooks.service import subscribe
from socialdesk.eventhooks.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
    verify,
)
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.people.models import User
from socialdesk.web.api_tokens import create_token
from socialdesk.web.app import create_app
from tests.eventhooks.receiver import Receiver, receiver
from tests.ingest.factories import T0, event

KEY = "test-secret-key"


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


def _subscribe(
    factory: sessionmaker[Session], ws: int, url: str, events: list[str]
) -> tuple[int, str]:
    with unit_of_work(factory) as s:
        made = subscribe(s, ws, url, events, KEY, T0)
        return made.subscription.id, made.secret


def _round(factory: sessionmaker[Session], clock: FrozenClock) -> sender.SendReport:
    with unit_of_work(factory) as s:
        relay(s, clock())
    return sender.send_due(factory, KEY, clock=clock)


def _ingest(factory: sessionmaker[Session], ws: int, *ids: str) -> None:
    Pipeline(factory, clock=lambda: T0 + timedelta(minutes=1)).ingest(
        ws, [event(i, "cust", minutes=1, text=f"my router {i} is down") for i in ids]
    )


def test_signatures_verify_only_over_the_exact_body_and_a_recent_timestamp() -> None:
    body = b'{"type":"message.received"}'
    header = signature("whsec_x", 1_700_000_000, body)
    assert verify("whsec_x", "1700000000", body, header, now=1_700_000_010)
    assert not verify("whsec_x", "1700000000", body + b" ", header, now=1_700_000_010)
    assert not verify("whsec_y", "1700000000", body, header, now=1_700_000_010)
    assert not verify("whsec_x", "1700000000", body, header, now=1_700_001_000)


def test_a_subscriber_hears_new_messages_signed_and_logged(
    session_factory: sessionmaker[Session], workspace: Workspace, hook: Receiver
) -> None:
    clock = FrozenClock(T0 + timedelta(minutes=2))
    _ingest(session_factory, workspace.id, "before")
    sub_id, secret = _subscribe(session_factory, workspace.id, hook.url, ["message.received"])
    _round(session_factory, clock)  # the first read starts the cursor: no history is sent
    _ingest(session_factory, workspace.id, "1", "2")
    report = _round(session_factory, clock)
    assert len(report.sent) == 2 and len(hook.requests) == 2
    for request in hook.requests:
        assert verify(
            secret,
            request.headers[TIMESTAMP_HEADER],
            request.body,
            request.headers[SIGNATURE_HEADER],
            now=int(clock().timestamp()),
        )
    payloads = [json.loads(r.body) for r in hook.requests]
    assert {p["type"] for p in payloads} == {"message.received"}
    assert sorted(p["data"]["text"] for p in payloads) == [
        "my router 1 is down",
        "my router 2 is down",
    ]
    with session_factory() as s:
        log = s.scalars(select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub_id))
        assert [(d.status, d.response_code) for d in log] == [("sent", 200), ("sent", 200)]
    assert _round(session_factory, clock).sent == []  # re-reading never sends twice


def test_a_failure_is_retried_with_backoff_until_it_goes(
    session_factory: sessionmaker[Session], workspace: Workspace, hook: Receiver
) -> None:
    clock = FrozenClock(T0 + timedelta(minutes=2))
    _subscribe(session_factory, workspace.id, hook.url, ["message.received"])
    _round(session_factory, clock)
    _ingest(session_factory, workspace.id, "1")
    hook.statuses = [500, 503]
    first = _round(session_factory, clock)
    assert len(first.retried) == 1
    with session_factory() as s:
        (delivery,) = s.scalars(select(WebhookDelivery))
        assert delivery.response_code == 500 and delivery.error == "HTTP 500"
        assert delivery.next_attempt_at == clock() + timedelta(seconds=30)
    assert _round(session_factory, clock).retried == []  # not due yet
    clock.advance(timedelta(seconds=31))
    assert len(_round(session_factory, clock).retried) == 1  # 503; next wait doubles
    with session_factory() as s:
        (delivery,) = s.scalars(select(WebhookDelivery))
        assert delivery.next_attempt_at == clock() + timedelta(minutes=1)
    clock.advance(timedelta(minutes=2))
    assert len(_round(session_factory, clock).sent) == 1
    assert len(hook.requests) == 3


def test_a_slow_receiver_delays_nobody_else(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sender, "TIMEOUT", 0.5)
    clock = FrozenClock(T0 + timedelta(minutes=2))
    with receiver() as slow, receiver() as fast:
        slow.delay = 2.0
        _subscribe(session_factory, workspace.id, slow.url, ["message.received"])
        _subscribe(session_factory, workspace.id, fast.url, ["message.received"])
        _round(session_factory, clock)
        _ingest(session_factory, workspace.id, "1")
        started = time.monotonic()
        report = _round(session_factory, clock)
        elapsed = time.monotonic() - started
        assert len(report.sent) == 1 and len(report.retried) == 1
        assert len(fast.requests) == 1
        with session_factory() as s:
            errors = [d.error for d in s.scalars(select(WebhookDelivery)) if d.error]
        assert errors == ["no answer within 0.5 s"]
        assert elapsed < 2.0  # the round waited for the timeout, not for the slow answer


def test_a_subscription_that_keeps_failing_is_disabled_with_a_notice_to_admins(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    hook: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sender, "DISABLE_AFTER", 2)
    with session_factory() as s:
        s.add(User(workspace_id=workspace.id, email="ada@acme.test", name="Ada", role="admin"))
        s.commit()
    clock = FrozenClock(T0 + timedelta(minutes=2))
    sub_id, _ = _subscribe(session_factory, workspace.id, hook.url, ["message.received"])
    _round(session_factory, clock)
    _ingest(session_factory, workspace.id, "1", "2", "3")
    hook.statuses = [500] * 10
    report = _round(session_factory, clock)  # one attempt per subscription per round
    clock.advance(timedelta(minutes=5))
    report = _round(session_factory, clock)
    assert report.disabled == [sub_id]
    with session_factory() as s:
        sub = s.get(WebhookSubscription, sub_id)
        assert sub is not None and not sub.active
        assert sub.disabled_reason is not None and "HTTP 500" in sub.disabled_reason
        notices = s.scalars(select(Notification.text)).all()
        assert len(notices) == 1 and hook.url in notices[0]
        assert {d.status for d in s.scalars(select(WebhookDelivery))} == {"failed"}
    assert _round(session_factory, clock).sent == []


def test_case_events_reach_subscribers(
    session_factory: sessionmaker[Session], workspace: Workspace, hook: Receiver
) -> None:
    clock = FrozenClock(T0 + timedelta(minutes=2))
    events = ["task.created", "conversation.resolved", "customer.merged"]
    _subscribe(session_factory, workspace.id, hook.url, events)
    _round(session_factory, clock)
    _ingest(session_factory, workspace.id, "1")
    Pipeline(session_factory, clock=lambda: T0).ingest(
        workspace.id, [event("9", "other", text="second account", minutes=2)]
    )
    with session_factory() as s:
        agent = User(workspace_id=workspace.id, email="ana@acme.test", name="Ana")
        s.add(agent)
        s.flush()
        conversation_id = s.scalars(
            select(Message.conversation_id).where(Message.external_id == "1")
        ).one()
        resolve(s, workspace_id=workspace.id, conversation_id=conversation_id, actor=agent)
        first, second = s.scalars(select(Customer).order_by(Customer.id)).all()
        second.merged_into_id = first.id
        s.commit()
    clock.advance(timedelta(minutes=1))
    _round(session_factory, clock)
    types = sorted(json.loads(r.body)["type"] for r in hook.requests)
    assert types == ["conversation.resolved", "customer.merged", "task.created", "task.created"]


@pytest.fixture
def api(engine: Engine) -> Iterator[TestClient]:
    app = create_app(
        Settings(default_workspace="acme", secret_key=KEY), engine=engine, migrate=False
    )
    with TestClient(app) as client:
        app.state.webhooks.stop()  # the tests run the rounds themselves
        yield client


def _bearer(factory: sessionmaker[Session], ws: int, role: str = "admin") -> dict[str, str]:
    with factory() as s:
        token = create_token(s, ws, f"{role}-{ws}", role)
        s.commit()
    return {"Authorization": f"Bearer {token.secret}"}


def test_admins_manage_subscriptions_through_the_api_behind_the_workspace_wall(
    api: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    admin = _bearer(session_factory, workspace.id)
    bad = api.post(
        "/api/v1/webhooks", json={"url": "ftp://x", "events": ["message.received"]}, headers=admin
    )
    assert bad.status_code == 400
    unknown = api.post(
        "/api/v1/webhooks", json={"url": "https://crm.test/h", "events": ["nope"]}, headers=admin
    )
    assert unknown.status_code == 400 and "unknown event" in unknown.json()["detail"]
    made = api.post(
        "/api/v1/webhooks",
        json={"url": "https://crm.test/h", "events": ["message.received", "reply.sent"]},
        headers=admin,
    )
    assert made.status_code == 201 and made.json()["secret"].startswith("whsec_")
    listed = api.get("/api/v1/webhooks", headers=admin).json()
    assert len(listed) == 1 and "secret" not in listed[0]
    sub_id = made.json()["id"]
    with session_factory() as s:
        other = Workspace(slug="globex", name="Globex")
        s.add(other)
        s.commit()
        other_id = other.id
    stranger = _bearer(session_factory, other_id)
    assert api.get("/api/v1/webhooks", headers=stranger).json() == []
    assert (
        api.patch(
            f"/api/v1/webhooks/{sub_id}", json={"active": False}, headers=stranger
        ).status_code
        == 404
    )
    agent = _bearer(session_factory, workspace.id, "agent")
    assert api.get("/api/v1/webhooks", headers=agent).status_code == 403
    off = api.patch(f"/api/v1/webhooks/{sub_id}", json={"active": False}, headers=admin)
    assert off.json()["active"] is False
    log = api.get(f"/api/v1/webhooks/{sub_id}/deliveries", headers=admin).json()
    assert log == {"items": [], "next_cursor": None}
    assert api.delete(f"/api/v1/webhooks/{sub_id}", headers=admin).status_code == 204


def test_a_person_redelivers_a_failed_delivery(
    api: TestClient, session_factory: sessionmaker[Session], workspace: Workspace, hook: Receiver
) -> None:
    clock = FrozenClock(T0 + timedelta(minutes=2))
    sub_id, _ = _subscribe(session_factory, workspace.id, hook.url, ["message.received"])
    _round(session_factory, clock)
    _ingest(session_factory, workspace.id, "1")
    _round(session_factory, clock)
    with session_factory() as s:
        (delivery,) = s.scalars(select(WebhookDelivery))
        delivery_id = delivery.id
    admin = _bearer(session_factory, workspace.id)
    again = api.post(f"/api/v1/webhooks/deliveries/{delivery_id}/redeliver", headers=admin)
    assert again.status_code == 200 and again.json()["status"] == "pending"
    sender.send_due(session_factory, KEY, clock=FrozenClock(utcnow() + timedelta(minutes=1)))
    assert len(hook.requests) == 2
    log = api.get(f"/api/v1/webhooks/{sub_id}/deliveries", headers=admin).json()["items"]
    assert log[0]["status"] == "sent" and log[0]["attempts"] == 1


def test_the_running_app_relays_and_sends_by_itself(
    engine: Engine, session_factory: sessionmaker[Session], workspace: Workspace, hook: Receiver
) -> None:
    app = create_app(
        Settings(default_workspace="acme", secret_key=KEY), engine=engine, migrate=False
    )
    with TestClient(app) as client:
        admin = _bearer(session_factory, workspace.id)
        made = client.post(
            "/api/v1/webhooks", json={"url": hook.url, "events": ["task.created"]}, headers=admin
        )
        assert made.status_code == 201
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _cursor_started(session_factory):
            time.sleep(0.1)
        Pipeline(session_factory).ingest(workspace.id, [event("1", "cust", text="no signal")])
        while time.monotonic() < deadline and not hook.requests:
            time.sleep(0.1)
    assert [json.loads(r.body)["type"] for r in hook.requests] == ["task.created"]


def _cursor_started(factory: sessionmaker[Session]) -> bool:
    from socialdesk.eventhooks.models import RelayCursor

    with factory() as s:
        return s.scalars(select(RelayCursor)).first() is not None
