"""`socialdesk bench ingest`: what it measures, and what its report says."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from socialdesk.channels.inbox import RawEvent
from socialdesk.cli import app
from socialdesk.conversations.models import Message
from socialdesk.core.work import Task
from socialdesk.triage.models import TriageResultRow


def _bench(engine: Engine, *options: str) -> tuple[dict[str, object], str]:
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        app, ["bench", "ingest", "--database-url", url, "--batch-size", "40", *options]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output[result.output.index("{") :]), result.output


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_by_default_it_accepts_processes_and_persists_without_triage(
    engine: Engine, cli_env: Path
) -> None:
    report, _ = _bench(engine, "--messages", "150", "--json", str(cli_env / "ingest.json"))

    assert report["stages"] == "foundation"
    assert report["accepted"] == report["processed"] == report["messages"] == 150
    assert report["batch_size"] == 40
    assert _count(engine, RawEvent) == 150
    assert _count(engine, Message) == 150
    assert _count(engine, Task) > 0
    assert _count(engine, TriageResultRow) == 0
    assert report["triage_texts_read"] == report["triage_texts_remembered"] == 0
    assert json.loads((cli_env / "ingest.json").read_text(encoding="utf-8")) == report


def test_the_full_stages_triage_every_message_as_production_does(
    engine: Engine, cli_env: Path
) -> None:
    report, _ = _bench(engine, "--messages", "80", "--stages", "full")

    assert report["stages"] == "full"
    assert report["processed"] == 80
    assert _count(engine, TriageResultRow) == 80
    # Every text triaged is either read or answered from triage's memory, each distinct one
    # read at most once.
    read, remembered = report["triage_texts_read"], report["triage_texts_remembered"]
    assert isinstance(read, int) and isinstance(remembered, int)
    assert read + remembered == 80 and read < 80


def test_the_report_gives_speed_memory_and_the_targets(engine: Engine, cli_env: Path) -> None:
    report, _ = _bench(engine, "--messages", "50")

    assert isinstance(report["messages_per_second"], float) and report["messages_per_second"] > 0
    assert isinstance(report["peak_memory_mb"], float) and report["peak_memory_mb"] > 0
    assert report["targets"] == {"messages_per_second": 10_000, "peak_memory_mb": 500}
    assert isinstance(report["batch_max_ms"], float)
    assert isinstance(report["batch_p50_ms"], float)
    assert report["batch_p50_ms"] <= report["batch_max_ms"]


def test_an_unknown_stage_is_refused_before_anything_runs(engine: Engine, cli_env: Path) -> None:
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        app, ["bench", "ingest", "--database-url", url, "--stages", "triage-only"]
    )

    assert result.exit_code == 2
    assert "foundation" in result.output and "full" in result.output
    assert _count(engine, RawEvent) == 0
