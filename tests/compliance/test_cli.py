"""`socialdesk compliance ...`: the same export, erasure, retention and log from a shell."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.core.audit import AuditEvent
from socialdesk.core.models import Workspace
from socialdesk.customers.models import Customer
from socialdesk.ingest.pipeline import Pipeline
from tests.ingest.factories import event


def _customer(session_factory: sessionmaker[Session], workspace_id: int) -> int:
    Pipeline(session_factory).ingest(workspace_id, [event("1", "cust", text="lost parcel 77")])
    with session_factory() as s:
        return s.scalars(select(Customer.id)).one()


def test_export_erase_and_the_log_from_the_command_line(
    cli_env: Path, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    customer = _customer(session_factory, workspace.id)
    runner = CliRunner()
    out = cli_env / "dana.json"
    exported = runner.invoke(
        app, ["compliance", "export-customer", str(customer), "-o", str(out), "-w", "acme"]
    )
    assert exported.exit_code == 0, exported.output
    assert "lost parcel 77" in out.read_text()
    refused = runner.invoke(app, ["compliance", "erase-customer", str(customer), "-w", "acme"])
    assert refused.exit_code == 2 and "--yes" in refused.output
    erased = runner.invoke(
        app, ["compliance", "erase-customer", str(customer), "--yes", "-w", "acme"]
    )
    assert erased.exit_code == 0 and json.loads(erased.output)["messages"] == 1
    missing = runner.invoke(app, ["compliance", "erase-customer", "999", "--yes"])
    assert missing.exit_code == 2 and "no customer 999" in missing.output
    log = runner.invoke(app, ["compliance", "audit", "--action", "customer", "-w", "acme"])
    actions = [json.loads(line)["action"] for line in log.output.splitlines()]
    assert actions == ["customer.erased", "customer.exported"]
    with session_factory() as s:
        actors = set(s.scalars(select(AuditEvent.actor).where(AuditEvent.action.like("customer%"))))
        assert len(actors) == 1 and actors.pop().startswith("cli:")


def test_retention_is_shown_set_and_applied(cli_env: Path, workspace: Workspace) -> None:
    runner = CliRunner()
    shown = runner.invoke(app, ["compliance", "retention"])
    assert json.loads(shown.output) == {"raw_payload_days": None, "closed_case_days": None}
    set_ = runner.invoke(app, ["compliance", "retention", "--closed-case-days", "365"])
    assert json.loads(set_.output)["closed_case_days"] == 365
    bad = runner.invoke(app, ["compliance", "retention", "--raw-payload-days", "0"])
    assert bad.exit_code != 0
    pruned = runner.invoke(app, ["compliance", "prune"])
    assert pruned.exit_code == 0 and json.loads(pruned.output)["closed_cases"] == 0
