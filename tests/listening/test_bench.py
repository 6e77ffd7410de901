"""`socialdesk bench listening` on a small configuration: the injected events are caught,
grouped, and normal traffic raises (almost) nothing."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from socialdesk.cli import app

runner = CliRunner()


def test_two_days_with_an_outage_a_backlash_and_a_viral_complaint(tmp_path: Path) -> None:
    out = tmp_path / "listening.json"
    result = runner.invoke(
        app, ["bench", "listening", "--days", "2", "--rate", "200", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["traffic"]["days"] == 2 and report["traffic"]["messages"] > 5000
    events = {e["name"]: e for e in report["events"]}
    assert list(events) == ["outage", "backlash", "viral"]
    outage = events["outage"]
    assert outage["messages"] > 100
    assert outage["delay_minutes"] is not None and outage["delay_minutes"] < 5
    assert events["backlash"]["delay_minutes"] is not None
    assert events["backlash"]["delay_minutes"] < 10
    assert events["viral"]["viral_reason"] == "velocity"
    for event in events.values():
        assert event["grouped_share"] >= 0.9, event
    assert report["false_alarms"]["count"] <= 3
    assert report["verdict"]["surge_caught_within_5_minutes"] is True
    assert report["verdict"]["every_event_90_percent_grouped"] is True


def test_the_benchmark_needs_two_days() -> None:
    result = runner.invoke(app, ["bench", "listening", "--days", "1"])
    assert result.exit_code == 2


def test_with_production_triage_the_outage_is_caught_on_its_topic(tmp_path: Path) -> None:
    """`--classify triage` classifies as the brand's (telecom) workspace does: with its sector's
    topics, so the outage surges on `topic:outage` and its incident holds its messages."""
    out = tmp_path / "listening.json"
    args = ["bench", "listening", "--days", "2", "--rate", "200", "--classify", "triage"]
    result = runner.invoke(app, [*args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["traffic"]["classify"] == "triage"
    outage = report["events"][0]
    assert outage["alarms"][0]["key"] == "topic:outage", outage["alarms"]
    assert outage["delay_minutes"] < 5
    assert outage["grouped_share"] >= 0.9
