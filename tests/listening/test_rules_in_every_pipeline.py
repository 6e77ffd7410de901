"""Rule matching runs in every process that processes events: the commands build their
pipeline where the web application does, with the listening rules in it."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

import socialdesk
from socialdesk.cli import app
from socialdesk.config import Settings
from socialdesk.core.clock import utcnow
from socialdesk.core.workspaces import ensure_workspace
from socialdesk.ingest.wiring import build_pipeline
from socialdesk.listening.mentions import RuleMatchingTriage
from socialdesk.listening.models import ListeningMatch
from socialdesk.listening.rule_service import create_rule
from socialdesk.listening.rules import RuleSpec
from tests.ingest.factories import event, store_failed


def with_rule(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        workspace_id = ensure_workspace(s, "acme").id
        create_rule(
            s, workspace_id, RuleSpec("Outage", hashtags=["#AcmeDown"]), user_id=None, now=utcnow()
        )
        s.commit()
    return workspace_id


def matches(factory: sessionmaker[Session]) -> list[tuple[list[int], bool]]:
    with factory() as s:
        return [(m.rule_ids, m.mention) for m in s.scalars(select(ListeningMatch))]


def test_socialdesk_ingest_marks_the_mentions_a_rule_catches(
    cli_env: Path, session_factory: sessionmaker[Session]
) -> None:
    with_rule(session_factory)
    post = {
        "channel": "x",
        "external_id": "t-1",
        "author": {"id": "u1", "handle": "@dana", "name": "Dana"},
        "text": "no signal all morning #AcmeDown",
        "created_at": "2026-11-02T09:00:00Z",
    }
    lines = [post, {**post, "external_id": "t-2", "text": "lovely weather today"}]
    source = cli_env / "posts.jsonl"
    source.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", str(source), "-w", "acme"])
    assert result.exit_code == 0, result.output
    assert len(matches(session_factory)) == 1
    assert matches(session_factory)[0][1] is True  # public, naming none of our accounts


def test_socialdesk_events_retry_marks_the_mentions_a_rule_catches(
    cli_env: Path, session_factory: sessionmaker[Session]
) -> None:
    workspace_id = with_rule(session_factory)
    fix = store_failed(session_factory, workspace_id, event("e1", "u1", text="down #acmedown"))
    fix()
    assert matches(session_factory) == []
    result = CliRunner().invoke(app, ["events", "retry", "-w", "acme"])
    assert "processed 1, failed 0" in result.output, result.output
    assert len(matches(session_factory)) == 1


def test_the_built_pipeline_matches_rules(session_factory: sessionmaker[Session]) -> None:
    pipeline = build_pipeline(Settings(), session_factory)
    assert isinstance(pipeline.hooks.triage, RuleMatchingTriage)


def test_no_module_builds_a_pipeline_of_its_own() -> None:
    """Pipelines come from ``ingest.wiring`` only, so no entry point can leave a stage out."""
    root = Path(socialdesk.__file__).parent
    builders = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name == "Pipeline":
                    builders.add(path.relative_to(root).as_posix())
    assert builders == {"ingest/wiring.py"}
