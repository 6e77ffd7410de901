"""Finding work: search by text, customer or handle, and filters on the inbox lists."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.models import Workspace
from socialdesk.people.models import Team, User
from socialdesk.triage.models import TriageResultRow
from tests.web.conftest import START, sign_in
from tests.web.factories import make_case


def triaged(session: Session, workspace_id: int, message_id: int, sentiment: str) -> None:
    session.add(
        TriageResultRow(
            workspace_id=workspace_id,
            message_id=message_id,
            kind="complaint",
            kind_confidence=0.9,
            needs_response=0.9,
            route_to="care",
            sentiment_label=sentiment,
            sentiment_score=-0.6 if sentiment == "negative" else 0.6,
            sentiment_confidence=0.9,
            language="en",
            severity=2,
        )
    )


def listed(client: TestClient, query: str) -> list[str]:
    page = client.get(f"/console/inbox?scope=all&{query}")
    assert page.status_code == 200, page.text
    return re.findall(r'<span class="cust"><bdi>([^<]+)</bdi>', page.text)


def test_a_supervisor_searches_and_filters_the_everything_list(
    client: TestClient,
    supervisor: User,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    with session_factory() as s:
        team = Team(workspace_id=workspace.id, name="Billing", kind="care")
        s.add(team)
        s.flush()
        _, late, m1 = make_case(
            s,
            workspace.id,
            text="my router died again",
            at=START - timedelta(hours=2),
            name="Rita Router",
            handle="@ritar",
        )
        late.kind, late.topic = "complaint", "device_defect"
        triaged(s, workspace.id, m1.id, "negative")
        _, mine, m2 = make_case(
            s,
            workspace.id,
            text="love the new plan",
            at=START - timedelta(minutes=25),
            channel="instagram",
            name="Paula Plan",
            assignee_id=supervisor.id,
        )
        mine.kind = "praise"
        triaged(s, workspace.id, m2.id, "positive")
        _, billing, _ = make_case(
            s, workspace.id, text="50% off? 100_000 points", at=START, name="Bill Payer"
        )
        billing.team_id = team.id
        s.commit()
        team_id = team.id
    sign_in(client, supervisor.email)

    assert sorted(listed(client, "")) == ["Bill Payer", "Paula Plan", "Rita Router"]
    assert listed(client, "q=ROUTER") == ["Rita Router"]  # the text, any case
    assert listed(client, "q=paula") == ["Paula Plan"]  # the customer's name
    assert listed(client, "q=%40ritar") == ["Rita Router"]  # a handle
    assert listed(client, "q=50%25") == ["Bill Payer"]  # % is a character, not a wildcard
    assert listed(client, "q=0_0") == ["Bill Payer"]
    assert listed(client, "channel=instagram") == ["Paula Plan"]
    assert listed(client, "kind=complaint") == ["Rita Router"]
    assert listed(client, "topic=device_defect") == ["Rita Router"]
    assert listed(client, "sentiment=positive") == ["Paula Plan"]
    assert listed(client, "assignee=me") == ["Paula Plan"]
    assert sorted(listed(client, "assignee=none")) == ["Bill Payer", "Rita Router"]
    assert listed(client, f"team={team_id}") == ["Bill Payer"]
    # Due 30 minutes after arrival: 2 h ago is late, 25 min ago is at risk, just now on time.
    assert listed(client, "sla=breach") == ["Rita Router"]
    assert listed(client, "sla=warn") == ["Paula Plan"]
    assert listed(client, "sla=ok") == ["Bill Payer"]
    assert listed(client, "channel=x&sla=breach&q=router") == ["Rita Router"]
    assert listed(client, "channel=x&q=plan") == []
    counted = client.get("/console/inbox?q=rita&scope=all").text
    assert re.search(r">1</span> open item matching the search", counted)


def test_the_inbox_page_keeps_the_filters_in_its_form_and_its_live_updates(
    client: TestClient, agent: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    sign_in(client, agent.email)
    page = client.get("/console?channel=email&q=refund").text
    assert 'data-live-src="/console/inbox?scope=team&amp;q=refund&amp;channel=email"' in page
    assert 'value="refund"' in page and "<option selected>email</option>" in page


def test_a_filter_that_cannot_be_one_is_a_clear_error(client: TestClient, agent: User) -> None:
    sign_in(client, agent.email)
    response = client.get("/console/inbox?channel=telegraph")
    assert response.status_code == 400
    assert "channel must be one of" in response.text
    assert client.get("/console/inbox?assignee=someone").status_code == 400
