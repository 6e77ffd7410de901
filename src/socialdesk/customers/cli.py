"""`socialdesk customers ...`: customer data from the brand's CRM."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from socialdesk.config import get_settings
from socialdesk.core.clock import utcnow
from socialdesk.core.db import make_engine, make_session_factory, unit_of_work
from socialdesk.core.errors import InvalidInput
from socialdesk.core.migrate import upgrade
from socialdesk.core.workspaces import ensure_workspace

app = typer.Typer(help="Customers: value and demographics from the CRM.", no_args_is_help=True)


@app.command("import")
def import_crm(
    file: Annotated[Path, typer.Argument(help="CSV (header row) or JSONL file of CRM records")],
    workspace: Annotated[
        str | None, typer.Option("--workspace", "-w", help="Workspace (brand) slug")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write every unmatched, ambiguous or rejected row here")
    ] = None,
) -> None:
    """Import tier, lifetime value and demographics, matching on handle, email or phone.

    Rows that match no customer or several are reported with their line and change
    nothing; the open tasks of updated customers are re-scored.
    """
    from socialdesk.customers.crm_import import apply_records, read_records
    from socialdesk.priority.service import rescore_customers

    if not file.is_file():
        typer.echo(f"error: {file}: no such file", err=True)
        raise typer.Exit(2)
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)
        factory = make_session_factory(engine)
        with unit_of_work(factory) as session:
            ws = ensure_workspace(session, workspace or settings.default_workspace).id
            now = utcnow()
            result = apply_records(session, ws, read_records(file), now)
            rescored = rescore_customers(session, ws, result.customer_ids, now)
    except InvalidInput as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    problems = [
        (kind, p)
        for kind, items in (
            ("unmatched", result.unmatched),
            ("ambiguous", result.ambiguous),
            ("rejected", result.rejected),
        )
        for p in items
    ]
    for kind, p in sorted(problems, key=lambda kp: kp[1].line)[:20]:
        typer.echo(f"{file.name}:{p.line}: {kind}: {p.reason}", err=True)
    if len(problems) > 20:
        typer.echo(f"... and {len(problems) - 20} more", err=True)
    if report is not None:
        report.write_text(json.dumps(result.as_dict(), indent=2) + "\n", encoding="utf-8")
    typer.echo(
        f"read {result.read}, updated {result.updated}, unmatched {len(result.unmatched)}, "
        f"ambiguous {len(result.ambiguous)}, rejected {len(result.rejected)}; "
        f"re-scored {len(rescored)} open tasks"
    )
    if result.read == 0:
        raise typer.Exit(1)
