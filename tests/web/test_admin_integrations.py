"""The admin screens of the audit log and of outgoing webhooks."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.eventhooks.models import WebhookSubscription
from socialdesk.people.models import User
from tests.web.conftest import sign_in


def test_an_admin_subscribes_a_webhook_and_sees_its_secret_once(
    client: TestClient, admin: User, session_factory: sessionmaker[Session]
) -> None:
    csrf = sign_in(client, admin.email)
    answer = client.post(
        "/admin/webhooks",
        data={
            "csrf_token": csrf,
            "url": "https://crm.test/hooks",
            "events": ["message.received", "reply.sent"],
        },
    )
    assert answer.status_code == 201
    secret = re.search(r"<code>(whsec_[^<]+)</code>", answer.text)
    assert secret is not None
    page = client.get("/admin/webhooks").text
    assert "https://crm.test/hooks" in page and "message.received, reply.sent" in page
    assert secret.group(1) not in page  # never shown again
    with session_factory() as s:
        sub = s.scalars(select(WebhookSubscription)).one()
        assert secret.group(1) not in sub.secret_encrypted
    client.post(f"/admin/webhooks/{sub.id}/toggle", data={"csrf_token": csrf})
    assert "disabled" in client.get("/admin/webhooks").text
    refused = client.post(
        "/admin/webhooks", data={"csrf_token": csrf, "url": "https://crm.test/x", "events": []}
    )
    assert refused.status_code == 400


def test_the_audit_log_screen_filters_and_is_for_admins(
    client: TestClient, admin: User, supervisor: User
) -> None:
    csrf = sign_in(client, admin.email)
    client.post(
        "/admin/webhooks",
        data={"csrf_token": csrf, "url": "https://crm.test/hooks", "events": ["task.created"]},
    )
    page = client.get("/admin/audit").text
    assert "webhook.created" in page and "signin.succeeded" in page
    assert admin.email in page
    only_webhooks = client.get("/admin/audit", params={"action": "webhook"}).text
    assert "webhook.created" in only_webhooks and "signin.succeeded" not in only_webhooks
    assert "[redacted]" in only_webhooks  # the secret's encrypted form is not shown either
    bad = client.get("/admin/audit", params={"since": "yesterday"})
    assert bad.status_code == 400
    client.post("/logout", data={"csrf_token": csrf})
    sign_in(client, supervisor.email)
    assert "The audit log is for admins." in client.get("/admin/audit").text
