"""The rules reach Instagram: polling searches the rules' hashtags (against the fake Graph API
speaking Hashtag Search's documented shapes), and the posts found are marked as mentions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from socialdesk.channels.models import ChannelAccount
from socialdesk.channels.polling import poll_instagram_account
from socialdesk.cli import app
from socialdesk.core.models import Workspace
from socialdesk.listening import rule_service
from socialdesk.listening.models import ListeningMatch
from socialdesk.listening.rules import RuleSpec
from tests.channels.fake_meta import FakeMeta
from tests.channels.helpers import SECRET, add_account
from tests.listening.conftest import NOW, listening_pipeline

HASHTAG_ID = "17843857450040591"


@pytest.fixture
def fake() -> Iterator[FakeMeta]:
    with FakeMeta(access_token="user-token").serve() as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def instagram(session_factory: sessionmaker[Session], workspace: Workspace, fake: FakeMeta) -> int:
    return add_account(
        session_factory,
        workspace.id,
        "instagram",
        credentials={"access_token": "user-token"},
        settings={"api_base": f"{fake.base_url}/v21.0"},
    ).id


def media(n: int, caption: str, minutes: int) -> dict[str, object]:
    return {
        "id": f"1790000000000{n:04d}",
        "caption": caption,
        "timestamp": (NOW + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "permalink": f"https://www.instagram.com/p/abc{n}/",
        "media_type": "IMAGE",
        "comments_count": n,
        "like_count": 10 * n,
    }


def test_polling_searches_the_rules_hashtags_once_each_post(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    instagram: int,
    fake: FakeMeta,
) -> None:
    with session_factory() as s:
        rule_service.create_rule(
            s,
            workspace.id,
            RuleSpec(name="Outage", terms=["acme fiber"], hashtags=["AcmeDown"]),
            user_id=None,
            now=NOW,
        )
        s.commit()
        account = s.get(ChannelAccount, instagram)
        assert account is not None and account.settings["rules_hashtags"] == ["acmedown"]
    fake.hashtag_ids["acmedown"] = HASHTAG_ID
    # 60 posts, newest first: more than one page of 50.
    fake.hashtag_media[HASHTAG_ID] = [
        media(n, f"no signal since noon #AcmeDown ({n})", n) for n in range(60, 0, -1)
    ]
    pipeline = listening_pipeline(session_factory)
    report = poll_instagram_account(
        session_factory, pipeline, account_id=instagram, secret_key=SECRET
    )
    assert (report.fetched, report.accepted) == (60, 60)
    searched = fake.calls("GET", "/v21.0/ig_hashtag_search")
    assert [c.query["q"] for c in searched] == ["acmedown"]
    pages = fake.calls("GET", f"/v21.0/{HASHTAG_ID}/recent_media")
    assert len(pages) == 2 and all(c.query["user_id"] == "ig-1" for c in pages)
    with session_factory() as s:
        matches = s.scalars(select(ListeningMatch)).all()
        assert len(matches) == 60 and all(m.mention for m in matches)

    # The next round: the hashtag's id is known, and only the newer post comes in.
    fake.hashtag_media[HASHTAG_ID].insert(0, media(61, "still down #acmedown", 61))
    report = poll_instagram_account(
        session_factory, pipeline, account_id=instagram, secret_key=SECRET
    )
    assert (report.fetched, report.accepted) == (1, 1)
    assert len(fake.calls("GET", "/v21.0/ig_hashtag_search")) == 1


def test_socialdesk_channels_poll_searches_an_instagram_account_that_opted_in(
    cli_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    instagram: int,
    fake: FakeMeta,
) -> None:
    from socialdesk.config import get_settings

    monkeypatch.setenv("SOCIALDESK_SECRET_KEY", SECRET)
    get_settings.cache_clear()
    with session_factory() as s:
        rule_service.create_rule(
            s, workspace.id, RuleSpec(name="Outage", hashtags=["acmedown"]), user_id=None, now=NOW
        )
        account = s.get(ChannelAccount, instagram)
        assert account is not None
        account.settings = {**account.settings, "poll": "true"}
        s.commit()
    fake.hashtag_ids["acmedown"] = HASHTAG_ID
    fake.hashtag_media[HASHTAG_ID] = [media(1, "down again #acmedown", 1)]
    result = CliRunner().invoke(app, ["channels", "poll"])
    assert result.exit_code == 0, result.output
    assert f"account {instagram}: fetched 1, new 1" in result.output
    with session_factory() as s:
        assert len(s.scalars(select(ListeningMatch)).all()) == 1
