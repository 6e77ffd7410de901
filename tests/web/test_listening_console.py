"""The crisis screens over HTTP: the supervisors' bell, incidents, rules and trends."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.models import Workspace
from socialdesk.listening import alerts
from socialdesk.listening.models import Alert, Incident, ListeningRule
from socialdesk.people.models import User
from socialdesk.routing import repository as routing_repo
from tests.web.conftest import START, sign_in
from tests.web.factories import make_case

HOSTILE = '<script>alert("x")</script> #AcmeDown'


def spike(factory: sessionmaker[Session], workspace: Workspace, title: str = HOSTILE) -> int:
    with factory() as s:
        alert = alerts.raise_alert(
            s,
            workspace.id,
            kind="spike",
            series="hashtag:#acmedown",
            title=title,
            window_start=START,
            now=START,
            observed=30,
            expected=1,
        )
        s.commit()
        assert alert is not None
        return alert.id


def test_agents_have_no_bell_and_supervisors_acknowledge_what_it_shows(
    client: TestClient,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    agent: User,
    supervisor: User,
) -> None:
    sign_in(client, agent.email)
    assert 'id="alert-bell"' not in client.get("/console").text
    assert client.get("/console/alerts").status_code == 403
    client.cookies.clear()
    token = sign_in(client, supervisor.email)
    assert 'id="alert-bell"' in client.get("/console").text
    alert_id = spike(session_factory, workspace)
    with session_factory() as s:
        _, task, _ = make_case(s, workspace.id, text="hello?", at=START - timedelta(hours=2))
        routing_repo.add_notification(s, workspace.id, task.id, "sla_breach", {}, START)
        s.commit()
    assert client.get("/console/alerts/count").json() == {"unacknowledged": 2}
    page = client.get("/console/alerts").text
    assert HOSTILE not in page and "&lt;script&gt;" in page
    assert "SLA breached" in page
    dashboard = client.get("/dashboard").text
    assert 'id="alerts-panel"' in dashboard and "SLA breached" in dashboard
    acked = client.post(
        f"/console/alerts/alert/{alert_id}/ack",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert acked.status_code == 303
    with session_factory() as s:
        stored = s.get(Alert, alert_id)
        assert stored is not None and stored.acknowledged_by_id == supervisor.id
    assert client.get("/console/alerts/count").json() == {"unacknowledged": 1}
    client.post("/console/alerts/ack-all", data={"csrf_token": token})
    assert client.get("/console/alerts/count").json() == {"unacknowledged": 0}
    assert "Sam Supervisor" in client.get("/console/alerts/live").text


def test_a_supervisor_opens_an_incident_from_an_alert_and_answers_it_in_bulk(
    client: TestClient,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    supervisor: User,
) -> None:
    with session_factory() as s:
        for i in range(3):
            make_case(s, workspace.id, text=f"down again #AcmeDown {i}", at=START, name=f"Kim {i}")
        make_case(s, workspace.id, text="unrelated question", at=START)
        s.commit()
    alert_id = spike(session_factory, workspace, "Spike on #acmedown")
    token = sign_in(client, supervisor.email)
    opened = client.post(
        "/console/incidents",
        data={"csrf_token": token, "alert_id": alert_id, "title": "Spike on #acmedown"},
        follow_redirects=False,
    )
    assert opened.status_code == 303
    page = client.get(opened.headers["location"]).text
    assert page.count('data-message="') == 3 and "unrelated question" not in page
    with session_factory() as s:
        incident = s.scalars(select(Incident)).one()
        assert s.get(Alert, alert_id).incident_id == incident.id  # type: ignore[union-attr]
    sent = client.post(
        f"/console/incidents/{incident.id}/bulk-reply",
        data={
            "csrf_token": token,
            "template": "Hi {customer_name}, we're on it",
            "visibility": "public",
        },
        follow_redirects=False,
    )
    assert sent.headers["location"].endswith("sent=3&skipped=0&failed=0")
    live = client.get(f"/console/incidents/{incident.id}/live").text
    assert live.count("delivery-pending") == 3
    assert "bulk reply · Sam Supervisor (3 sent, 0 skipped)" in live
    resolved = client.post(
        f"/console/incidents/{incident.id}/resolve",
        data={"csrf_token": token, "note": "fixed", "close_cases": "true"},
    )
    assert "Resolved" in resolved.text


def test_admins_manage_rules_and_destinations_and_bad_rules_are_refused(
    client: TestClient, session_factory: sessionmaker[Session], admin: User, supervisor: User
) -> None:
    token = sign_in(client, admin.email)
    bad = client.post(
        "/admin/listening/rules", data={"csrf_token": token, "name": "All", "terms": "*"}
    )
    assert bad.status_code == 400 and "would match everything" in bad.text
    bad = client.post(
        "/admin/listening/rules", data={"csrf_token": token, "name": "Re", "terms": "/acme(/"}
    )
    assert bad.status_code == 400 and "not a valid pattern" in bad.text
    client.post(
        "/admin/listening/rules",
        data={
            "csrf_token": token,
            "name": "Brand",
            "terms": "Acme\nacme fiber",
            "hashtags": "#AcmeDown, AcmeFail",
            "languages": "en",
        },
    )
    client.post(
        "/admin/listening/destinations",
        data={
            "csrf_token": token,
            "emails": "ops@acme.test",
            "webhook_url": "https://hooks.acme.test/x",
        },
    )
    page = client.get("/admin/listening").text
    assert "acme fiber" in page and "#acmefail" in page and "hooks.acme.test" in page
    with session_factory() as s:
        rule = s.scalars(select(ListeningRule)).one()
        assert rule.terms == ["Acme", "acme fiber"] and rule.languages == ["en"]
    client.post(f"/admin/listening/rules/{rule.id}/toggle", data={"csrf_token": token})
    with session_factory() as s:
        assert s.get(ListeningRule, rule.id).active is False  # type: ignore[union-attr]
    client.cookies.clear()
    token = sign_in(client, supervisor.email)
    assert "acme fiber" in client.get("/admin/listening").text  # supervisors see it
    refused = client.post(
        "/admin/listening/rules", data={"csrf_token": token, "name": "X", "terms": "x"}
    )
    assert refused.status_code == 403


def test_the_trends_page_shows_volume_terms_and_hashtags_for_a_range(
    client: TestClient,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    supervisor: User,
) -> None:
    with session_factory() as s:
        for i in range(4):
            make_case(
                s,
                workspace.id,
                text=f"router outage again #AcmeDown {i}",
                at=START - timedelta(hours=1),
            )
        make_case(s, workspace.id, text="old news", at=START - timedelta(days=3))
        s.commit()
    sign_in(client, supervisor.email)
    page = client.get(
        "/dashboard/trends",
        params={"since": "2026-11-23T06:00", "until": "2026-11-23T09:00", "by": "hashtag"},
    ).text
    assert 'id="trend-total">4<' in page
    assert "#acmedown" in page and "outage" in page and "old news" not in page
    bad = client.get(
        "/dashboard/trends", params={"since": "2026-11-23T09:00", "until": "2026-11-23T08:00"}
    )
    assert bad.status_code == 400 and "must end after it starts" in bad.text
