"""The wall between workspaces, route by route, for every route the application serves.

The routes are enumerated from the application (API and console alike), so a route added
later is covered without touching this file. Workspace A's people, signed in to A, call every
route with workspace B's objects in its path: each answer is 403 or 404, and no row of B
changes. A person with memberships of both workspaces sees, on every page and list, only the
data of the workspace their session is bound to.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.models import Workspace
from socialdesk.web.api_tokens import create_token
from tests.web.conftest import add_user, csrf_of
from tests.web.walls import (
    PUBLIC,
    RouteCall,
    acting_user_field,
    fill_path,
    first_id,
    marker,
    request_parts,
    route_calls,
    seed_workspace,
    snapshot,
)

WALL = (403, 404)
# Routes that end or move the caller's own session: called last, on their own.
SESSION_ROUTES = {"/logout", "/switch-workspace"}


@pytest.fixture
def globex(session_factory: sessionmaker[Session]) -> Workspace:
    with session_factory() as s:
        ws = Workspace(slug="globex", name="Globex Energy")
        s.add(ws)
        s.commit()
        return ws


@pytest.fixture
def seeded(session_factory: sessionmaker[Session], workspace: Workspace, globex: Workspace) -> None:
    """Both workspaces full; Olga works for both (admin in each), Ann for Acme only."""
    for ws in (workspace, globex):
        admin = add_user(session_factory, ws, "olga@outsource.test", "admin", "Olga")
        add_user(session_factory, ws, f"boss@{ws.slug}.test", "admin", f"Boss {marker(ws)}")
        with session_factory() as s:
            seed_workspace(s, ws, admin.id)
            s.commit()
    add_user(session_factory, workspace, "ann@acme.test", "admin", "Ann")


def _signed_in(app: FastAPI, email: str, workspace: Workspace) -> tuple[TestClient, str]:
    client = TestClient(app, base_url="https://testserver")
    form = client.get("/login")
    response = client.post(
        "/login",
        data={
            "workspace": workspace.slug,
            "email": email,
            "password": "correct horse battery",
            "csrf_token": csrf_of(form.text),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client, csrf_of(client.get("/console").text)


def _call(
    client: TestClient,
    call: RouteCall,
    path: str,
    headers: dict[str, str],
    acting_user_id: int | None = None,
) -> int:
    """Call one route; an API token names the agent it acts for (in its own workspace)."""
    parts = request_parts(call)
    where = None if acting_user_id is None else acting_user_field(call)
    if where == "query":
        parts["params"]["user_id"] = acting_user_id
    elif where == "json":
        json = parts.get("json")
        parts["json"] = {**(json if isinstance(json, dict) else {}), "user_id": acting_user_id}
    response = client.request(call.method, path, headers=headers, follow_redirects=False, **parts)
    return response.status_code


def _walled_calls(app: FastAPI) -> Iterator[RouteCall]:
    for call in route_calls(app):
        if call.path not in PUBLIC and call.path not in SESSION_ROUTES and call.id_params:
            yield call


def _workspace_wide_writes(app: FastAPI) -> Iterator[RouteCall]:
    for call in route_calls(app):
        if call.path in PUBLIC or call.path in SESSION_ROUTES or call.params:
            continue
        if call.method != "GET":
            yield call


def test_every_route_but_the_public_ones_wants_a_signed_in_caller(
    product: FastAPI, seeded: None, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    client = TestClient(product, base_url="https://testserver")
    calls = [c for c in route_calls(product) if c.path not in PUBLIC]
    assert len(calls) > 100  # the enumeration reaches the included routers
    with session_factory() as s:
        targets = [(c, fill_path(s, c, workspace.id)) for c in calls]
    let_in = [
        f"{c}: {status}" for c, path in targets if (status := _call(client, c, path, {})) != 401
    ]
    assert let_in == [], f"answered without credentials: {let_in}"


@pytest.mark.parametrize("caller", ["acme-only person", "two-workspace person", "api token"])
def test_a_caller_of_workspace_a_gets_403_or_404_on_every_object_of_workspace_b(
    product: FastAPI,
    seeded: None,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    globex: Workspace,
    caller: str,
) -> None:
    acting: int | None = None
    if caller == "api token":
        client = TestClient(product, base_url="https://testserver")
        with session_factory() as s:
            token = create_token(s, workspace.id, "wall", "admin")
            s.commit()
            acting = first_id(s, "users", workspace.id)  # an agent of Acme
        headers = {"authorization": f"Bearer {token.secret}"}
    else:
        email = "ann@acme.test" if caller == "acme-only person" else "olga@outsource.test"
        client, csrf = _signed_in(product, email, workspace)
        headers = {"x-csrf-token": csrf}
    calls = list(_walled_calls(product))
    if caller == "api token":
        calls = [c for c in calls if c.path.startswith("/api/")]
    assert len(calls) > 40
    with session_factory() as s:
        before = snapshot(s, globex.id)
        targets = [(call, fill_path(s, call, globex.id)) for call in calls]
    breaches = []
    for call, path in targets:
        status = _call(client, call, path, headers, acting)
        if status not in WALL:
            breaches.append(f"{call} -> {path}: {status}")
    assert breaches == [], "\n".join(breaches)
    # What changes Acme as a whole (settings, new objects, a retention prune) stays in Acme.
    for call in _workspace_wide_writes(product):
        if caller == "api token" and not call.path.startswith("/api/"):
            continue
        status = _call(client, call, call.path, headers, acting)
        assert status < 500, f"{call}: {status}"
    with session_factory() as s:
        assert snapshot(s, globex.id) == before  # not one row of Globex changed
    if caller != "api token":
        assert client.get("/console").status_code == 200  # the session outlived every call


def _reads(app: FastAPI) -> list[RouteCall]:
    return [
        c
        for c in route_calls(app)
        if c.method == "GET" and c.path not in PUBLIC and c.path not in SESSION_ROUTES
    ]


def test_a_two_workspace_person_sees_only_the_workspace_of_their_session(
    product: FastAPI,
    seeded: None,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    globex: Workspace,
) -> None:
    client, csrf = _signed_in(product, "olga@outsource.test", workspace)
    reads = _reads(product)
    assert len(reads) > 40
    for here, there in ((workspace, globex), (globex, workspace)):
        if here is globex:
            moved = client.post(
                "/switch-workspace",
                data={"csrf_token": csrf, "workspace_id": str(globex.id)},
                follow_redirects=False,
            )
            assert moved.status_code == 303
        with session_factory() as s:
            targets = [(c, fill_path(s, c, here.id)) for c in reads]
        leaks, broken, shown = [], [], 0
        for call, path in targets:
            response = client.get(path, params=request_parts(call)["params"])
            if response.status_code != 200:
                broken.append(f"{call} -> {path}: {response.status_code}")
            if marker(there) in response.text:
                leaks.append(f"{call} -> {path}")
            shown += marker(here) in response.text
        assert leaks == [], f"{there.slug}'s data shown in {here.slug}: {leaks}"
        # Each route reached a real object of the session's workspace, so the 404s of the
        # wall above come from the wall, not from a wrong id.
        assert broken == [], "\n".join(broken)
        assert shown > 20, "too few pages show the workspace's own data to prove anything"


def test_the_public_routes_show_no_workspace_data(
    product: FastAPI, seeded: None, workspace: Workspace, globex: Workspace
) -> None:
    client = TestClient(product, base_url="https://testserver")
    public = [c for c in route_calls(product) if c.path in PUBLIC and not c.params]
    assert {"/health", "/metrics", "/login"} <= {c.path for c in public}
    for call in public:
        if call.method != "GET":
            continue
        text = client.get(call.path, follow_redirects=False).text
        assert marker(workspace) not in text and marker(globex) not in text, str(call)
