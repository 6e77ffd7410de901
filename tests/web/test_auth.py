"""Signing in: argon2 hashes, safe cookies, rate limits, CSRF, roles and workspace walls."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.clock import FrozenClock
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task, TaskStatus
from socialdesk.people.models import User
from socialdesk.web import auth
from tests.web.conftest import PASSWORD, START, add_user, csrf_of, sign_in
from tests.web.factories import make_case


def test_passwords_are_stored_as_argon2id_hashes(
    session_factory: sessionmaker[Session], agent: User
) -> None:
    with session_factory() as s:
        stored = s.get(User, agent.id)
        assert stored is not None
        password_hash = auth.password_hash_of(s, stored)
        assert password_hash is not None
        assert password_hash.startswith("$argon2id$")
        assert PASSWORD not in password_hash
        assert auth.verify_password(password_hash, PASSWORD)
        assert not auth.verify_password(password_hash, PASSWORD + "x")


def test_a_good_sign_in_sets_a_secure_httponly_samesite_cookie(
    client: TestClient, agent: User
) -> None:
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"email": agent.email, "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("sd_session="))
    lowered = cookie.lower()
    assert "httponly" in lowered and "secure" in lowered and "samesite=strict" in lowered


def test_a_wrong_password_is_refused_without_a_session(client: TestClient, agent: User) -> None:
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"email": agent.email, "password": "wrong-password", "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert "wrong workspace, e-mail or password" in response.text
    assert "sd_session" not in response.cookies
    assert client.get("/console/inbox", follow_redirects=False).status_code == 401


def test_sign_in_without_the_form_token_is_refused(client: TestClient, agent: User) -> None:
    response = client.post(
        "/login", data={"email": agent.email, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403


def test_repeated_failures_lock_the_account_for_a_while(
    client: TestClient, agent: User, clock: FrozenClock
) -> None:
    for _ in range(auth.MAX_FAILURES_PER_ACCOUNT):
        form = client.get("/login")
        client.post(
            "/login",
            data={"email": agent.email, "password": "guess", "csrf_token": csrf_of(form.text)},
        )
    form = client.get("/login")
    locked = client.post(
        "/login",
        data={"email": agent.email, "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert locked.status_code == 429
    clock.advance(auth.RATE_WINDOW + timedelta(seconds=1))
    sign_in(client, agent.email)


def test_state_changes_need_the_session_csrf_token(
    client: TestClient, agent: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        conv, _task, _ = make_case(s, workspace.id, text="help", at=START)
        s.commit()
    token = sign_in(client, agent.email)
    forged = client.post(f"/console/c/{conv.id}/resolve", follow_redirects=False)
    assert forged.status_code == 403
    wrong = client.post(
        f"/console/c/{conv.id}/resolve", data={"csrf_token": "nope"}, follow_redirects=False
    )
    assert wrong.status_code == 403
    with session_factory() as s:
        assert s.scalars(select(Task)).one().status == TaskStatus.OPEN
    ok = client.post(
        f"/console/c/{conv.id}/resolve", data={"csrf_token": token}, follow_redirects=False
    )
    assert ok.status_code == 303
    with session_factory() as s:
        assert s.scalars(select(Task)).one().status == TaskStatus.DONE


def test_roles_are_enforced_on_pages_and_actions(
    client: TestClient, agent: User, supervisor: User, admin: User
) -> None:
    token = sign_in(client, agent.email)
    assert client.get("/dashboard").status_code == 403
    assert client.get("/dashboard/live").status_code == 403
    assert client.get("/admin/agents").status_code == 403
    refused = client.post(
        "/admin/agents",
        data={"csrf_token": token, "email": "x@acme.test", "name": "X", "password": "12345678"},
    )
    assert refused.status_code == 403

    client.cookies.clear()
    token = sign_in(client, supervisor.email)
    assert client.get("/dashboard").status_code == 200
    assert client.get("/admin/agents").status_code == 200
    refused = client.post(
        "/admin/agents",
        data={"csrf_token": token, "email": "x@acme.test", "name": "X", "password": "12345678"},
    )
    assert refused.status_code == 403

    client.cookies.clear()
    token = sign_in(client, admin.email)
    created = client.post(
        "/admin/agents",
        data={"csrf_token": token, "email": "x@acme.test", "name": "X", "password": "12345678"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    assert "x@acme.test" in client.get("/admin/agents").text


def test_pages_send_strangers_to_the_sign_in_form(client: TestClient) -> None:
    page = client.get("/console", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"
    assert client.get("/console/inbox", headers={"accept": "*/*"}).status_code == 401


def test_signing_out_revokes_the_session(client: TestClient, agent: User) -> None:
    token = sign_in(client, agent.email)
    stolen = client.cookies.get("sd_session") or ""
    client.cookies.clear()
    client.cookies.set("sd_session", stolen, domain="testserver.local")
    assert client.get("/console/inbox").status_code == 200
    client.post("/logout", data={"csrf_token": token})
    client.cookies.set("sd_session", stolen, domain="testserver.local")
    assert client.get("/console/inbox", headers={"accept": "*/*"}).status_code == 401


def test_one_workspace_never_sees_another(
    client: TestClient,
    agent: User,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    with session_factory() as s:
        other = Workspace(slug="globex", name="Globex")
        s.add(other)
        s.flush()
        theirs, _, _ = make_case(s, other.id, text="their secret complaint", at=START)
        mine, _, _ = make_case(s, workspace.id, text="our customer", at=START)
        s.commit()
        other_id = other.id
    add_user(
        session_factory,
        Workspace(id=other_id, slug="globex", name="Globex"),
        "ana@acme.test",
        "agent",
    )
    sign_in(client, agent.email)
    inbox = client.get("/console?scope=team").text
    assert "our customer" in inbox and "their secret complaint" not in inbox
    assert client.get(f"/console/c/{theirs.id}").status_code == 404
    token = csrf_of(client.get(f"/console/c/{mine.id}").text)
    assert (
        client.post(f"/console/c/{theirs.id}/resolve", data={"csrf_token": token}).status_code
        == 404
    )


def _attempt(
    factory: sessionmaker[Session], slug: str, email: str, password: str, clock: FrozenClock
) -> str:
    """One sign-in in a transaction of its own, as the login form makes it; its outcome."""
    with factory() as s:
        try:
            auth.authenticate(
                s,
                workspace_slug=slug,
                email=email,
                password=password,
                client="1.2.3.4",
                clock=clock,
            )
            outcome = "signed in"
        except auth.TooManyAttempts:
            outcome = "refused unchecked"
        except auth.LoginRejected:
            outcome = "checked and wrong"
        s.commit()
        return outcome


def test_parallel_guesses_get_no_more_checks_than_the_limit(
    session_factory: sessionmaker[Session], agent: User, clock: FrozenClock
) -> None:
    with ThreadPoolExecutor(max_workers=30) as pool:
        outcomes = list(
            pool.map(
                lambda i: _attempt(session_factory, "acme", agent.email, f"guess {i}", clock),
                range(30),
            )
        )
    assert outcomes.count("checked and wrong") == auth.MAX_FAILURES_PER_ACCOUNT
    assert outcomes.count("refused unchecked") == 30 - auth.MAX_FAILURES_PER_ACCOUNT
    assert _attempt(session_factory, "acme", agent.email, PASSWORD, clock) == "refused unchecked"


def test_failures_in_another_workspace_do_not_lock_the_account_out(
    session_factory: sessionmaker[Session], agent: User, clock: FrozenClock
) -> None:
    with session_factory() as s:
        s.add(Workspace(slug="globex", name="Globex"))
        s.commit()
    for i in range(auth.MAX_FAILURES_PER_ACCOUNT + 1):
        _attempt(session_factory, "globex", agent.email, f"guess {i}", clock)
    assert _attempt(session_factory, "acme", agent.email, PASSWORD, clock) == "signed in"
