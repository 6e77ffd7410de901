"""Incident response in the simulator: one agent, one template, bulk replies."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from socialdesk.channels.events import InboundEvent
from socialdesk.cli import app
from socialdesk.simulation.engine import TeamConfig, simulate
from socialdesk.simulation.incidents import IncidentHandling, burst_response, plan_from_bursts
from tests.simulation.factories import fixed_handling, items, message

runner = CliRunner()


def burst_day() -> tuple[list[InboundEvent], dict[str, str]]:
    """Steady questions every 3 minutes for 4 hours; at 1 h, 60 complaints in 6 minutes."""
    events = [message(n, n * 3.0) for n in range(80)]
    burst = [
        message(1000 + n, 60 + n * 0.1, kind="complaint", sentiment="negative") for n in range(60)
    ]
    labels = {e.external_id: "outage-1" for e in burst}
    return sorted(events + burst, key=lambda e: e.created_at), labels


def test_the_plan_opens_each_burst_after_the_detection_delay() -> None:
    events, labels = burst_day()
    source = items(events, fixed_handling(6.0))
    plan = plan_from_bursts(source.items, labels, detect_minutes=3.0)
    assert len(plan) == 60
    assert {key for key, _ in plan.values()} == {"outage-1"}
    first = min(i.arrival for i in source.items if i.external_id in labels)
    assert {known for _, known in plan.values()} == {first + 180.0}


def test_a_burst_is_answered_in_bulk_far_sooner_and_every_item_once() -> None:
    events, labels = burst_day()
    source = items(events, fixed_handling(6.0))
    team = TeamConfig(agents=3)
    burst = [i for i in source.items if i.external_id in labels]
    plain = simulate(source, "value", team)
    handled = simulate(
        source,
        "value",
        team,
        incidents=IncidentHandling(plan=plan_from_bursts(source.items, labels, 3.0)),
    )
    before = burst_response(burst, plain.done, plain.absorbed)
    after = burst_response(burst, handled.done, handled.absorbed)
    assert before["within_60_minutes"] < 0.5
    assert after["within_60_minutes"] == 1.0
    assert after["answered"] == before["answered"] == 60
    assert all(handled.done[i.index] is not None for i in source.items)
    # Most of the burst went to the one agent on the incident.
    owners = {handled.assigned[i.index] for i in burst[-40:]}
    assert len(owners) == 1


def test_simulate_reports_the_burst_with_and_without_incident_response(tmp_path: Path) -> None:
    out = tmp_path / "sim.json"
    result = runner.invoke(
        app,
        [
            "simulate",
            "--rate",
            "40",
            "--policies",
            "value",
            "--incidents",
            "--answered-holds-slot",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "with it" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))["incidents"]
    assert report["burst_items"] > 20 and len(report["staffing_for_a_normal_day"]) == 24
    with_share = report["with_incident_response"]["burst"]["within_60_minutes"]
    without_share = report["without_incident_response"]["burst"]["within_60_minutes"]
    assert with_share >= 0.9 and with_share > without_share


def test_traffic_without_a_burst_is_a_clear_error() -> None:
    result = runner.invoke(
        app, ["simulate", "--hours", "3", "--rate", "30", "--bursts", "0", "--incidents"]
    )
    assert result.exit_code == 2
    assert "no burst" in result.output
