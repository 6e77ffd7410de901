"""The dashboard's date range, and the dashboard as the supervisor's first page."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.models import Workspace
from socialdesk.people.models import User
from tests.web.conftest import PASSWORD, START, csrf_of, sign_in
from tests.web.factories import make_case


def inbound(html: str) -> int:
    match = re.search(r'id="inbound-24h">(\d+)<', html)
    assert match, "no inbound tile"
    return int(match.group(1))


def test_the_dashboard_counts_the_chosen_period(
    client: TestClient,
    supervisor: User,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    with session_factory() as s:
        make_case(s, workspace.id, text="today", at=START - timedelta(hours=2))
        make_case(s, workspace.id, text="three days ago", at=START - timedelta(days=3))
        make_case(s, workspace.id, text="last month", at=START - timedelta(days=20))
        s.commit()
    sign_in(client, supervisor.email)
    assert inbound(client.get("/dashboard").text) == 1
    week = client.get("/dashboard?range=7d").text
    assert inbound(week) == 2 and "last 7 days" in week
    assert 'data-live-src="/dashboard/live?range=7d"' in week
    assert inbound(client.get("/dashboard/live?range=30d").text) == 3
    first_day = (START - timedelta(days=4)).date().isoformat()
    since = client.get(f"/dashboard?from={first_day}").text
    assert inbound(since) == 2 and f'value="{first_day}"' in since
    assert client.get("/dashboard?range=1y").status_code == 400
    too_long = client.get("/dashboard?from=2020-01-01")
    assert too_long.status_code == 400 and "at most 31 days" in too_long.text


def test_supervisors_land_on_the_dashboard_and_agents_on_the_inbox(
    client: TestClient, supervisor: User, agent: User
) -> None:
    def landing(email: str) -> str:
        client.cookies.clear()
        form = client.get("/login")
        response = client.post(
            "/login",
            data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(form.text)},
            follow_redirects=False,
        )
        return str(response.headers["location"])

    assert landing(supervisor.email) == "/dashboard"
    assert landing(agent.email) == "/console"
