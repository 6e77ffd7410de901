"""`socialdesk tokens`: create (shown once), list (never the secret), revoke."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.web.api_tokens import find_token


def test_a_token_is_created_listed_and_revoked(
    cli_env: Path, session_factory: sessionmaker[Session]
) -> None:
    runner = CliRunner()
    created = runner.invoke(
        app, ["tokens", "create", "CRM sync", "--role", "supervisor", "-w", "acme"]
    )
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("sdk_")
    with session_factory() as s:
        token = find_token(s, secret)
        assert token is not None and token.role == "supervisor"

    listed = runner.invoke(app, ["tokens", "list", "-w", "acme"])
    assert "CRM sync\tsupervisor\tactive" in listed.stdout
    assert secret not in listed.stdout

    assert runner.invoke(app, ["tokens", "revoke", str(token.id), "-w", "acme"]).exit_code == 0
    with session_factory() as s:
        assert find_token(s, secret) is None
    assert "revoked" in runner.invoke(app, ["tokens", "list", "-w", "acme"]).stdout


def test_bad_roles_and_unknown_tokens_are_clear_errors(cli_env: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["tokens", "create", "x", "--role", "owner"])
    assert bad.exit_code == 2 and "role must be one of agent, supervisor, admin" in bad.output
    missing = runner.invoke(app, ["tokens", "revoke", "999"])
    assert missing.exit_code == 2 and "no API token 999" in missing.output
