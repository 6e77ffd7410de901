"""`socialdesk channels ...`: accounts, the outbox sender, polling, dead letters."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.config import Settings, get_settings
from socialdesk.core.db import make_engine, make_session_factory, unit_of_work
from socialdesk.core.errors import SocialdeskError
from socialdesk.core.migrate import upgrade
from socialdesk.core.workspaces import ensure_workspace

channels_app = typer.Typer(
    help="Channel accounts, sending, polling, dead letters.", no_args_is_help=True
)
accounts_app = typer.Typer(help="Channel accounts of a workspace.", no_args_is_help=True)
letters_app = typer.Typer(help="Payloads that could not be understood.", no_args_is_help=True)
channels_app.add_typer(accounts_app, name="accounts")
channels_app.add_typer(letters_app, name="dead-letters")

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x9b]")

WorkspaceOption = Annotated[
    str | None, typer.Option("--workspace", "-w", help="Workspace (brand) slug.")
]


def _safe(text: str) -> str:
    """Payload text shown on a terminal: no escape sequences, no markup."""
    return _CONTROL.sub("\ufffd", text)


@contextmanager
def _database(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)
        yield make_session_factory(engine)
    finally:
        engine.dispose()


def _workspace(settings: Settings, factory: sessionmaker[Session], slug: str | None) -> int:
    with unit_of_work(factory) as session:
        return ensure_workspace(session, slug or settings.default_workspace).id


def _pairs(values: list[str] | None, what: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for value in values or []:
        name, sep, content = value.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"{what} must look like name=value, not {value!r}")
        found[name] = content
    return found


def _fail(exc: SocialdeskError) -> typer.Exit:
    err.print(f"error: {_safe(str(exc))}", markup=False)
    return typer.Exit(2)


@accounts_app.command("add")
def accounts_add(
    channel: Annotated[str, typer.Argument(help="x, facebook, instagram, email or webhook")],
    external_id: Annotated[str, typer.Argument(help="Platform id (user id, page id, mailbox)")],
    workspace: WorkspaceOption = None,
    handle: Annotated[str, typer.Option(help="Shown name, e.g. @AcmeCare")] = "",
    credentials_file: Annotated[
        Path | None,
        typer.Option(help="JSON file of credentials (tokens, secrets); kept encrypted"),
    ] = None,
    setting: Annotated[
        list[str] | None, typer.Option(help="name=value, e.g. smtp_host=mail.acme.test")
    ] = None,
) -> None:
    """Connect a channel account. Credentials are read from a file, never from arguments,
    so they stay out of shell history, and are stored encrypted with the secret key."""
    from socialdesk.channels.accounts import create_account

    credentials: dict[str, Any] = {}
    if credentials_file is not None:
        try:
            credentials = json.loads(credentials_file.read_text())
        except (OSError, ValueError) as exc:
            raise typer.BadParameter(f"cannot read credentials: {type(exc).__name__}") from None
        if not isinstance(credentials, dict):
            raise typer.BadParameter("the credentials file must hold a JSON object")
    settings = get_settings()
    with _database(settings) as factory:
        workspace_id = _workspace(settings, factory, workspace)
        try:
            with unit_of_work(factory) as session:
                account = create_account(
                    session,
                    workspace_id=workspace_id,
                    channel=channel,
                    external_id=external_id,
                    secret_key=settings.secret_key,
                    handle=handle,
                    credentials=credentials,
                    settings=_pairs(setting, "--setting"),
                )
                account_id = account.id
        except SocialdeskError as exc:
            raise _fail(exc) from None
    out.print(
        f"account {account_id}: webhook URL path /webhooks/{channel}/{account_id}", markup=False
    )


@accounts_app.command("set-credentials")
def accounts_set_credentials(
    account_id: int,
    credentials_file: Annotated[Path, typer.Option(help="JSON file of the new credentials")],
    workspace: WorkspaceOption = None,
) -> None:
    """Replace an account's credentials (a renewed token, a rotated secret)."""
    from socialdesk.channels import repository
    from socialdesk.channels.accounts import set_credentials

    try:
        credentials = json.loads(credentials_file.read_text())
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"cannot read credentials: {type(exc).__name__}") from None
    if not isinstance(credentials, dict):
        raise typer.BadParameter("the credentials file must hold a JSON object")
    settings = get_settings()
    with _database(settings) as factory:
        workspace_id = _workspace(settings, factory, workspace)
        with unit_of_work(factory) as session:
            account = repository.get_account(session, workspace_id, account_id)
            if account is None:
                err.print(f"error: no account {account_id} in this workspace", markup=False)
                raise typer.Exit(2)
            set_credentials(account, credentials, settings.secret_key)
    out.print(f"account {account_id}: credentials replaced", markup=False)


@accounts_app.command("list")
def accounts_list(workspace: WorkspaceOption = None) -> None:
    """List accounts (credentials are never shown, only whether there are some)."""
    from socialdesk.channels.accounts import list_accounts, public_view
    from socialdesk.channels.graph_versions import expiry_warning

    settings = get_settings()
    with _database(settings) as factory, factory() as session:
        workspace_id = _workspace(settings, factory, workspace)
        accounts = list_accounts(session, workspace_id)
        for account in accounts:
            out.print(_safe(json.dumps(public_view(account))), markup=False)
    warning = expiry_warning(settings.meta_graph_version, date.today())
    if warning and any(a.channel in ("facebook", "instagram") for a in accounts):
        err.print(f"warning: {warning}", markup=False)


@channels_app.command("send")
def send(
    loop: Annotated[bool, typer.Option(help="Keep sending until interrupted")] = False,
    interval: Annotated[float, typer.Option(min=0.5, help="Seconds between rounds")] = 2.0,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    lease: Annotated[
        float,
        typer.Option(
            min=1, help="Seconds a send attempt holds its reply before another sender checks it"
        ),
    ] = 120.0,
) -> None:
    """Deliver queued replies (retries, backoff, rate limits); every workspace."""
    from socialdesk.channels.registry import default_connectors
    from socialdesk.conversations.outbox_sender import OutboxSender

    settings = get_settings()
    with _database(settings) as factory:
        sender = OutboxSender(
            factory,
            default_connectors(settings.meta_graph_version),
            secret_key=settings.secret_key,
            lease=timedelta(seconds=lease),
        )
        while True:
            report = sender.run_once(limit)
            out.print(
                f"sent {report.sent}, recovered {report.recovered}, "
                f"retrying {report.retried}, failed {report.failed}",
                markup=False,
            )
            if not loop:
                return
            time.sleep(interval)


@channels_app.command("poll")
def poll(
    loop: Annotated[bool, typer.Option(help="Keep polling until interrupted")] = False,
    interval: Annotated[float, typer.Option(min=15, help="Seconds between rounds")] = 60.0,
) -> None:
    """Poll X accounts (mentions, saved searches), Instagram accounts (the listening rules'
    hashtags), Facebook Pages (posts that tag them) and IMAP mailboxes that opted in with the
    setting poll=true; for accounts without webhook access. Mailboxes with a listen_folder are
    searched there for the listening rules' terms."""
    from socialdesk.channels import repository
    from socialdesk.channels.base import DeliveryError
    from socialdesk.channels.polling import (
        PollReport,
        poll_email_account,
        poll_email_listening,
        poll_facebook_account,
        poll_instagram_account,
        poll_x_account,
    )
    from socialdesk.ingest.wiring import build_pipeline

    pollers: dict[str, Callable[..., PollReport]] = {
        "x": poll_x_account,
        "instagram": poll_instagram_account,
        "facebook": poll_facebook_account,
        "email": poll_email_account,
    }
    settings = get_settings()
    with _database(settings) as factory:
        pipeline = build_pipeline(settings, factory)
        while True:
            rounds: list[tuple[int, str, Callable[..., PollReport]]] = []
            with factory() as session:
                for a in repository.active_accounts(session):
                    if a.channel in pollers and str(a.settings.get("poll")) == "true":
                        rounds.append((a.id, "", pollers[a.channel]))
                    if a.channel == "email" and a.settings.get("listen_folder"):
                        rounds.append((a.id, " listening folder", poll_email_listening))
            for account_id, label, poller in rounds:
                try:
                    report = poller(
                        factory, pipeline, account_id=account_id, secret_key=settings.secret_key
                    )
                    out.print(
                        f"account {account_id}{label}: fetched {report.fetched}, "
                        f"new {report.accepted}",
                        markup=False,
                    )
                except (DeliveryError, SocialdeskError, OSError) as exc:
                    err.print(f"account {account_id}: {_safe(str(exc))}", markup=False)
            if not loop:
                return
            time.sleep(interval)


@letters_app.command("list")
def letters_list(
    workspace: WorkspaceOption = None,
    all_: Annotated[bool, typer.Option("--all", help="Include replayed and discarded")] = False,
) -> None:
    from socialdesk.channels.deadletters import list_letters

    settings = get_settings()
    with _database(settings) as factory, factory() as session:
        workspace_id = _workspace(settings, factory, workspace)
        for letter in list_letters(session, workspace_id, None if all_ else "new"):
            out.print(
                f"{letter.id}\t{letter.created_at:%Y-%m-%d %H:%M}\t{letter.channel}\t"
                f"{letter.status}\t{_safe(letter.reason[:200])}",
                markup=False,
            )


@letters_app.command("show")
def letters_show(letter_id: int, workspace: WorkspaceOption = None) -> None:
    from socialdesk.channels.deadletters import get_letter

    settings = get_settings()
    with _database(settings) as factory, factory() as session:
        try:
            letter = get_letter(session, _workspace(settings, factory, workspace), letter_id)
        except SocialdeskError as exc:
            raise _fail(exc) from None
        out.print(f"reason: {_safe(letter.reason)}", markup=False)
        out.print(_safe(letter.body), markup=False)


@letters_app.command("replay")
def letters_replay(
    letter_id: int,
    workspace: WorkspaceOption = None,
    body_file: Annotated[
        Path | None, typer.Option(help="A corrected payload to use instead of the stored one")
    ] = None,
) -> None:
    """Parse a dead letter again (after a fix, or with a corrected body) and accept it."""
    from socialdesk.channels.deadletters import replay
    from socialdesk.channels.registry import default_connectors
    from socialdesk.ingest.wiring import build_pipeline

    settings = get_settings()
    corrected = body_file.read_text() if body_file is not None else None
    with _database(settings) as factory:
        try:
            outcome = replay(
                factory,
                build_pipeline(settings, factory),
                default_connectors(settings.meta_graph_version),
                workspace_id=_workspace(settings, factory, workspace),
                letter_id=letter_id,
                corrected_body=corrected,
                secret_key=settings.secret_key,
            )
        except SocialdeskError as exc:
            raise _fail(exc) from None
    if outcome.error:
        err.print(f"still not understood: {_safe(outcome.error)}", markup=False)
        raise typer.Exit(1)
    out.print(f"replayed: {outcome.accepted} new event(s)", markup=False)
