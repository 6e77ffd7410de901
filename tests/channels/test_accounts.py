"""Channel accounts: credentials encrypted at rest, never shown, never logged."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from socialdesk.channels.accounts import create_account, credentials_of, public_view
from socialdesk.channels.credentials import decrypt_credentials
from socialdesk.channels.models import ChannelAccount
from socialdesk.cli import app
from socialdesk.core.db import make_engine, make_session_factory
from socialdesk.core.errors import Conflict, InvalidInput
from socialdesk.core.models import Workspace
from tests.channels.helpers import SECRET

TOKEN = "EAAB-very-secret-page-token"


def test_credentials_are_stored_encrypted_and_read_back_with_the_key(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        create_account(
            s,
            workspace_id=workspace.id,
            channel="facebook",
            external_id="page-1",
            secret_key=SECRET,
            credentials={"access_token": TOKEN},
        )
        s.commit()
    with session_factory() as s:
        stored = s.execute(text("SELECT credentials_encrypted FROM channel_accounts")).scalar_one()
        assert TOKEN not in stored
        account = s.scalars(select(ChannelAccount)).one()
        assert credentials_of(account, SECRET).get("access_token") == TOKEN
        with pytest.raises(InvalidInput, match="secret_key changed"):
            decrypt_credentials(account.credentials_encrypted, "another-key")


def test_credentials_never_show_in_views_or_reprs(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        account = create_account(
            s,
            workspace_id=workspace.id,
            channel="x",
            external_id="900",
            secret_key=SECRET,
            credentials={"access_token": TOKEN},
            settings={"api_secret": "s3", "poll": "true"},
        )
        view = json.dumps(public_view(account))
        credentials = credentials_of(account, SECRET)
        assert TOKEN not in view and "s3" not in view
        assert json.loads(view)["has_credentials"] is True
        assert TOKEN not in repr(credentials) and TOKEN not in str(credentials)


def test_an_account_is_unique_per_workspace_and_channel(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        create_account(
            s, workspace_id=workspace.id, channel="x", external_id="900", secret_key=SECRET
        )
        with pytest.raises(Conflict):
            create_account(
                s, workspace_id=workspace.id, channel="x", external_id="900", secret_key=SECRET
            )
        with pytest.raises(InvalidInput, match="unknown channel"):
            create_account(
                s, workspace_id=workspace.id, channel="myspace", external_id="1", secret_key=SECRET
            )


def test_the_command_line_reads_credentials_from_a_file_and_never_prints_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SOCIALDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SOCIALDESK_SECRET_KEY", "cli-key")
    monkeypatch.delenv("SOCIALDESK_DATABASE_URL", raising=False)
    from socialdesk.config import get_settings

    get_settings.cache_clear()
    creds = tmp_path / "creds.json"
    creds.write_text(json.dumps({"access_token": TOKEN, "app_secret": "app-s"}))
    runner = CliRunner()
    caplog.set_level(logging.DEBUG)
    try:
        added = runner.invoke(
            app,
            ["channels", "accounts", "add", "facebook", "page-1", "--credentials-file", str(creds)],
        )
        creds.write_text(json.dumps({"access_token": "renewed", "app_secret": "app-s"}))
        renewed = runner.invoke(
            app, ["channels", "accounts", "set-credentials", "1", "--credentials-file", str(creds)]
        )
        listed = runner.invoke(app, ["channels", "accounts", "list"])
    finally:
        get_settings.cache_clear()
    assert added.exit_code == 0, added.output
    assert "/webhooks/facebook/1" in added.output
    assert renewed.exit_code == 0 and "credentials replaced" in renewed.output
    assert '"has_credentials": true' in listed.output
    for output in (added.output, renewed.output, listed.output, caplog.text):
        assert TOKEN not in output and "app-s" not in output and 'renewed"' not in output
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'socialdesk.sqlite3'}")
    with make_session_factory(engine)() as s:
        stored = s.scalars(select(ChannelAccount)).one()
        assert credentials_of(stored, "cli-key").get("access_token") == "renewed"
    engine.dispose()
