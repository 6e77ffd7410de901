"""Alerts: raised once per window, acknowledged by a person, sent by e-mail and webhook."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.config import Settings
from socialdesk.core.clock import FrozenClock
from socialdesk.core.errors import InvalidInput
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.listening import alerts
from socialdesk.listening.delivery import MAX_ATTEMPTS, Deliverer
from socialdesk.listening.models import AlertDelivery
from socialdesk.people.models import User
from socialdesk.routing import repository as routing_repo
from socialdesk.web.app import create_app
from tests.listening.conftest import NOW, SECRET, post


class _Hook(BaseHTTPRequestHandler):
    answers: ClassVar[list[int]] = []
    bodies: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        status = type(self).answers.pop(0) if type(self).answers else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, type[_Hook]]]:
    """A Slack-style incoming webhook on loopback that records what it receives."""
    handler = type("Hook", (_Hook,), {"answers": [], "bodies": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/T000/B000", handler
    server.shutdown()
    server.server_close()


def raise_spike(s: Session, workspace_id: int) -> int | None:
    alert = alerts.raise_alert(
        s,
        workspace_id,
        kind="spike",
        series="hashtag:#acmedown",
        title="#acmedown: 40 posts in 5 minutes",
        window_start=NOW,
        now=NOW,
        observed=40,
        expected=0.5,
    )
    return None if alert is None else alert.id


def test_an_alert_is_raised_once_per_series_and_window(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        first = raise_spike(s, workspace.id)
        s.commit()
        assert first is not None
        assert raise_spike(s, workspace.id) is None


def test_the_webhook_gets_slack_json_after_commit_and_is_retried(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    webhook: tuple[str, type[_Hook]],
) -> None:
    url, hook = webhook
    hook.answers.extend([503])
    with session_factory() as s:
        ws = s.get(Workspace, workspace.id)
        assert ws is not None
        alerts.set_destinations(ws, [], url)
        ws.settings = {**ws.settings, "link_base_url": "https://care.acme.test"}
        s.commit()
        alert_id = raise_spike(s, workspace.id)
        s.commit()
    clock = FrozenClock(NOW)
    deliverer = Deliverer(session_factory, secret_key=SECRET, clock=clock)
    first = deliverer.run_once()
    assert first.retried and not first.sent
    assert deliverer.run_once().sent == []  # not due yet: backing off
    clock.advance(timedelta(seconds=31))
    assert len(deliverer.run_once().sent) == 1
    assert len(hook.bodies) == 2
    assert hook.bodies[-1] == {
        "text": "socialdesk alert: #acmedown: 40 posts in 5 minutes (40 against 0.5 expected)"
    }
    with session_factory() as s:
        delivery = s.scalars(select(AlertDelivery)).one()
        assert delivery.alert_id == alert_id and delivery.status == "sent"
        assert delivery.attempts == 2


def test_a_refused_webhook_fails_for_good_and_a_dead_one_gives_up(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    webhook: tuple[str, type[_Hook]],
) -> None:
    url, hook = webhook
    hook.answers.extend([404])
    with session_factory() as s:
        ws = s.get(Workspace, workspace.id)
        assert ws is not None
        alerts.set_destinations(ws, [], url)
        raise_spike(s, workspace.id)
        s.commit()
    clock = FrozenClock(NOW)
    assert Deliverer(session_factory, secret_key=SECRET, clock=clock).run_once().failed
    with session_factory() as s:
        delivery = s.scalars(select(AlertDelivery)).one()
        assert delivery.status == "failed" and "404" in (delivery.last_error or "")
        # Nothing listens on port 9 of loopback: retried until MAX_ATTEMPTS, then failed.
        delivery.status, delivery.attempts, delivery.target = "pending", 0, "http://127.0.0.1:9/"
        delivery.next_attempt_at = NOW
        s.commit()
    deliverer = Deliverer(session_factory, secret_key=SECRET, clock=clock)
    for _ in range(MAX_ATTEMPTS):
        deliverer.run_once()
        clock.advance(timedelta(hours=2))
    with session_factory() as s:
        delivery = s.scalars(select(AlertDelivery)).one()
        assert delivery.status == "failed" and delivery.attempts == MAX_ATTEMPTS


def test_email_recipients_get_a_delivery_each_and_bad_destinations_are_refused(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        ws = s.get(Workspace, workspace.id)
        assert ws is not None
        with pytest.raises(InvalidInput, match="not an e-mail address"):
            alerts.set_destinations(ws, ["boss at acme"], "")
        with pytest.raises(InvalidInput, match="http"):
            alerts.set_destinations(ws, [], "ftp://hooks.example")
        alerts.set_destinations(ws, ["boss@acme.test", "ops@acme.test", ""], "")
        raise_spike(s, workspace.id)
        s.commit()
        targets = sorted(d.target for d in s.scalars(select(AlertDelivery)))
        assert targets == ["boss@acme.test", "ops@acme.test"]
    # Without a connected mailbox the e-mail waits (and says why) instead of vanishing.
    report = Deliverer(session_factory, secret_key=SECRET, clock=FrozenClock(NOW)).run_once()
    assert len(report.retried) == 2
    with session_factory() as s:
        assert {d.last_error for d in s.scalars(select(AlertDelivery))} == {
            "no active email account: connect a mailbox to send alerts by e-mail"
        }


def test_the_bell_lists_alerts_with_sla_warnings_and_records_who_acknowledged(
    pipeline: Pipeline,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    supervisor: User,
) -> None:
    pipeline.ingest(workspace.id, [post(1, "my internet is down, fix it")])
    with session_factory() as s:
        task = s.scalars(select(Task)).one()
        routing_repo.add_notification(
            s, workspace.id, task.id, "sla_breach", {}, NOW + timedelta(minutes=1)
        )
        alert_id = raise_spike(s, workspace.id)
        s.commit()
        items = alerts.bell(s, workspace.id)
        assert [(i.source, i.kind) for i in items] == [("sla", "sla_breach"), ("alert", "spike")]
        assert items[0].link == f"/console/c/{task.conversation_id}"
        assert alerts.unacknowledged_count(s, workspace.id) == 2
        assert alert_id is not None
        alerts.acknowledge(s, workspace.id, alert_id, supervisor.id, NOW + timedelta(minutes=2))
        alerts.acknowledge_sla(s, workspace.id, items[0].id, supervisor.id, NOW)
        s.commit()
        assert alerts.unacknowledged_count(s, workspace.id) == 0
        assert {
            (i.acknowledged_by, i.acknowledged_at is not None) for i in alerts.bell(s, workspace.id)
        } == {("Sam", True)}


def test_the_web_process_sends_alerts_in_the_background(
    engine: Engine,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    webhook: tuple[str, type[_Hook]],
) -> None:
    url, hook = webhook
    app = create_app(Settings(default_workspace="acme"), engine=engine, migrate=False)
    app.state.alert_deliveries.interval = 0.2
    with TestClient(app):
        with session_factory() as s:
            ws = s.get(Workspace, workspace.id)
            assert ws is not None
            alerts.set_destinations(ws, [], url)
            raise_spike(s, workspace.id)
            s.commit()
        deadline = time.monotonic() + 15
        while not hook.bodies and time.monotonic() < deadline:
            time.sleep(0.1)
    assert [b["text"] for b in hook.bodies] == [
        "socialdesk alert: #acmedown: 40 posts in 5 minutes (40 against 0.5 expected)"
    ]
