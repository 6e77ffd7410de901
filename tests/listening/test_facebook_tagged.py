"""Facebook Page mentions: polling reads the public posts that tag the Page (against the fake
Graph API speaking Page Tagged's documented shapes), and the rules mark the mentions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.models import ChannelAccount
from socialdesk.channels.polling import poll_facebook_account
from socialdesk.conversations.models import Message
from socialdesk.core.models import Workspace
from socialdesk.listening import rule_service
from socialdesk.listening.models import ListeningMatch
from socialdesk.listening.rules import RuleSpec
from tests.channels.fake_meta import FakeMeta
from tests.channels.helpers import SECRET, add_account
from tests.listening.conftest import NOW, listening_pipeline


@pytest.fixture
def fake() -> Iterator[FakeMeta]:
    with FakeMeta(access_token="page-token").serve() as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def page(session_factory: sessionmaker[Session], workspace: Workspace, fake: FakeMeta) -> int:
    return add_account(
        session_factory,
        workspace.id,
        "facebook",
        credentials={"access_token": "page-token"},
        settings={"api_base": f"{fake.base_url}/v21.0"},
    ).id


def tagged(n: int, message: str, minutes: int) -> dict[str, object]:
    return {
        "id": f"10{n:03d}_20{n:03d}",
        "message": message,
        "created_time": (NOW + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "permalink_url": f"https://www.facebook.com/10{n:03d}/posts/20{n:03d}",
        "from": {"id": f"10{n:03d}", "name": f"Person {n}"},
    }


def test_posts_that_tag_the_page_come_in_once_and_the_rules_mark_them(
    session_factory: sessionmaker[Session], workspace: Workspace, page: int, fake: FakeMeta
) -> None:
    with session_factory() as s:
        rule_service.create_rule(
            s, workspace.id, RuleSpec(name="Outage", hashtags=["acmedown"]), user_id=None, now=NOW
        )
        s.commit()
    # 150 posts, newest first: two pages of 100.
    fake.tagged_posts = [
        tagged(n, f"Acme Telecom still no signal #AcmeDown ({n})" if n % 2 else f"thanks ({n})", n)
        for n in range(150, 0, -1)
    ]
    pipeline = listening_pipeline(session_factory)
    report = poll_facebook_account(session_factory, pipeline, account_id=page, secret_key=SECRET)
    assert (report.fetched, report.accepted) == (150, 150)
    calls = fake.calls("GET", "/v21.0/page-1/tagged")
    assert len(calls) == 2 and "since" not in calls[0].query
    with session_factory() as s:
        matches = s.scalars(select(ListeningMatch)).all()
        assert len(matches) == 75 and all(m.mention for m in matches)
        account = s.get(ChannelAccount, page)
        assert account is not None and account.settings["tagged_cursor"].startswith(
            "2026-11-23T11:30"
        )

    # The next round asks only for what is newer.
    fake.tagged_posts.insert(0, tagged(151, "down again #acmedown", 151))
    report = poll_facebook_account(session_factory, pipeline, account_id=page, secret_key=SECRET)
    assert (report.fetched, report.accepted) == (1, 1)
    assert fake.calls("GET", "/v21.0/page-1/tagged")[-1].query["since"] == str(
        int((NOW + timedelta(minutes=150)).timestamp())
    )
    with session_factory() as s:
        assert s.scalar(select(Message).where(Message.external_id == "10151_20151")) is not None
