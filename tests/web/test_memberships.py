"""One person, several workspaces: one sign-in, a role per workspace, a switcher, the walls."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.core.audit import AuditEvent
from socialdesk.core.errors import InvalidInput
from socialdesk.core.models import Workspace
from socialdesk.people.models import Person, User
from socialdesk.routing.service import upsert_agent
from socialdesk.web import auth
from tests.web.conftest import PASSWORD, START, add_user, csrf_of, sign_in
from tests.web.factories import make_case


def _second_workspace(factory: sessionmaker[Session], slug: str = "globex") -> Workspace:
    with factory() as s:
        ws = Workspace(slug=slug, name=f"{slug.title()} Energy")
        s.add(ws)
        s.commit()
        return ws


def _olga_in_both(
    factory: sessionmaker[Session], acme: Workspace, globex: Workspace
) -> tuple[User, User]:
    """An outsourcer's agent with a membership of each workspace."""
    return (
        add_user(factory, acme, "olga@outsource.test", "agent", "Olga"),
        add_user(factory, globex, "olga@outsource.test", "agent", "Olga"),
    )


def _switch(client: TestClient, csrf: str, workspace_id: int) -> int:
    response = client.post(
        "/switch-workspace",
        data={"csrf_token": csrf, "workspace_id": str(workspace_id)},
        follow_redirects=False,
    )
    return response.status_code


def _actions(factory: sessionmaker[Session], workspace_id: int, action: str) -> list[AuditEvent]:
    with factory() as s:
        return list(
            s.scalars(
                select(AuditEvent).where(
                    AuditEvent.workspace_id == workspace_id, AuditEvent.action == action
                )
            )
        )


def test_one_person_signs_in_once_and_switches_with_a_role_in_each_workspace(
    client: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    globex = _second_workspace(session_factory)
    ours = add_user(session_factory, workspace, "olga@outsource.test", "supervisor", "Olga")
    theirs = add_user(session_factory, globex, "olga@outsource.test", "agent", "Olga")
    with session_factory() as s:
        make_case(s, workspace.id, text="acme router keeps dropping", at=START)
        make_case(s, globex.id, text="globex meter reading wrong", at=START)
        s.commit()
        assert len(s.scalars(select(Person)).all()) == 1  # one person, two memberships
    csrf = sign_in(client, ours.email)
    page = client.get("/console").text
    assert 'action="/switch-workspace"' in page and "Globex Energy (agent)" in page
    assert "acme router" in page and "globex meter" not in page
    assert client.get("/dashboard").status_code == 200  # a supervisor at Acme

    assert _switch(client, csrf, globex.id) == 303
    page = client.get("/console").text
    assert "globex meter" in page and "acme router" not in page
    assert client.get("/dashboard").status_code == 403  # an agent at Globex
    assert f'value="{globex.id}" selected' in page
    # The move is in both workspaces' audit logs, each naming its own membership.
    (out,) = _actions(session_factory, workspace.id, "session.switched")
    (into,) = _actions(session_factory, globex.id, "session.switched")
    assert out.after == into.after == {"from": "acme", "to": "globex"}
    assert (out.target_id, into.target_id) == (str(ours.id), str(theirs.id))


def test_switching_starts_a_new_session_and_the_old_cookie_is_dead(
    client: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    globex = _second_workspace(session_factory)
    _olga_in_both(session_factory, workspace, globex)
    csrf = sign_in(client, "olga@outsource.test")
    old_cookie = client.cookies.get("sd_session")
    assert _switch(client, csrf, globex.id) == 303
    assert client.cookies.get("sd_session") != old_cookie
    replayed = TestClient(client.app, base_url="https://testserver")
    replayed.cookies.set("sd_session", old_cookie or "")
    assert replayed.get("/console", follow_redirects=False).status_code == 401
    # The old CSRF token went with the old session.
    assert _switch(client, csrf, workspace.id) == 403


def test_no_switch_into_a_workspace_without_a_membership(
    client: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    globex = _second_workspace(session_factory)
    add_user(session_factory, globex, "gina@globex.test", "admin", "Gina")
    add_user(session_factory, workspace, "olga@outsource.test", "agent", "Olga")
    csrf = sign_in(client, "olga@outsource.test")
    assert 'action="/switch-workspace"' not in client.get("/console").text
    assert _switch(client, csrf, globex.id) == 403
    assert _switch(client, csrf, 999_999) == 403
    assert client.get("/console").status_code == 200  # still signed in to Acme, unchanged
    assert _actions(session_factory, globex.id, "session.switched") == []


def test_a_removed_membership_ends_access_at_once(
    client: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    globex = _second_workspace(session_factory)
    _ours, theirs = _olga_in_both(session_factory, workspace, globex)
    add_user(session_factory, globex, "gina@globex.test", "admin", "Gina")
    csrf = sign_in(client, "olga@outsource.test")
    assert _switch(client, csrf, globex.id) == 303
    assert client.get("/console").status_code == 200

    admin = TestClient(client.app, base_url="https://testserver")
    admin_csrf = sign_in(admin, "gina@globex.test", workspace="globex")
    removed = admin.post(
        f"/admin/agents/{theirs.id}",
        data={"csrf_token": admin_csrf, "role": "agent"},  # "active" unticked
        follow_redirects=False,
    )
    assert removed.status_code == 303
    # Olga's Globex session is gone on her very next request ...
    assert client.get("/console", follow_redirects=False).status_code == 401
    # ... she can still sign in to Acme, where the switcher no longer offers Globex ...
    csrf = sign_in(client, "olga@outsource.test")
    assert 'action="/switch-workspace"' not in client.get("/console").text
    # ... and a switch by hand is refused.
    assert _switch(client, csrf, globex.id) == 403
    (change,) = [
        e
        for e in _actions(session_factory, globex.id, "user.updated")
        if e.target_id == str(theirs.id) and "is_active" in e.after
    ]
    assert change.before["is_active"] is True and change.after["is_active"] is False


def test_an_admin_invites_an_existing_person_who_keeps_their_own_password(
    client: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    globex = _second_workspace(session_factory)
    add_user(session_factory, workspace, "olga@outsource.test", "agent", "Olga")
    add_user(session_factory, globex, "gina@globex.test", "admin", "Gina")
    admin = TestClient(client.app, base_url="https://testserver")
    admin_csrf = sign_in(admin, "gina@globex.test", workspace="globex")
    invited = admin.post(
        "/admin/agents",
        data={
            "csrf_token": admin_csrf,
            "email": "Olga@Outsource.test",
            "name": "Olga O.",
            "password": "globex-admin-chose-this",
            "role": "supervisor",
        },
        follow_redirects=False,
    )
    assert invited.headers["location"] == "/admin/agents?done=joined"
    # Globex's admin cannot set the password that opens Acme: Olga keeps hers.
    refused = TestClient(client.app, base_url="https://testserver")
    form = refused.get("/login")
    attempt = refused.post(
        "/login",
        data={
            "workspace": "acme",
            "email": "olga@outsource.test",
            "password": "globex-admin-chose-this",
            "csrf_token": csrf_of(form.text),
        },
        follow_redirects=False,
    )
    assert attempt.status_code == 401
    csrf = sign_in(client, "olga@outsource.test", workspace="globex")
    assert client.get("/dashboard").status_code == 200  # the role Globex gave her
    page = client.get("/console").text
    assert "Acme Telecom (agent)" in page and "Globex Energy (supervisor)" in page
    assert csrf
    (created,) = [
        e
        for e in _actions(session_factory, globex.id, "user.created")
        if e.after["email"] == "olga@outsource.test"
    ]
    assert created.after["role"] == "supervisor" and created.after["person_id"] is not None


def test_a_new_person_still_needs_a_password(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s, pytest.raises(InvalidInput, match="password"):
        auth.create_user(s, workspace.id, "new@acme.test", "New", "", "agent")


def test_sign_in_lock_out_stays_per_workspace(
    client: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    globex = _second_workspace(session_factory)
    _olga_in_both(session_factory, workspace, globex)
    statuses = []
    for _ in range(auth.MAX_FAILURES_PER_ACCOUNT + 1):
        form = client.get("/login")
        statuses.append(
            client.post(
                "/login",
                data={
                    "workspace": "acme",
                    "email": "olga@outsource.test",
                    "password": "wrong password",
                    "csrf_token": csrf_of(form.text),
                },
            ).status_code
        )
    assert statuses[-1] == 429
    sign_in(client, "olga@outsource.test", workspace="globex")  # Globex's door is open
    assert re.search(r"Globex Energy", client.get("/console").text)


def test_changing_the_password_changes_it_for_every_membership(
    client: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    globex = _second_workspace(session_factory)
    ours = add_user(session_factory, workspace, "olga@outsource.test", "agent", "Olga")
    add_user(session_factory, globex, "olga@outsource.test", "agent", "Olga")
    with session_factory() as s:
        member = s.get(User, ours.id)
        assert member is not None
        auth.set_password(s, member, "a brand new password")
        s.commit()
    sign_in(client, "olga@outsource.test", "a brand new password", workspace="globex")
    assert len(_actions(session_factory, workspace.id, "person.password_changed")) == 1
    assert len(_actions(session_factory, globex.id, "person.password_changed")) == 1


def test_a_live_stream_ends_when_its_membership_is_removed(
    client: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    """The page's event stream tells no more changes once the membership is gone."""
    globex = _second_workspace(session_factory)
    _ours, theirs = _olga_in_both(session_factory, workspace, globex)
    csrf = sign_in(client, "olga@outsource.test")
    assert _switch(client, csrf, globex.id) == 303

    def remove_then_change() -> None:
        with session_factory() as s:
            member = s.get(User, theirs.id)
            assert member is not None
            member.is_active = False
            s.commit()
            make_case(s, globex.id, text="a change after the removal", at=START)
            s.commit()

    timer = threading.Timer(1.2, remove_then_change)
    timer.start()
    started = time.monotonic()
    try:
        body = client.get("/console/events?max_seconds=8").text
    finally:
        timer.join()
    assert "event: hello" in body and "event: changed" not in body
    assert time.monotonic() - started < 6  # it ended at the change, not at its time limit


def _sign_in_anywhere(client: TestClient, password: str = PASSWORD) -> int:
    form = client.get("/login")
    return client.post(
        "/login",
        data={
            "workspace": "",
            "email": "olga@outsource.test",
            "password": password,
            "csrf_token": csrf_of(form.text),
        },
        follow_redirects=False,
    ).status_code


def test_an_empty_workspace_field_finds_the_persons_own_workspaces(
    client: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    globex = _second_workspace(session_factory)
    initech = _second_workspace(session_factory, "initech")
    add_user(session_factory, initech, "olga@outsource.test", "agent", "Olga")
    add_user(session_factory, globex, "olga@outsource.test", "supervisor", "Olga")
    # Not a member of the default workspace (acme): the first of hers by name, Globex.
    assert _sign_in_anywhere(client) == 303
    page = client.get("/console").text
    assert f'value="{globex.id}" selected' in page and "Initech Energy (agent)" in page
    # A member of the default workspace starts there.
    add_user(session_factory, workspace, "olga@outsource.test", "agent", "Olga")
    client.cookies.clear()
    assert _sign_in_anywhere(client) == 303
    assert f'value="{workspace.id}" selected' in client.get("/console").text
    client.cookies.clear()
    assert _sign_in_anywhere(client, "wrong password") == 401
    (failed,) = _actions(session_factory, workspace.id, "signin.failed")
    assert failed.actor == "olga@outsource.test"


def test_an_agent_set_up_by_routing_joins_the_person_who_signs_in_already(
    client: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    """`socialdesk agents set` (routing's upsert) in a second workspace adds a membership."""
    globex = _second_workspace(session_factory)
    add_user(session_factory, workspace, "olga@outsource.test", "agent", "Olga")
    with session_factory() as s:
        upsert_agent(s, globex.id, "olga@outsource.test", "Olga", role="supervisor")
        upsert_agent(s, globex.id, "nobody@globex.test", "Nobody")
        s.commit()
        people = {u.email: u.person_id for u in s.scalars(select(User))}
    assert people["nobody@globex.test"] is None  # no person: cannot sign in
    csrf = sign_in(client, "olga@outsource.test")
    assert "Globex Energy (supervisor)" in client.get("/console").text
    assert _switch(client, csrf, globex.id) == 303


def test_the_users_command_adds_a_membership_without_asking_for_a_password(
    cli_env: Path, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    add_user(session_factory, workspace, "olga@outsource.test", "agent", "Olga")
    runner = CliRunner()
    joined = runner.invoke(
        app,
        [
            "users",
            "add",
            "olga@outsource.test",
            "-w",
            "globex",
            "--create-workspace",
            "-r",
            "admin",
        ],
        input="",  # a prompt would read nothing and fail
    )
    assert joined.exit_code == 0, joined.output
    assert "their password is kept" in joined.output
    new = runner.invoke(app, ["users", "add", "new@globex.test", "-w", "globex"], input="")
    assert new.exit_code != 0  # a new person is asked for a password
    with session_factory() as s:
        (member,) = s.scalars(
            select(User).where(User.email == "olga@outsource.test", User.role == "admin")
        )
        assert auth.verify_password(auth.password_hash_of(s, member), PASSWORD)
