"""The `socialdesk` command."""

from __future__ import annotations

import getpass
import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.analytics.cli import app as report_app
from socialdesk.analytics.stored_traffic import load_stored_traffic
from socialdesk.channels.cli import channels_app
from socialdesk.compliance.cli import app as compliance_app
from socialdesk.config import Settings, get_settings
from socialdesk.core import audit
from socialdesk.core.db import make_engine, make_session_factory, unit_of_work
from socialdesk.core.errors import InvalidInput, SocialdeskError
from socialdesk.core.logs import configure_logging
from socialdesk.core.migrate import upgrade
from socialdesk.core.report_file import json_report
from socialdesk.core.workspaces import ensure_workspace
from socialdesk.customers.cli import app as customers_app
from socialdesk.ingest.bench import IngestStages
from socialdesk.ingest.bench_soak import SoakMode
from socialdesk.ingest.pipeline import BULK_BATCH_SIZE
from socialdesk.listening.cli import bench_listening, listening_app
from socialdesk.routing.cli import agents_app
from socialdesk.simulation.cli import simulate, use_stored_traffic
from socialdesk.simulation.items import StoredTraffic
from socialdesk.triage.cli import app as triage_app
from socialdesk.web.cli import users_app

app = typer.Typer(
    name="socialdesk",
    help="Social customer care: listen, triage, prioritise, route and answer.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks with a JSON report.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(bench_app, name="bench")
tokens_app = typer.Typer(help="API tokens for integrations.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")
events_app = typer.Typer(
    help="Stored inbound events that could not be processed.", no_args_is_help=True
)
app.add_typer(events_app, name="events")
app.command("simulate")(simulate)
app.add_typer(triage_app, name="triage")
app.add_typer(channels_app, name="channels")
app.add_typer(users_app, name="users")
app.add_typer(customers_app, name="customers")
app.add_typer(agents_app, name="agents")
workspaces_app = typer.Typer(help="Workspaces (brands).", no_args_is_help=True)
app.add_typer(workspaces_app, name="workspaces")
app.add_typer(compliance_app, name="compliance")
app.add_typer(report_app, name="report")
app.add_typer(listening_app, name="listening")
bench_app.command("listening")(bench_listening)


@app.callback()
def _command_line() -> None:
    """Social customer care: listen, triage, prioritise, route and answer."""
    # Changes made from the command line are the shell user's in the audit log.
    audit.set_default_actor(audit.Actor(f"cli:{getpass.getuser()}"))


console = Console(stderr=True, soft_wrap=True)

WorkspaceOption = Annotated[
    str | None,
    typer.Option("--workspace", "-w", help="Workspace (brand) slug; created if missing."),
]


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@contextmanager
def _database(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """An up-to-date database for one command, closed when the command ends."""
    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)
        yield make_session_factory(engine)
    finally:
        engine.dispose()


@contextmanager
def _workspace_database(slug: str | None) -> Iterator[tuple[sessionmaker[Session], int]]:
    """The database and the workspace a command works on (created on first use)."""
    settings = get_settings()
    with _database(settings) as session_factory:
        try:
            with unit_of_work(session_factory) as session:
                workspace_id = ensure_workspace(session, slug or settings.default_workspace).id
        except InvalidInput as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
        yield session_factory, workspace_id


def _stored_traffic(
    slug: str | None, since: datetime | None, until: datetime | None
) -> StoredTraffic:
    settings = get_settings()
    with _database(settings) as session_factory:
        return load_stored_traffic(
            session_factory, slug or settings.default_workspace, since, until
        )


use_stored_traffic(_stored_traffic)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database schema (embedded SQLite unless SOCIALDESK_DATABASE_URL)."""
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    engine.dispose()
    console.print(f"schema up to date: {engine.url.render_as_string(hide_password=True)}")


@workspaces_app.command("create")
def workspaces_create(
    slug: Annotated[str, typer.Argument(help="Lowercase letters, digits and dashes")],
    name: Annotated[str | None, typer.Option(help="Display name (default: the slug)")] = None,
    sector: Annotated[
        str,
        typer.Option(
            help="telecom, retail, airline, utilities, insurance, public_sector or general: "
            "picks the triage topic taxonomy"
        ),
    ] = "general",
) -> None:
    """Create a workspace (or set up an existing one) with its sector's triage topics."""
    from socialdesk.triage.service import configure_sector

    settings = get_settings()
    try:
        with _database(settings) as factory, unit_of_work(factory) as session:
            workspace = ensure_workspace(session, slug, name)
            taxonomy = configure_sector(session, workspace.id, sector)
    except SocialdeskError as exc:
        console.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from None
    console.print(f"workspace {slug}: triage topics from the {taxonomy} taxonomy", markup=False)


@app.command()
def ingest(
    files: Annotated[
        list[Path], typer.Argument(help="JSONL (socialdesk format) or twcs CSV files")
    ],
    workspace: WorkspaceOption = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="jsonl or twcs; by default from the suffix")
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(help="Where rejected records go (JSONL); default FILE.rejects.jsonl"),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, max=50_000, help="Events per transaction")
    ] = BULK_BATCH_SIZE,
) -> None:
    """Import replay files: every record is stored once, threaded and turned into work.

    A malformed record is reported with its file, line and reason, written to the rejects
    file and skipped; the rest is imported. Exits non-zero only if nothing could be read.
    """
    from socialdesk.ingest.importer import import_files
    from socialdesk.ingest.wiring import build_pipeline

    with _workspace_database(workspace) as (session_factory, workspace_id), _progress() as progress:
        pipeline = build_pipeline(get_settings(), session_factory)
        summary = import_files(
            pipeline,
            workspace_id,
            files,
            fmt=fmt,
            rejects_path=rejects,
            batch_size=batch_size,
            progress=progress,
            on_reject=lambda r: console.print(
                f"[yellow]rejected[/yellow] {r.file}:{r.line}: {r.reason}",
                markup=True,
                highlight=False,
            ),
        )
    for problem in summary.unreadable:
        typer.echo(f"error: {problem}", err=True)
    typer.echo(
        f"read {summary.read}, accepted {summary.accepted}, duplicates {summary.duplicates}, "
        f"rejected {summary.rejected}, failed {summary.failed}"
        + (f" (rejects in {summary.rejects_path})" if summary.rejected else "")
    )
    if summary.read == 0:
        raise typer.Exit(1)


@events_app.command("failed")
def events_failed(
    workspace: WorkspaceOption = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """List stored events whose processing failed, with the reason."""
    from socialdesk.ingest.repository import failed_raw_events

    with (
        _workspace_database(workspace) as (session_factory, workspace_id),
        session_factory() as session,
    ):
        rows = failed_raw_events(session, workspace_id, limit)
    for row in rows:
        typer.echo(f"{row.id}\t{row.channel}\t{row.external_id}\t{row.error}")
    typer.echo(f"{len(rows)} failed event(s)", err=True)


@events_app.command("retry")
def events_retry(workspace: WorkspaceOption = None) -> None:
    """Process failed events again (after a fix); those that fail again stay listed."""
    from socialdesk.ingest.repository import reset_failed_raw_events
    from socialdesk.ingest.wiring import build_pipeline

    with _workspace_database(workspace) as (session_factory, workspace_id):
        with unit_of_work(session_factory) as session:
            ids = reset_failed_raw_events(session, workspace_id)
        result = build_pipeline(get_settings(), session_factory).process_pending(workspace_id, ids)
    typer.echo(f"retried {len(ids)}: processed {result.processed}, failed {result.failed}")


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="Who uses it, e.g. 'CRM sync'")],
    role: Annotated[str, typer.Option(help="agent, supervisor or admin")] = "agent",
    workspace: WorkspaceOption = None,
) -> None:
    """Create an API token; it is printed once and never shown again."""
    from socialdesk.web.api_tokens import create_token

    with _workspace_database(workspace) as (session_factory, workspace_id):
        try:
            with unit_of_work(session_factory) as session:
                token = create_token(session, workspace_id, name, role)
        except InvalidInput as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
    typer.echo(token.secret)
    typer.echo(f"token {token.id} created; send it as 'Authorization: Bearer <token>'", err=True)


@tokens_app.command("list")
def tokens_list(workspace: WorkspaceOption = None) -> None:
    """The workspace's API tokens (never their secrets)."""
    from socialdesk.web.api_tokens import list_tokens

    with (
        _workspace_database(workspace) as (session_factory, workspace_id),
        session_factory() as session,
    ):
        for t in list_tokens(session, workspace_id):
            state = "revoked" if t.revoked_at else "active"
            used = t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never"
            typer.echo(f"{t.id}\t{t.name}\t{t.role}\t{state}\tlast used {used}")


@tokens_app.command("revoke")
def tokens_revoke(token_id: int, workspace: WorkspaceOption = None) -> None:
    """Revoke a token: calls with it are refused from now on."""
    from socialdesk.core.errors import NotFound
    from socialdesk.web.api_tokens import revoke_token

    with _workspace_database(workspace) as (session_factory, workspace_id):
        try:
            with unit_of_work(session_factory) as session:
                revoke_token(session, workspace_id, token_id)
        except NotFound as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
    typer.echo(f"token {token_id} revoked")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Run the web app and API."""
    import uvicorn

    from socialdesk.compliance.schedule import RetentionSchedule
    from socialdesk.conversations.outbox_thread import start_outbox_thread
    from socialdesk.listening.watch import start_listening_watch
    from socialdesk.web.app import create_app

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    web_app = create_app(settings)
    if settings.mode == "embedded":
        # Replies leave from this process; scale mode runs `socialdesk channels send --loop`.
        web_app.state.on_shutdown.append(start_outbox_thread(web_app))
    web_app.state.on_shutdown.append(start_listening_watch(web_app))
    if settings.retention_check_minutes > 0:
        schedule = RetentionSchedule(
            web_app.state.session_factory,
            check_every=timedelta(minutes=settings.retention_check_minutes),
        )
        web_app.state.on_shutdown.append(schedule.start())
    uvicorn.run(
        web_app,
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level.lower(),
        # JSON logs: uvicorn's records go through the root handler like every other.
        log_config=None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
    )


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    rate: Annotated[
        float,
        typer.Option(help="Generated messages per minute (daily average)", min=0.1, max=6000),
    ] = 1.0,
    backlog_hours: Annotated[
        float, typer.Option(help="Hours of traffic generated before the start", min=0, max=72)
    ] = 2.0,
    seed: Annotated[int, typer.Option(help="Seed of the traffic generator")] = 7,
    team: Annotated[
        int | None,
        typer.Option(
            help="Simulated care colleagues working their lists (default: as many as Erlang C "
            "gives for the rate's busiest hour; 0: none)",
            min=0,
            max=500,
        ),
    ] = None,
) -> None:
    """Start the web app on an embedded SQLite, with generated traffic flowing live and a
    simulated care team working it."""
    from socialdesk.demo import run_demo

    run_demo(
        host=host,
        port=port,
        rate_per_minute=rate,
        backlog_hours=backlog_hours,
        seed=seed,
        team=team,
    )


@app.command()
def worker(
    max_seconds: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: run until killed)")
    ] = None,
    sweep_every: Annotated[
        float, typer.Option(help="Seconds between sweeps for stored, unannounced events")
    ] = 30.0,
    claim_idle: Annotated[
        float, typer.Option(help="Seconds before a dead worker's batch is claimed by another")
    ] = 60.0,
    orphan_after: Annotated[
        float | None,
        typer.Option(help="Seconds after which the sweep takes a pending event (2 x claim-idle)"),
    ] = None,
    batch: Annotated[
        int,
        typer.Option(
            min=1,
            help="Most stream entries read at a time (a read asks for twice what the last "
            "found, down to a sixteenth of this)",
        ),
    ] = 500,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve this worker's Prometheus metrics on this port")
    ] = None,
    metrics_host: Annotated[str, typer.Option(help="Address for --metrics-port")] = "127.0.0.1",
    stream_prefix: Annotated[
        str | None,
        typer.Option(
            help="Prefix of the Redis keys, one per deployment sharing a Redis "
            "(default: SOCIALDESK_STREAM_PREFIX, which the web processes read too)"
        ),
    ] = None,
) -> None:
    """Process stored events from the Redis Streams of scale mode (run any number of these).

    SIGTERM (or Ctrl+C) stops it after the batch in hand is committed and acknowledged."""
    from socialdesk.core.bus import RedisStreamsBus
    from socialdesk.core.live_channel import LiveChannel
    from socialdesk.ingest.dispatch import Worker
    from socialdesk.ingest.pipeline import freeze_heap
    from socialdesk.ingest.wiring import build_pipeline
    from socialdesk.routing.events import RoutingAnnouncer

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    if not settings.redis_url:
        typer.echo(
            "error: a worker needs SOCIALDESK_REDIS_URL (and SOCIALDESK_MODE=scale)", err=True
        )
        raise typer.Exit(2)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=metrics_host)
    bus = RedisStreamsBus(
        settings.redis_url,
        claim_idle_ms=int(claim_idle * 1000),
        prefix=stream_prefix or settings.stream_prefix,
    )
    with _database(settings) as session_factory:
        pipeline = build_pipeline(settings, session_factory)
        # Tasks this worker opens reach the web processes' routing engines at once.
        pipeline.hooks.after_commit.append(RoutingAnnouncer(bus).tasks_changed)
        # Messages it stores show at once on the screens of every web process.
        live = LiveChannel(settings.redis_url, channel=bus.key("live"))
        pipeline.hooks.after_commit.append(live.after_commit_hook)
        runner = Worker(
            pipeline, bus, sweep_every=sweep_every, orphan_after=orphan_after, batch=batch
        )
        signal.signal(signal.SIGTERM, lambda _signum, _frame: runner.stop_event.set())
        # Load the triage models (language identification, the seed kind model: seconds)
        # before taking work, not inside the first batch, which would hold its events and
        # leases that long and reach the agents seconds late.
        from socialdesk.triage.classifier import triage_batch

        triage_batch(["warming up"])
        freeze_heap()  # what is loaded now lives as long as the worker: no scans of it
        console.print(f"worker consuming {settings.redis_url} (Ctrl+C stops)")
        try:
            runner.run(max_seconds=max_seconds)
        except KeyboardInterrupt:
            pass
        finally:
            live.stop()
            bus.close()
    typer.echo(f"handled {runner.handled} stream entries")


@bench_app.command("pipeline")
def bench_pipeline(
    workers: Annotated[
        list[int], typer.Option(help="Worker counts to run in scale mode (repeat); 0: embedded")
    ] = [0, 1, 2, 4],  # noqa: B006 (typer reads the default)
    messages: Annotated[int, typer.Option(min=1, help="Messages per run")] = 20_000,
    rate: Annotated[
        list[float], typer.Option(help="Offered messages/second (repeat); 0: all at once")
    ] = [0.0, 500.0],  # noqa: B006
    database_url: Annotated[
        str | None, typer.Option(help="PostgreSQL for scale mode (embedded: a fresh SQLite)")
    ] = None,
    redis_url: Annotated[str | None, typer.Option(help="Redis for scale mode")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report here")] = None,
) -> None:
    """Accept-to-assigned: msg/s and p50/p99 latency, embedded and with N scale-mode workers."""
    from socialdesk.ingest.bench_pipeline import run_pipeline_benchmark

    settings = get_settings()
    runs = []
    for count in workers:
        for offered in rate:
            run = run_pipeline_benchmark(
                messages=messages,
                workers=count,
                rate=offered,
                database_url=database_url or (settings.database_url if count else None),
                redis_url=redis_url or settings.redis_url,
            )
            console.print_json(json.dumps(run))
            runs.append(run)
    typer.echo(json_report({"benchmark": "pipeline", "runs": runs}, json_out))


@bench_app.command("soak")
def bench_soak(
    minutes: Annotated[float, typer.Option(min=0.1, help="How long to run")] = 60.0,
    rate: Annotated[float, typer.Option(min=1, help="Offered messages/second")] = 500.0,
    sample_every: Annotated[float, typer.Option(min=1, help="Seconds between samples")] = 10.0,
    mode: Annotated[
        SoakMode,
        typer.Option(help="embedded: one process on SQLite; scale: PostgreSQL, Redis, workers"),
    ] = SoakMode.EMBEDDED,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes in scale mode")] = 2,
    database_url: Annotated[
        str | None, typer.Option(help="PostgreSQL for scale mode (embedded: a fresh SQLite)")
    ] = None,
    redis_url: Annotated[str | None, typer.Option(help="Redis for scale mode")] = None,
    agents: Annotated[
        int | None,
        typer.Option(min=1, help="Simulated agents (default: enough for the rate, at least 30)"),
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report here")] = None,
) -> None:
    """Steady traffic with agents answering: memory, p99 accept-to-assigned, errors over time."""
    from socialdesk.ingest.bench_soak import run_soak

    settings = get_settings()
    scale = mode == SoakMode.SCALE
    database = database_url or settings.database_url
    redis = redis_url or settings.redis_url
    if scale and (not redis or not (database or "").startswith("postgres")):
        typer.echo(
            "error: --mode scale needs a PostgreSQL --database-url (or SOCIALDESK_DATABASE_URL)"
            " and a --redis-url (or SOCIALDESK_REDIS_URL)",
            err=True,
        )
        raise typer.Exit(2)
    report = run_soak(
        minutes=minutes,
        rate=rate,
        sample_every=sample_every,
        mode=mode,
        workers=workers,
        database_url=database if scale else None,
        redis_url=redis if scale else None,
        agents=agents,
        # One line a sample on stderr: a long run shows its trend, and what it ran so far
        # is kept if it is stopped.
        on_sample=lambda sample: typer.echo(json.dumps(sample), err=True),
    )
    typer.echo(json_report(report, json_out))


@bench_app.command("ingest")
def bench_ingest(
    messages: Annotated[int, typer.Option(min=1, help="How many generated messages")] = 100_000,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report here")] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Events per transaction")
    ] = BULK_BATCH_SIZE,
    database_url: Annotated[
        str | None,
        typer.Option(help="Database to measure; default a fresh embedded SQLite file"),
    ] = None,
    stages: Annotated[
        IngestStages,
        typer.Option(
            help="foundation: storing, threading, identities and tasks; "
            "full: triage, scoring and distribution besides, as production runs"
        ),
    ] = IngestStages.FOUNDATION,
) -> None:
    """Messages/second and peak memory for accept + process + persist of generated traffic."""
    from socialdesk.ingest.bench import run_ingest_benchmark

    with _progress() as progress:
        report = run_ingest_benchmark(
            messages=messages,
            batch_size=batch_size,
            database_url=database_url,
            stages=stages,
            progress=progress,
        )
    typer.echo(json_report(report, json_out))


@bench_app.command("routing")
def bench_routing(
    agents: Annotated[int, typer.Option(min=1, help="Agents online")] = 500,
    tasks: Annotated[int, typer.Option(min=1, help="Open tasks waiting")] = 100_000,
    rounds: Annotated[int, typer.Option(min=0, help="Steady-state rounds")] = 40,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report here")] = None,
    database_url: Annotated[
        str | None,
        typer.Option(help="Database to measure; default a fresh embedded SQLite file"),
    ] = None,
) -> None:
    """Time per assignment decision (p50/p99) and assignments/second of the distributor."""
    from socialdesk.routing.bench import run_routing_benchmark

    report = run_routing_benchmark(
        agents=agents,
        tasks=tasks,
        rounds=rounds,
        database_url=database_url,
        on_phase=lambda phase: console.print(phase),
    )
    typer.echo(json_report(report, json_out))


if __name__ == "__main__":  # pragma: no cover
    app()
