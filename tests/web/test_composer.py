"""The composer: replies on the same channel, knowledge-base links, channel shifts."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.accounts import create_account
from socialdesk.channels.models import ChannelShift, KbLink, OutboxItem
from socialdesk.conversations.models import Message
from socialdesk.core.models import Workspace
from socialdesk.knowledge.service import save_article
from socialdesk.people.models import User
from tests.web.conftest import START, sign_in
from tests.web.factories import make_case


def test_a_reply_with_an_article_is_queued_on_the_same_channel_and_the_link_recorded(
    client: TestClient, agent: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        conv, _, _ = make_case(s, workspace.id, text="how do refunds work?", at=START)
        article = save_article(
            s, workspace_id=workspace.id, title="Refunds", url="https://help.acme.test/refunds"
        )
        s.commit()
    token = sign_in(client, agent.email)
    response = client.post(
        f"/console/c/{conv.id}/reply",
        data={
            "csrf_token": token,
            "text": "Here is how refunds work:",
            "visibility": "public",
            "kb_article_id": str(article.id),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    with session_factory() as s:
        reply = s.scalars(select(Message).where(Message.direction == "outbound")).one()
        assert reply.channel == "x" and reply.conversation_id == conv.id
        link = s.scalars(select(KbLink)).one()
        assert link.url == "https://help.acme.test/refunds" and link.message_id == reply.id
        assert s.scalars(select(OutboxItem)).all() != []
    page = client.get(f"/console/c/{conv.id}").text
    assert "our reply" in page and "Here is how refunds work:" in page


def test_a_reply_over_the_channel_limit_is_refused_and_nothing_is_queued(
    client: TestClient, agent: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        conv, _, _ = make_case(s, workspace.id, text="help", at=START)
        s.commit()
    token = sign_in(client, agent.email)
    response = client.post(
        f"/console/c/{conv.id}/reply",
        data={"csrf_token": token, "text": "x" * 281, "visibility": "public"},
    )
    assert response.status_code == 400
    with session_factory() as s:
        assert s.scalars(select(Message).where(Message.direction == "outbound")).all() == []


def test_a_channel_shift_to_a_private_message_keeps_its_reason(
    client: TestClient, agent: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        conv, _, _ = make_case(s, workspace.id, text="my account is locked", at=START)
        s.commit()
    token = sign_in(client, agent.email)
    missing_reason = client.post(
        f"/console/c/{conv.id}/shift", data={"csrf_token": token, "action": "dm", "reason": ""}
    )
    assert missing_reason.status_code == 422
    assert "reason" in missing_reason.text and "That did not work" in missing_reason.text
    client.post(
        f"/console/c/{conv.id}/shift",
        data={"csrf_token": token, "action": "dm", "reason": "needs the account number"},
    )
    with session_factory() as s:
        shift = s.scalars(select(ChannelShift)).one()
        assert (shift.conversation_id, shift.kind, shift.reason) == (
            conv.id,
            "dm",
            "needs the account number",
        )
    assert "shift to dm" in client.get(f"/console/c/{conv.id}").text


def test_the_composer_shows_the_messenger_window_and_its_deadline(
    client: TestClient, agent: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        conv, _, _ = make_case(
            s,
            workspace.id,
            text="my bill doubled",
            at=START - timedelta(hours=30),
            channel="facebook",
            visibility="private",
        )
        s.commit()
    sign_in(client, agent.email)
    page = client.get(f"/console/c/{conv.id}").text
    # 30 hours after the customer wrote: only a person, with the HUMAN_AGENT tag, for 7 days.
    assert 'class="reply-window human_agent"' in page
    assert "open until" in page and "2026-11-29 03:00 UTC" in page and "HUMAN_AGENT" in page
    assert 'disabled title="The platform does not accept an answer now"' not in page


def test_after_seven_days_the_composer_blocks_the_reply_and_offers_a_channel_shift(
    client: TestClient, agent: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        conv, _, _ = make_case(
            s,
            workspace.id,
            text="my bill doubled",
            at=START - timedelta(days=8),
            channel="facebook",
            visibility="private",
        )
        s.commit()
    token = sign_in(client, agent.email)
    page = client.get(f"/console/c/{conv.id}").text
    assert 'class="reply-window blocked"' in page
    assert "more than 7 days old" in page and "e-mail or a phone callback" in page
    assert 'disabled title="The platform does not accept an answer now"' in page
    assert '<details class="shift" open>' in page
    refused = client.post(
        f"/console/c/{conv.id}/reply",
        data={"csrf_token": token, "text": "Still there?", "visibility": "private"},
    )
    assert refused.status_code == 400 and "more than 7 days old" in refused.text
    with session_factory() as s:
        assert s.scalars(select(OutboxItem)).all() == []


def test_the_case_shows_an_edit_with_the_original_and_a_removal(
    client: TestClient, agent: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        conv, _, message = make_case(
            s, workspace.id, text="refund now <b>please</b>", at=START, channel="facebook"
        )
        message.original_text, message.edited_at = "refund?", START + timedelta(minutes=5)
        message.removed_at = START + timedelta(minutes=9)
        s.commit()
    sign_in(client, agent.email)
    page = client.get(f"/console/c/{conv.id}").text
    assert "edited" in page and "original, as first posted" in page and "refund?" in page
    assert "removed by the author" in page
    assert "&lt;b&gt;please&lt;/b&gt;" in page  # the edited text is escaped like any post


def test_an_x_post_that_does_not_name_the_account_offers_a_dm_or_a_quote(
    client: TestClient, agent: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        create_account(
            s,
            workspace_id=workspace.id,
            channel="x",
            external_id="900",
            secret_key="test-secret",
            handle="@AcmeCare",
        )
        conv, _, _ = make_case(s, workspace.id, text="acme outage again", at=START)
        named, _, _ = make_case(s, workspace.id, text="@AcmeCare outage again", at=START)
        s.commit()
    sign_in(client, agent.email)
    page = client.get(f"/console/c/{conv.id}").text
    assert '<option value="public" disabled' in page
    assert '<option value="quote">quote the post</option>' in page
    assert "mention or quote the account" in page
    assert 'disabled title="The platform does not accept an answer now"' not in page
    mentioned = client.get(f"/console/c/{named.id}").text
    assert '<option value="public" disabled' not in mentioned and "quote the post" not in mentioned
