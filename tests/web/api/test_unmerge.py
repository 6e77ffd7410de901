"""Undoing a wrong merge over the API, the same path as the customer page's button."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.models import Workspace
from socialdesk.customers import service as customers_service
from socialdesk.customers.models import Identity
from socialdesk.people.models import User
from tests.web.api.conftest import Client
from tests.web.conftest import START, sign_in
from tests.web.factories import make_case

Token = Callable[[Workspace, str], TestClient]


def _merged(factory: sessionmaker[Session], workspace: Workspace) -> tuple[int, int, int]:
    """A customer with two identities: (customer id, first identity id, second identity id)."""
    with factory() as s:
        conv, _, message = make_case(s, workspace.id, text="hello", at=START)
        first = s.get(Identity, message.author_identity_id)
        assert first is not None and conv.customer_id is not None
        second = Identity(
            workspace_id=workspace.id,
            customer_id=conv.customer_id,
            channel="facebook",
            external_id=f"fb-{conv.id}",
            handle="dana.fb",
            display_name="Dana on Facebook",
            followers=0,
            profile={},
        )
        s.add(second)
        s.commit()
        return conv.customer_id, first.id, second.id


def test_a_supervisor_unmerges_an_identity(
    as_user: Client,
    agent: User,
    supervisor: User,
    workspace: Workspace,
    other_workspace: Workspace,
    session_factory: sessionmaker[Session],
) -> None:
    customer, first, second = _merged(session_factory, workspace)
    theirs, their_first, _ = _merged(session_factory, other_workspace)
    _, stranger, _ = _merged(session_factory, workspace)
    url = f"/api/v1/customers/{customer}/identities/{second}/unmerge"
    assert as_user(agent).post(url).status_code == 403
    client = as_user(supervisor)
    assert (
        client.post(f"/api/v1/customers/{theirs}/identities/{their_first}/unmerge").status_code
        == 404
    )
    # An identity of another customer is not this customer's to split off.
    not_theirs = client.post(f"/api/v1/customers/{customer}/identities/{stranger}/unmerge")
    assert not_theirs.status_code == 404 and "has no identity" in not_theirs.json()["detail"]
    done = client.post(url)
    assert done.status_code == 201, done.text
    assert done.json()["id"] != customer
    assert [i["id"] for i in done.json()["identities"]] == [second]
    last = client.post(f"/api/v1/customers/{customer}/identities/{first}/unmerge")
    assert last.status_code == 400 and "only identity" in last.json()["detail"]


def test_the_customer_page_and_the_api_unmerge_by_one_path(
    api: Any,
    as_user: Client,
    supervisor: User,
    workspace: Workspace,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one = _merged(session_factory, workspace)
    two = _merged(session_factory, workspace)
    calls: list[int] = []
    original = customers_service.unmerge_identity

    def spy(session: Session, workspace_id: int, customer_id: int, identity_id: int) -> Any:
        calls.append(identity_id)
        return original(session, workspace_id, customer_id, identity_id)

    monkeypatch.setattr(customers_service, "unmerge_identity", spy)
    console = TestClient(api, base_url="https://testserver")
    csrf = sign_in(console, supervisor.email)
    done = console.post(
        f"/console/customers/{one[0]}/identities/{one[2]}/unmerge",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    twin = as_user(supervisor).post(f"/api/v1/customers/{two[0]}/identities/{two[2]}/unmerge")
    assert twin.status_code == 201, twin.text
    assert calls == [one[2], two[2]]
