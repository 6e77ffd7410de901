"""A workspace's topics come from its sector: at creation, and in the demo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.config import Settings
from socialdesk.core.errors import InvalidInput
from socialdesk.core.models import Workspace
from socialdesk.demo import prepare_demo
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.triage import service
from socialdesk.triage.classifier import ModelSet, triage_batch
from socialdesk.triage.taxonomies import DEFAULT_TAXONOMIES, taxonomy_for_sector

runner = CliRunner()


def test_each_sector_has_its_taxonomy_and_an_unknown_one_is_refused() -> None:
    assert taxonomy_for_sector("telecom") == "telecom"
    assert taxonomy_for_sector("Public sector") == "public_sector"
    with pytest.raises(InvalidInput, match="unknown sector 'bakery'"):
        taxonomy_for_sector("bakery")


def test_the_sector_does_not_override_a_taxonomy_the_workspace_chose(
    session: Session, workspace: Workspace
) -> None:
    assert service.configure_sector(session, workspace.id, "retail") == "retail"
    service.configure(session, workspace.id, taxonomy="airline")
    assert service.configure_sector(session, workspace.id, "telecom") == "airline"
    assert service.model_set(session, workspace.id).taxonomy.name == "airline"


def test_the_telecom_demo_reads_internet_down_as_an_outage(
    session_factory: sessionmaker[Session],
) -> None:
    settings = Settings(default_workspace="demo")
    prepare_demo(
        settings,
        session_factory,
        Pipeline(session_factory),
        backlog_hours=0,
        rate_per_minute=10,
        seed=3,
    )
    with session_factory() as s:
        workspace_id = s.scalars(select(Workspace.id).where(Workspace.slug == "demo")).one()
        (result,) = service.triage_texts(s, workspace_id, ["internet down since 6am"])
    assert result.topic == "outage"
    assert result.kind == "complaint"


def test_workspaces_create_picks_the_sectors_topics_for_classify(cli_env: Path) -> None:
    created = runner.invoke(app, ["workspaces", "create", "acme-net", "--sector", "telecom"])
    assert created.exit_code == 0, created.output
    assert "telecom taxonomy" in created.output
    classified = runner.invoke(
        app,
        ["triage", "classify", "-", "--workspace", "acme-net"],
        input=json.dumps({"text": "no signal and no internet all day"}) + "\n",
    )
    assert classified.exit_code == 0, classified.output
    line = json.loads(classified.stdout.splitlines()[0])
    assert line["topic"] == "outage"
    assert {"kind", "needs_response", "route_to", "sentiment"} <= set(line)
    refused = runner.invoke(app, ["workspaces", "create", "acme-2", "--sector", "bakery"])
    assert refused.exit_code == 2
    assert "unknown sector 'bakery'" in refused.output


def test_telecom_reads_the_usual_ways_of_saying_the_network_is_down() -> None:
    texts = [
        "@AcmeCare internet has been down for 6 hours",
        "the connection drops every few minutes",
        "when will the service be back in Leeds?",
    ]
    results = triage_batch(texts, ModelSet(taxonomy=DEFAULT_TAXONOMIES["telecom"]))
    assert [r.topic for r in results] == ["outage"] * 3
