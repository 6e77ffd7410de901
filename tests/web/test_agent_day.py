"""What an agent sees through the day: honest SLA badges, who answered and whether it got
there, e-mails that read like e-mails."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.models import OutboxItem, OutboxStatus
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task, TaskStatus
from socialdesk.people.models import User
from socialdesk.web.console_views import first_line, sla_state
from tests.web.conftest import START, sign_in
from tests.web.factories import make_case


def test_answered_and_resolved_cases_carry_no_late_badge(
    client: TestClient,
    agent: User,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    clock: object,
) -> None:
    with session_factory() as s:
        late, task, _ = make_case(
            s, workspace.id, text="still no signal", at=START - timedelta(hours=3)
        )
        task.status = TaskStatus.PENDING  # answered: the customer owes the next word
        s.commit()
    sign_in(client, agent.email)
    page = client.get(f"/console/c/{late.id}").text
    assert 'class="countdown' not in page and "sla-breach" not in page
    assert sla_state(START - timedelta(hours=3), START, START, status=TaskStatus.PENDING) == "none"
    assert sla_state(START - timedelta(hours=3), START, START, status=TaskStatus.DONE) == "none"
    assert sla_state(START - timedelta(hours=3), START, START) == "breach"
    with session_factory() as s:
        s.get(Task, task.id).status = TaskStatus.OPEN  # type: ignore[union-attr]
        s.commit()
    assert "sla-breach" in client.get(f"/console/c/{late.id}").text


def test_our_reply_shows_who_answered_and_its_delivery_state_with_a_retry(
    client: TestClient, agent: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        conv, _, _ = make_case(s, workspace.id, text="my bill doubled", at=START)
        s.commit()
    token = sign_in(client, agent.email)
    client.post(
        f"/console/c/{conv.id}/reply",
        data={"csrf_token": token, "text": "Sorry, checking now", "visibility": "public"},
    )

    def our_reply() -> str:
        page = client.get(f"/console/c/{conv.id}/live").text
        (html,) = re.findall(r'<li class="msg outbound.*?</li>', page, re.DOTALL)
        return str(html)

    assert "Ana Agent" in our_reply() and 'data-delivery="queued"' in our_reply()
    with session_factory() as s:
        item = s.scalars(select(OutboxItem)).one()
        item.status, item.error_reason = OutboxStatus.FAILED, "the token was revoked"
        s.commit()
        item_id = item.id
    failed = our_reply()
    assert 'data-delivery="failed"' in failed and "the token was revoked" in failed
    retry = re.search(r'action="([^"]+/retry)"', failed)
    assert retry and retry.group(1) == f"/console/c/{conv.id}/deliveries/{item_id}/retry"
    assert client.post(retry.group(1), data={"csrf_token": token}).status_code == 200
    assert 'data-delivery="queued"' in our_reply()
    with session_factory() as s:
        assert s.get(OutboxItem, item_id).status == OutboxStatus.PENDING  # type: ignore[union-attr]
        s.get(OutboxItem, item_id).status = OutboxStatus.SENT  # type: ignore[union-attr]
        s.commit()
    assert 'data-delivery="sent"' in our_reply()
    # Another case's delivery cannot be retried from this one.
    with session_factory() as s:
        other, _, _ = make_case(s, workspace.id, text="other", at=START)
        s.commit()
    refused = client.post(
        f"/console/c/{other.id}/deliveries/{item_id}/retry", data={"csrf_token": token}
    )
    assert refused.status_code == 404


def test_the_first_line_skips_greetings() -> None:
    assert first_line("Hi,\n\nMy router has died again.") == "My router has died again."
    assert first_line("To whom it may concern,\nI was charged twice.") == "I was charged twice."
    assert first_line("Dear Acme Care team,\n\nNo signal since Monday") == "No signal since Monday"
    assert first_line("Hi my bill is wrong") == "Hi my bill is wrong"  # a post, not a greeting
    assert first_line("Hello!") == "Hello!"  # nothing else to show


def test_an_email_case_shows_its_subject_and_first_line_and_offers_only_an_email_reply(
    client: TestClient, agent: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        conv, _, _ = make_case(
            s,
            workspace.id,
            text="To whom it may concern,\n\nMy invoice for May charges roaming twice.",
            at=START,
            channel="email",
            visibility="private",
        )
        conv.subject = "Double roaming charge"
        tweet, _, _ = make_case(s, workspace.id, text="Hi, no signal in town", at=START)
        s.commit()
    sign_in(client, agent.email)
    inbox = client.get("/console?scope=all").text
    assert "Double roaming charge" in inbox
    assert "My invoice for May charges roaming twice." in inbox
    assert "To whom it may concern" not in inbox
    case = client.get(f"/console/c/{conv.id}").text
    modes = re.findall(r'<option value="(public|private)"[^>]*>([^<]+)</option>', case)
    assert modes == [("private", "e-mail reply")]
    assert "Double roaming charge" in case
    public = client.get(f"/console/c/{tweet.id}").text
    assert re.findall(r'<option value="(public|private)"[^>]*>([^<]+)</option>', public) == [
        ("public", "public reply"),
        ("private", "private message"),
    ]
