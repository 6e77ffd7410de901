"""`socialdesk report ...`: business reports and streamed exports from the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated

import typer
from sqlalchemy.orm import Session

from socialdesk.analytics import exports
from socialdesk.analytics.report_metrics import range_from_params
from socialdesk.analytics.reports import REPORT_COLUMNS, Report, build_report
from socialdesk.config import get_settings
from socialdesk.core.clock import utcnow
from socialdesk.core.db import make_engine, make_session_factory
from socialdesk.core.errors import SocialdeskError
from socialdesk.core.migrate import upgrade
from socialdesk.core.workspaces import get_workspace

app = typer.Typer(
    help="Business reports over any range of days, and exports of the data behind them.",
    no_args_is_help=True,
)
WorkspaceOption = Annotated[
    str | None, typer.Option("--workspace", "-w", help="Workspace (brand) slug")
]
FromOption = Annotated[
    str | None, typer.Option("--from", help="First day, YYYY-MM-DD (default: a week ago)")
]
ToOption = Annotated[
    str | None, typer.Option("--to", help="Last day, included, YYYY-MM-DD (default: today)")
]
TzOption = Annotated[str, typer.Option("--tz", help="IANA timezone of the days and buckets")]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write here (default: stdout)")
]


@contextmanager
def _reading(slug: str | None) -> Iterator[tuple[Session, int]]:
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)
        with make_session_factory(engine)() as session:
            workspace = get_workspace(session, slug or settings.default_workspace)
            yield session, workspace.id
    except SocialdeskError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()


@contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    if path is None:
        yield sys.stdout
        return
    with path.open("w", encoding="utf-8", newline="") as handle:
        yield handle
    typer.echo(f"wrote {path}", err=True)


def _seconds(value: object) -> str:
    if not isinstance(value, int | float):
        return "-"
    minutes = value / 60
    return f"{minutes:.1f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def _share(value: object) -> str:
    return f"{value * 100:.1f}%" if isinstance(value, int | float) else "-"


def _text(report: Report) -> str:
    span = report.span
    lines = [
        f"Report {span.first} .. {span.last} ({span.tz_name})",
        "",
        f"{'':<24}{'in':>8}{'out':>8}{'cases':>7}{'resp.':>8}"
        f"{'first p50':>11}{'first p90':>11}{'resol. p50':>11}{'SLA':>8}",
    ]
    previous = "total"
    for row in report.rows():
        if row["slice"] != previous:
            previous = str(row["slice"])
            lines += ["", f"per {previous}:"]
        name = str(row["value"])[:23]
        lines.append(
            f"{name:<24}{row['inbound']:>8}{row['outbound']:>8}{row['needing_response']:>7}"
            f"{_share(row['response_rate']):>8}{_seconds(row['first_response_p50']):>11}"
            f"{_seconds(row['first_response_p90']):>11}{_seconds(row['resolution_p50']):>11}"
            f"{_share(row['sla_attainment']):>8}"
        )
    return "\n".join(lines) + "\n"


@app.command("summary")
def summary(
    first: FromOption = None,
    last: ToOption = None,
    tz: TzOption = "UTC",
    bucket: Annotated[str, typer.Option(help="day or hour")] = "day",
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv")] = "table",
    output: OutputOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """The report: totals, per channel, team, agent, topic, kind, and per day or hour."""
    if fmt not in ("table", "json", "csv"):
        typer.echo("error: --format must be table, json or csv", err=True)
        raise typer.Exit(2)
    with _reading(workspace) as (session, ws):
        now = utcnow()
        span = range_from_params(first, last, tz, now)
        report = build_report(session, ws, span, bucket=bucket, now=now)
    with _output(output) as out:
        if fmt == "json":
            out.write(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n")
        elif fmt == "csv":
            out.writelines(exports.csv_chunks(REPORT_COLUMNS, report.rows()))
        else:
            out.write(_text(report))


@app.command("export")
def export(
    kind: Annotated[str, typer.Argument(help="conversations, messages or tasks")],
    first: FromOption = None,
    last: ToOption = None,
    tz: TzOption = "UTC",
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl")] = "csv",
    output: OutputOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Every conversation, message or task of the range, with service-level outcomes,
    written as it is read."""
    with _reading(workspace) as (session, ws):
        now = utcnow()
        span = range_from_params(first, last, tz, now)
        exports.check(kind, fmt)
        with _output(output) as out:
            for chunk in exports.export_chunks(session, ws, kind, span, fmt, now):
                out.write(chunk)
