"""The rules reach X: polling searches with them, and a public post goes out as a post of
our own (against the fake X server that speaks the documented shapes)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.models import ChannelAccount
from socialdesk.channels.polling import poll_x_account
from socialdesk.channels.registry import default_connectors
from socialdesk.conversations.outbox_sender import OutboxSender
from socialdesk.core.models import Workspace
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.listening import bulk, incidents, rule_service
from socialdesk.listening.rules import RuleSpec
from socialdesk.people.models import User
from tests.channels.fake_x import FakeX
from tests.channels.helpers import SECRET, add_account
from tests.listening.conftest import NOW


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    with FakeX().serve() as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def x(session_factory: sessionmaker[Session], workspace: Workspace, fake_x: FakeX) -> int:
    return add_account(
        session_factory,
        workspace.id,
        "x",
        credentials={"access_token": "user-token"},
        settings={"api_base": fake_x.base_url},
    ).id


def test_polling_searches_x_with_the_rules(
    session_factory: sessionmaker[Session], workspace: Workspace, x: int, fake_x: FakeX
) -> None:
    with session_factory() as s:
        rule_service.create_rule(
            s,
            workspace.id,
            RuleSpec(name="Brand", terms=["acme fiber"], hashtags=["AcmeDown"]),
            user_id=None,
            now=NOW,
        )
        s.commit()
        account = s.get(ChannelAccount, x)
        assert account is not None
        assert account.settings["rules_query"] == '("acme fiber" OR #acmedown) -is:retweet'
    poll_x_account(session_factory, Pipeline(session_factory), account_id=x, secret_key=SECRET)
    searched = [c.query["query"] for c in fake_x.calls("GET", "/2/tweets/search/recent")]
    assert searched == ['("acme fiber" OR #acmedown) -is:retweet']
    with session_factory() as s:
        rule = rule_service.list_rules(s, workspace.id)[0]
        rule_service.set_active(s, workspace.id, rule.id, False, NOW)
        s.commit()
        account = s.get(ChannelAccount, x)
        assert account is not None and account.settings["rules_query"] == ""


def test_a_public_post_is_a_post_of_our_own_on_x(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    x: int,
    fake_x: FakeX,
    supervisor: User,
) -> None:
    with session_factory() as s:
        incident = incidents.open_incident(
            s, workspace.id, title="Outage", criteria={}, now=NOW, user_id=supervisor.id
        )
        bulk.public_post(
            s,
            workspace.id,
            incident.id,
            user=supervisor,
            text="Engineers are fixing a network fault in the north. Next update 11:00.",
            channel="x",
            now=NOW,
        )
        s.commit()
    report = OutboxSender(session_factory, default_connectors(), secret_key=SECRET).run_once()
    assert report.sent == 1
    # A post of its own: it answers nothing and quotes nothing.
    assert [(p["text"], p["reply_to"], p["quote_of"]) for p in fake_x.posts] == [
        ("Engineers are fixing a network fault in the north. Next update 11:00.", None, None)
    ]
