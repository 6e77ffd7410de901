"""`socialdesk simulate --from-db`: last week's stored traffic, with its stored triage,
replayed under another team or policy."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from socialdesk.analytics.stored_traffic import read_stored_traffic
from socialdesk.cli import app
from socialdesk.config import Settings
from socialdesk.conversations.models import Message
from socialdesk.core.db import unit_of_work
from socialdesk.core.models import Workspace
from socialdesk.ingest.wiring import build_pipeline
from socialdesk.priority.service import update_policies
from socialdesk.simulation.traffic import BrandProfile, generate
from socialdesk.triage.models import TriageResultRow

START = datetime(2026, 11, 16, 8, tzinfo=UTC)
runner = CliRunner()


def stored_week(engine: Engine, factory: sessionmaker[Session], workspace_id: int) -> None:
    """Three hours of generated traffic through the full pipeline (triage included)."""
    url = engine.url.render_as_string(hide_password=False)
    pipeline = build_pipeline(Settings(database_url=url), factory)
    events = list(generate(BrandProfile(), START, timedelta(hours=3), 50.0, 5))
    pipeline.ingest(workspace_id, events, source="test")


def test_stored_traffic_replays_with_its_stored_triage_and_the_workspaces_policies(
    cli_env: Path,
    engine: Engine,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    stored_week(engine, session_factory, workspace.id)
    with unit_of_work(session_factory) as s:
        update_policies(s, workspace.id, sla={"rescue_after_minutes": 90})
    with session_factory() as s:
        traffic = read_stored_traffic(s, workspace.id, None, None)
        inbound = s.scalar(
            select(func.count()).select_from(Message).where(Message.direction == "inbound")
        )
        no_answer = s.scalar(
            select(func.count())
            .select_from(TriageResultRow)
            .where(TriageResultRow.needs_response < 0.5)
        )
    assert len(traffic.events) == inbound and inbound > 60
    assert traffic.untriaged == 0 and len(traffic.facts) == inbound
    assert traffic.sla_policy.rescue_after == timedelta(minutes=90)

    report_path = cli_env / "what_if.json"
    result = runner.invoke(
        app,
        [
            "simulate",
            "--from-db",
            "-w",
            "acme",
            "--since",
            "2026-11-16T09:00",
            "--agents",
            "2",
            "--policies",
            "fifo,value",
            "--json",
            str(report_path),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text(encoding="utf-8"))
    replayed = report["traffic"]
    # Nothing classified afresh: the stored triage decided what needs an answer.
    assert replayed["classified_by_triage"] == 0
    assert replayed["start"] == "2026-11-16T09:00:00+00:00"
    assert 0 < replayed["events"] < inbound
    assert replayed["skipped_no_response"] <= no_answer
    assert report["comparison"]["response_rate"] == {"fifo": 1.0, "value": 1.0}

    # The same stored traffic with more agents: the what-if answers.
    more = cli_env / "more.json"
    args = ["simulate", "--from-db", "-w", "acme", "--since", "2026-11-16T09:00"]
    result = runner.invoke(
        app, [*args, "--agents", "4", "--policies", "value", "--json", str(more)]
    )
    assert result.exit_code == 0, result.output
    bigger = json.loads(more.read_text(encoding="utf-8"))["policies"]["value"]
    assert bigger["wait_minutes"]["p90"] <= report["policies"]["value"]["wait_minutes"]["p90"]


def test_from_db_refuses_what_it_cannot_replay(cli_env: Path, workspace: Workspace) -> None:
    cases = [
        (["--from-db", "-w", "nope"], "no workspace 'nope'"),
        (["--from-db", "-w", "acme"], "no stored inbound message in that period"),
        (["--from-db", "--since", "yesterday"], "--since must be an ISO date or time"),
        (
            ["--from-db", "--since", "2026-11-17", "--until", "2026-11-16"],
            "--until must come after",
        ),
        (["--since", "2026-11-16"], "--since, --until and --workspace go with --from-db"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["simulate", *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
