"""`socialdesk compliance ...`: a customer's data on request, retention, the audit log."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from socialdesk.compliance import repository as repo
from socialdesk.compliance import retention
from socialdesk.compliance.erasure import erase_customer
from socialdesk.compliance.export import export_customer
from socialdesk.config import get_settings
from socialdesk.core import audit
from socialdesk.core.clock import utcnow
from socialdesk.core.db import make_engine, make_session_factory, unit_of_work
from socialdesk.core.errors import SocialdeskError
from socialdesk.core.migrate import upgrade
from socialdesk.core.models import Workspace
from socialdesk.core.workspaces import ensure_workspace

app = typer.Typer(
    help="Compliance: export or erase a customer's data, retention, the audit log.",
    no_args_is_help=True,
)
WorkspaceOption = Annotated[
    str | None, typer.Option("--workspace", "-w", help="Workspace (brand) slug")
]


@contextmanager
def _workspace(slug: str | None) -> Iterator[tuple[Session, Workspace]]:
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)
        with unit_of_work(make_session_factory(engine)) as session:
            yield session, ensure_workspace(session, slug or settings.default_workspace)
    except SocialdeskError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()


@app.command("export-customer")
def export_command(
    customer_id: Annotated[int, typer.Argument(help="The customer's id", min=1)],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the JSON here (default: stdout)")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Everything held of one customer, as JSON (GDPR access and portability)."""
    with _workspace(workspace) as (session, ws):
        data = export_customer(session, ws.id, customer_id, audit.default_actor(), utcnow())
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)


@app.command("erase-customer")
def erase_command(
    customer_id: Annotated[int, typer.Argument(help="The customer's id", min=1)],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: erasure cannot be undone")] = False,
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log)")] = "",
    workspace: WorkspaceOption = None,
) -> None:
    """Anonymise one customer in every table, raw events included (GDPR art. 17)."""
    if not yes:
        typer.echo("error: erasure cannot be undone; add --yes to confirm", err=True)
        raise typer.Exit(2)
    with _workspace(workspace) as (session, ws):
        report = erase_customer(
            session, ws.id, customer_id, audit.default_actor(), utcnow(), reason=reason
        )
    typer.echo(json.dumps(report.as_dict()))


@app.command("retention")
def retention_command(
    raw_payload_days: Annotated[
        int | None, typer.Option(help="Drop raw payloads of processed events after N days", min=1)
    ] = None,
    closed_case_days: Annotated[
        int | None, typer.Option(help="Delete resolved cases N days after resolution", min=1)
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Keep everything forever")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Show the retention policy, or set it with the options."""
    with _workspace(workspace) as (session, ws):
        if clear or raw_payload_days is not None or closed_case_days is not None:
            retention.set_policy(
                session,
                ws,
                {"raw_payload_days": raw_payload_days, "closed_case_days": closed_case_days},
                audit.default_actor(),
            )
        typer.echo(json.dumps(retention.policy_of(ws).as_dict()))


@app.command("prune")
def prune_command(workspace: WorkspaceOption = None) -> None:
    """Apply the retention policy now (run it daily from cron or a timer)."""
    with _workspace(workspace) as (session, ws):
        report = retention.prune(session, ws, utcnow(), audit.default_actor())
    typer.echo(json.dumps(report.as_dict()))


@app.command("audit")
def audit_command(
    action: Annotated[
        str | None, typer.Option(help="An action (user.updated) or family (user)")
    ] = None,
    actor: Annotated[
        str | None, typer.Option(help="Who acted (an email, token:NAME, cli:USER)")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    workspace: WorkspaceOption = None,
) -> None:
    """The audit log, newest first, one JSON object a line."""
    with _workspace(workspace) as (session, ws):
        events = repo.audit_events(session, ws.id, action=action, actor=actor, limit=limit)
        lines = [json.dumps(audit.event_as_dict(e), ensure_ascii=False) for e in events]
    for line in lines:
        typer.echo(line)
