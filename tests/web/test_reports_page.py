"""The reports screen: a range of days in a chosen time zone, figures, breakdowns, and links
to the same report and the exports as files."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.models import Workspace
from socialdesk.people.models import Team, User
from tests.analytics.factories import exchange
from tests.web.conftest import START, sign_in


def tile(html: str, name: str) -> str:
    match = re.search(rf'id="report-{name}">([^<]*)<', html)
    assert match, f"no {name} tile"
    return match.group(1)


def test_supervisors_see_a_range_in_their_time_zone(
    product: FastAPI,
    supervisor: User,
    agent: User,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    day = START.replace(hour=0)
    with session_factory() as s:
        team = Team(workspace_id=workspace.id, name="<script>alert(1)</script>")
        s.add(team)
        s.flush()
        exchange(s, workspace.id, at=day + timedelta(hours=10), steps=[("out", 6)], team_id=team.id)
        # 23:30 UTC on the same day: already the next day in Paris.
        exchange(s, workspace.id, at=day + timedelta(hours=23, minutes=30), steps=[])
        s.commit()
    client = TestClient(product, base_url="https://testserver")
    sign_in(client, supervisor.email)
    assert 'href="/dashboard/reports"' in client.get("/dashboard").text
    on_the_day = f"from={day.date()}&to={day.date()}"
    page = client.get(f"/dashboard/reports?{on_the_day}&tz=UTC")
    assert page.status_code == 200
    html = page.text
    assert (tile(html, "inbound"), tile(html, "outbound")) == ("2", "1")
    assert tile(html, "response-rate") == "50%"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert (
        f'href="/api/v1/exports/messages?from={day.date()}&amp;to={day.date()}&amp;tz=UTC"' in html
    )
    paris = client.get(f"/dashboard/reports?{on_the_day}&tz=Europe/Paris&bucket=hour").text
    assert tile(paris, "inbound") == "1"
    assert paris.count("<tr><td><bdi>2026-11-23T") == 24
    # The page's download links answer with files for the signed-in supervisor.
    csv = client.get(f"/api/v1/reports?{on_the_day}&tz=UTC&format=csv")
    assert csv.status_code == 200 and csv.text.startswith("slice,value,inbound")
    assert client.get(f"/dashboard/reports?{on_the_day}&tz=Nowhere/City").status_code == 400
    client.cookies.clear()
    sign_in(client, agent.email)
    assert client.get("/dashboard/reports", follow_redirects=False).status_code in (303, 403)
