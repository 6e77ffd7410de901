"""X user tokens last two hours: the sender refreshes them and keeps the rotated pair."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.accounts import credentials_of, set_credentials
from socialdesk.channels.models import ChannelAccount, OutboxItem
from socialdesk.channels.polling import poll_x_account
from socialdesk.conversations.outbox_sender import OutboxSender, SendReport
from socialdesk.core.clock import FrozenClock
from socialdesk.core.models import Workspace
from socialdesk.ingest.pipeline import Pipeline
from tests.channels.fake_x import FakeX
from tests.channels.helpers import SECRET
from tests.channels.x_helpers import answer_the_mention, x_account

OFFLINE = {"refresh_token": "refresh-1", "client_id": "client-1"}


def test_an_expired_token_is_refreshed_and_the_reply_still_goes_out(
    client: TestClient,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    sender: OutboxSender,
    fake_x: FakeX,
) -> None:
    account = x_account(session_factory, workspace, fake_x, OFFLINE)
    answer_the_mention(client, account, session_factory, "We are on it.")
    fake_x.access_token = "issued-two-hours-later"  # "user-token" has expired
    assert sender.run_once().sent == 1
    [refresh] = fake_x.calls("POST", "/2/oauth2/token")
    assert refresh.form() == {
        "grant_type": "refresh_token",
        "refresh_token": "refresh-1",
        "client_id": "client-1",
    }
    assert fake_x.calls("POST", "/2/tweets")[-1].headers["authorization"] == "Bearer user-token-2"
    with session_factory() as s:
        stored = s.get(ChannelAccount, account.id)
        assert stored is not None
        # The rotated pair is stored encrypted (the old refresh token is spent) ...
        assert "refresh-2" not in (stored.credentials_encrypted or "")
        renewed = credentials_of(stored, SECRET)
        assert (renewed.get("access_token"), renewed.get("refresh_token")) == (
            "user-token-2",
            "refresh-2",
        )
        assert renewed.get("expires_at")
        # ... and the rotation is recorded on the account.
        assert stored.settings["token_rotations"] == 1
        assert stored.settings["token_rotated_at"]


def test_a_401_is_final_only_after_the_refresh_fails(
    client: TestClient,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    sender: OutboxSender,
    fake_x: FakeX,
) -> None:
    account = x_account(session_factory, workspace, fake_x, OFFLINE)
    answer_the_mention(client, account, session_factory, "We are on it.")
    fake_x.access_token = "issued-elsewhere"
    fake_x.refresh_token = "revoked-by-the-user"
    assert sender.run_once().failed == 1
    with session_factory() as s:
        item = s.scalars(select(OutboxItem)).one()
        assert (item.status, item.error_code) == ("failed", "401")
        assert "refreshing it failed" in (item.error_reason or "")
        assert "Value passed for the token was invalid." in (item.error_reason or "")
    assert fake_x.posts == []


def test_polling_refreshes_the_token_too_and_keeps_the_new_pair(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    fake_x: FakeX,
    clock: FrozenClock,
) -> None:
    account = x_account(session_factory, workspace, fake_x, OFFLINE)
    fake_x.access_token = "issued-two-hours-later"
    poll_x_account(
        session_factory,
        Pipeline(session_factory, clock=clock),
        account_id=account.id,
        secret_key=SECRET,
    )
    with session_factory() as s:
        stored = s.get(ChannelAccount, account.id)
        assert stored is not None
        assert credentials_of(stored, SECRET).get("refresh_token") == "refresh-2"


def test_a_refresh_token_spent_by_another_sender_is_no_reason_to_give_up(
    client: TestClient,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    sender: OutboxSender,
    fake_x: FakeX,
    clock: FrozenClock,
) -> None:
    account = x_account(session_factory, workspace, fake_x, OFFLINE)
    answer_the_mention(client, account, session_factory, "We are on it.")
    [claim] = sender._claim(10)  # holds the old pair (user-token, refresh-1)
    # Meanwhile another sender refreshed: X issued a new pair and spent refresh-1.
    fake_x.access_token, fake_x.refresh_token = "user-token-7", "refresh-7"
    with session_factory() as s:
        stored = s.get(ChannelAccount, account.id)
        assert stored is not None
        set_credentials(
            stored,
            {
                **credentials_of(stored, SECRET).to_store(),
                "access_token": "user-token-7",
                "refresh_token": "refresh-7",
            },
            SECRET,
        )
        s.commit()
    report = SendReport()
    sender._deliver(claim, report)
    assert (report.failed, report.retried) == (0, 1)
    clock.advance(timedelta(minutes=1))
    assert sender.run_once().sent == 1
    assert fake_x.calls("POST", "/2/tweets")[-1].headers["authorization"] == "Bearer user-token-7"
