"""Reports and exports through the API (supervisors and admins, behind the workspace wall)
and from the command line."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from socialdesk.cli import app as cli
from socialdesk.config import Settings
from socialdesk.core.models import Workspace
from socialdesk.web.api_tokens import create_token
from socialdesk.web.app import create_app
from tests.analytics.factories import exchange

DAY = datetime(2026, 11, 23, tzinfo=UTC)
RANGE = "from=2026-11-23&to=2026-11-23"


def bearer(factory: sessionmaker[Session], workspace_id: int, role: str) -> dict[str, str]:
    with factory() as s:
        token = create_token(s, workspace_id, f"{role} reports", role)
        s.commit()
    return {"Authorization": f"Bearer {token.secret}"}


@pytest.fixture
def api(engine: Engine, workspace: Workspace, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(default_workspace=workspace.slug, data_dir=tmp_path)
    product: FastAPI = create_app(settings, engine=engine, migrate=False)
    with TestClient(product, base_url="https://testserver") as client:
        yield client


@pytest.fixture
def two_brands(session_factory: sessionmaker[Session], workspace: Workspace) -> int:
    """Acme has two cases on the day (one answered), the other brand three."""
    with session_factory() as s:
        other = Workspace(slug="globex", name="Globex")
        s.add(other)
        s.flush()
        exchange(s, workspace.id, at=DAY + timedelta(hours=9), steps=[("out", 10)])
        exchange(s, workspace.id, at=DAY + timedelta(hours=23, minutes=30), steps=[])
        for hour in (1, 2, 3):
            exchange(s, other.id, at=DAY + timedelta(hours=hour), steps=[], text="globex-secret")
        s.commit()
        return other.id


def test_supervisors_read_their_workspaces_report(
    api: TestClient, session_factory: sessionmaker[Session], workspace: Workspace, two_brands: int
) -> None:
    headers = bearer(session_factory, workspace.id, "supervisor")
    response = api.get(f"/api/v1/reports?{RANGE}&tz=UTC", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"]["conversations"] == 2 and body["total"]["answered"] == 1
    assert body["total"]["first_response_p50"] == 600
    assert body["range"]["timezone"] == "UTC"
    # In Paris the second case is on the 24th.
    paris = api.get(f"/api/v1/reports?{RANGE}&tz=Europe/Paris&bucket=hour", headers=headers)
    assert paris.json()["total"]["conversations"] == 1
    assert len(paris.json()["buckets"]) == 24
    as_csv = api.get(f"/api/v1/reports?{RANGE}&format=csv", headers=headers)
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert rows[0]["slice"] == "total" and rows[0]["conversations"] == "2"
    assert {r["slice"] for r in rows} == {
        "total",
        "channel",
        "team",
        "agent",
        "topic",
        "kind",
        "day",
    }


def test_exports_stream_only_the_callers_workspace(
    api: TestClient, session_factory: sessionmaker[Session], workspace: Workspace, two_brands: int
) -> None:
    headers = bearer(session_factory, workspace.id, "admin")
    response = api.get(f"/api/v1/exports/messages?{RANGE}", headers=headers)
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 3 and "globex-secret" not in response.text
    lines = api.get(f"/api/v1/exports/tasks?{RANGE}&format=jsonl", headers=headers)
    tasks = [json.loads(line) for line in lines.text.splitlines()]
    assert sorted(t["sla_outcome"] for t in tasks) == ["breached", "met"]
    other = bearer(session_factory, two_brands, "supervisor")
    theirs = api.get(f"/api/v1/exports/conversations?{RANGE}", headers=other)
    assert len(list(csv.DictReader(io.StringIO(theirs.text)))) == 3


def test_agents_may_not_and_bad_input_is_refused(
    api: TestClient, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    agent = bearer(session_factory, workspace.id, "agent")
    assert api.get(f"/api/v1/reports?{RANGE}", headers=agent).status_code == 403
    assert api.get(f"/api/v1/exports/messages?{RANGE}", headers=agent).status_code == 403
    assert api.get(f"/api/v1/reports?{RANGE}").status_code == 401
    boss = bearer(session_factory, workspace.id, "supervisor")
    bad_tz = api.get(f"/api/v1/reports?{RANGE}&tz=Mars/Olympus", headers=boss)
    assert bad_tz.status_code == 400 and "unknown timezone" in bad_tz.text
    backwards = api.get("/api/v1/reports?from=2026-11-23&to=2026-11-01", headers=boss)
    assert backwards.status_code == 400
    assert api.get("/api/v1/exports/users", headers=boss).status_code == 422
    assert api.get(f"/api/v1/reports?{RANGE}&bucket=week", headers=boss).status_code == 422


def test_the_report_command(
    cli_env: Path, session_factory: sessionmaker[Session], workspace: Workspace, two_brands: int
) -> None:
    runner = CliRunner()
    args = ["--from", "2026-11-23", "--to", "2026-11-23", "-w", "acme"]
    table = runner.invoke(cli, ["report", "summary", *args])
    assert table.exit_code == 0, table.output
    assert "Report 2026-11-23 .. 2026-11-23 (UTC)" in table.output
    assert "per agent:" in table.output and "10.0 min" in table.output
    as_json = runner.invoke(cli, ["report", "summary", *args, "--format", "json"])
    assert json.loads(as_json.output)["total"]["conversations"] == 2
    out = cli_env / "messages.csv"
    exported = runner.invoke(cli, ["report", "export", "messages", *args, "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    assert len(list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))) == 3
    bad = runner.invoke(cli, ["report", "export", "users", *args])
    assert bad.exit_code == 2 and "export must be one of" in bad.output
    missing = runner.invoke(cli, ["report", "summary", "-w", "nowhere"])
    assert missing.exit_code == 2


def test_the_api_reference_documents_reports_and_exports(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    report = spec["paths"]["/api/v1/reports"]["get"]
    assert report["summary"] and "text/csv" in report["responses"]["200"]["content"]
    example = report["responses"]["200"]["content"]["application/json"]["example"]
    assert example["range"]["timezone"] == "Europe/Paris"
    names = {p["name"] for p in report["parameters"]}
    assert {"from", "to", "tz", "bucket", "format"} <= names
    exports = spec["paths"]["/api/v1/exports/{kind}"]["get"]
    for op in (report, exports):
        for status in ("400", "401", "403"):
            assert "example" in op["responses"][status]["content"]["application/json"]
