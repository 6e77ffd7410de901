"""The customer 360: one timeline across channels, the people around them, merge and unmerge."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.conversations.models import Conversation
from socialdesk.core.models import Workspace
from socialdesk.customers.models import Customer, Identity
from socialdesk.people.models import User
from tests.web.conftest import START, sign_in
from tests.web.factories import make_case


def test_a_supervisor_merges_two_records_sees_one_timeline_and_unmerges_again(
    client: TestClient,
    supervisor: User,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    with session_factory() as s:
        on_x, _, _ = make_case(
            s,
            workspace.id,
            text="no signal @bobby @AcmeCare",
            at=START,
            name="Dana",
            handle="@dana",
        )
        by_mail, _, _ = make_case(
            s, workspace.id, text="Invoice question", at=START, channel="email", name="Dana D"
        )
        make_case(s, workspace.id, text="me too", at=START, name="Bobby", handle="@bobby")
        brand, _, _ = make_case(s, workspace.id, text="ours", at=START, handle="@AcmeCare")
        s.scalars(select(Identity).where(Identity.handle == "@AcmeCare")).one().is_brand = True
        s.commit()
        dana, mail_customer = on_x.customer_id, by_mail.customer_id
        bobby = s.scalars(select(Customer).where(Customer.display_name == "Bobby")).one().id
    token = sign_in(client, supervisor.email)

    merged = client.post(
        f"/console/customers/{dana}/merge", data={"csrf_token": token, "other_id": mail_customer}
    )
    assert merged.status_code == 200
    page = merged.text
    assert re.search(r"<h1><bdi>Dana</bdi>", page)
    timeline = page[page.index('id="customer-timeline"') :]
    assert "no signal" in timeline and "Invoice question" in timeline
    assert f'href="/console/c/{by_mail.id}"' in timeline
    # The people they talk with are customers, linked; the brand's own account is not one.
    (related,) = re.findall(r'<ul class="plain related">(.*?)</ul>', page, re.DOTALL)
    assert f'<a href="/console/customers/{bobby}"><bdi>Bobby</bdi></a>' in related
    assert "AcmeCare" not in related

    with session_factory() as s:
        mail_identity = s.scalars(select(Identity).where(Identity.channel == "email")).one()
    unmerged = client.post(
        f"/console/customers/{dana}/identities/{mail_identity.id}/unmerge",
        data={"csrf_token": token},
    )
    assert unmerged.status_code == 200
    with session_factory() as s:
        identity = s.get(Identity, mail_identity.id)
        case = s.get(Conversation, by_mail.id)
        assert identity is not None and case is not None
        assert identity.customer_id not in (dana, None) and case.customer_id == identity.customer_id
        assert s.get(Conversation, on_x.id).customer_id == dana  # type: ignore[union-attr]
    assert "Invoice question" not in client.get(f"/console/customers/{dana}").text
    refused = client.post(
        f"/console/customers/{brand.customer_id}/identities/{mail_identity.id}/unmerge",
        data={"csrf_token": token},
    )
    assert refused.status_code == 404


def test_agents_see_the_360_but_cannot_merge(
    client: TestClient, agent: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        one, _, _ = make_case(s, workspace.id, text="a", at=START)
        two, _, _ = make_case(s, workspace.id, text="b", at=START)
        s.commit()
    token = sign_in(client, agent.email)
    page = client.get(f"/console/customers/{one.customer_id}").text
    assert "Timeline across channels" in page and "merge-form" not in page
    response = client.post(
        f"/console/customers/{one.customer_id}/merge",
        data={"csrf_token": token, "other_id": two.customer_id},
    )
    assert response.status_code == 403
