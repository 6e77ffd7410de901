"""`socialdesk simulate`: generated or replayed traffic in, table, JSON and charts out."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.simulation.traffic import BrandProfile, generate

runner = CliRunner()
SMALL = ["simulate", "--hours", "4", "--rate", "40", "--agents", "3", "--start", "2026-11-23T09"]


def test_generated_traffic_gives_a_table_a_json_report_and_charts(tmp_path: Path) -> None:
    report_path = tmp_path / "sim.json"
    charts = tmp_path / "charts"
    result = runner.invoke(app, [*SMALL, "--json", str(report_path), "--charts", str(charts)])
    assert result.exit_code == 0, result.output
    assert "Policies side by side" in result.output
    assert "Erlang C" in result.output
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert list(report["policies"]) == ["fifo", "round_robin", "value"]
    assert report["traffic"]["items"] > 50
    for policy in report["policies"].values():
        assert set(policy["by_value_quartile"]) == {"Q1", "Q2", "Q3", "Q4"}
        assert policy["frt_minutes"]["p90"] is not None
        assert 0 < policy["utilisation"] <= 1
    pngs = sorted(charts.glob("*.png"))
    assert [p.name for p in pngs] == [
        "erlang_staffing.png",
        "frt_p90_by_value_quartile.png",
        "queue_over_time.png",
    ]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def test_saved_traffic_replays_to_the_same_report(tmp_path: Path) -> None:
    traffic = tmp_path / "traffic.jsonl"
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    result = runner.invoke(
        app, [*SMALL, "--save-traffic", str(traffic), "--json", str(first), "--seed", "4"]
    )
    assert result.exit_code == 0, result.output
    replay = ["simulate", "--replay", str(traffic), "--agents", "3", "--seed", "4"]
    result = runner.invoke(app, [*replay, "--json", str(second)])
    assert result.exit_code == 0, result.output
    a = json.loads(first.read_text(encoding="utf-8"))
    b = json.loads(second.read_text(encoding="utf-8"))
    assert a["policies"] == b["policies"]
    assert b["traffic"]["classified_by_triage"] == 0  # the ground truth travels in the file


def test_replayed_jsonl_skips_bad_lines_and_says_where(tmp_path: Path) -> None:
    events = generate(BrandProfile(), datetime(2026, 11, 23, 10, tzinfo=UTC),
                      timedelta(hours=2), 40.0, seed=2)  # fmt: skip
    lines = [e.model_dump_json() for e in events]
    lines.insert(3, "{broken")
    path = tmp_path / "traffic.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report_path = tmp_path / "r.json"
    result = runner.invoke(
        app, ["simulate", "--replay", str(path), "--agents", "2", "--json", str(report_path)]
    )
    assert result.exit_code == 0, result.output
    assert "traffic.jsonl:4: skipped: not JSON" in result.output
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["traffic"]["events"] == len(lines) - 1


def test_replayed_twcs_csv_leaves_the_brands_own_tweets_out(tmp_path: Path) -> None:
    path = tmp_path / "twcs.csv"
    rows = [
        (
            "1",
            "cust1",
            "True",
            "Mon Nov 23 09:00:00 +0000 2026",
            "@Acme you charged me twice this month, refund me now",
            "2",
            "",
        ),
        ("2", "AcmeCare", "False", "Mon Nov 23 09:20:00 +0000 2026", "@cust1 DM us", "3", "1"),
        ("3", "cust1", "True", "Mon Nov 23 09:30:00 +0000 2026", "@AcmeCare done", "", "2"),
        (
            "4",
            "cust2",
            "True",
            "Mon Nov 23 09:40:00 +0000 2026",
            "@Acme is there an outage in Leeds? no internet since 9am",
            "",
            "",
        ),
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["tweet_id", "author_id", "inbound", "created_at", "text", "response_tweet_id",
             "in_response_to_tweet_id"]
        )  # fmt: skip
        writer.writerows(rows)
    report_path = tmp_path / "r.json"
    args = ["simulate", "--replay", str(path), "--agents", "1", "--json", str(report_path)]
    result = runner.invoke(app, [*args, "--classify", "truth"])
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["traffic"]["skipped_outbound"] == 1
    assert report["traffic"]["items"] == 3  # without triage every customer tweet is care
    assert report["traffic"]["classified_by_triage"] == 0
    assert report["policies"]["fifo"]["response_rate"] == 1.0

    # By default, replayed messages (no ground truth) are classified by socialdesk's triage.
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    traffic = json.loads(report_path.read_text(encoding="utf-8"))["traffic"]
    assert traffic["classified_by_triage"] == 3
    kept = traffic["items"] + traffic["skipped_no_response"] + traffic["skipped_other_team"]
    assert kept == 3 and traffic["items"] >= 1


def test_erlang_staffing_staffs_each_hour(tmp_path: Path) -> None:
    report_path = tmp_path / "r.json"
    result = runner.invoke(
        app, [*SMALL, "--staffing", "erlang", "--policies", "value", "--json", str(report_path)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text(encoding="utf-8"))
    staffing = report["team"]["staffing"]
    assert len(staffing) == 24 and min(staffing) >= 1
    assert list(report["policies"]) == ["value"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--staffing", "1,2"], "staffing needs 24 hourly counts, got 2"),
        (["--policies", "fifo,lottery"], "unknown policy 'lottery'"),
        (["--sector", "bakery"], "unknown sector 'bakery'"),
        (["--replay", "nowhere.csv"], "nowhere.csv"),
        (["--goal-share", "1.5"], "goal share"),
        (["--business-hours", "missing.json"], "cannot read the business hours"),
        (["--languages", "es=2"], "languages must look like 'es:2,fr:1'"),
    ],
)
def test_bad_options_end_with_a_clear_message(args: list[str], message: str) -> None:
    result = runner.invoke(app, [*SMALL, *args])
    assert result.exit_code == 2
    assert message in result.output


def test_interval_staffing_follows_a_burst_hour_by_hour(tmp_path: Path) -> None:
    """A 300-message burst in the second hour: staffed for that hour, not on average."""
    report_path = tmp_path / "r.json"
    args = [*SMALL, "--bursts", "6", "--burst-size", "300", "--staffing", "interval"]
    result = runner.invoke(app, [*args, "--policies", "fifo,value", "--json", str(report_path)])
    assert result.exit_code == 0, result.output
    assert "Erlang C per interval: 4 hours from 2026-11-23T09:00:00+00:00" in result.output
    assert "forecast for the next 168 hours" in result.output
    report = json.loads(report_path.read_text(encoding="utf-8"))
    erlang = report["erlang_c"]
    timeline = report["team"]["timeline"]
    assert timeline == [max(1, h["agents"]) for h in erlang["by_interval"]]
    busiest = max(erlang["by_interval"], key=lambda h: h["arrivals"])
    assert busiest["agents"] == max(timeline) > min(timeline)
    assert len(erlang["forecast"]["by_interval"]) == 168
    comparison = report["comparison"]
    assert comparison["response_rate"] == {"fifo": 1.0, "value": 1.0}
    waits = comparison["top_quartile_wait_p90_minutes"]
    assert waits["value"] <= waits["fifo"]


def test_first_replies_and_the_slot_setting_from_the_command_line(tmp_path: Path) -> None:
    def run(*extra: str) -> dict[str, Any]:
        out = tmp_path / f"sim{len(list(tmp_path.iterdir()))}.json"
        result = runner.invoke(app, [*SMALL, "--policies", "fifo", "--json", str(out), *extra])
        assert result.exit_code == 0, result.output
        report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return report

    free, held = run(), run("--answered-holds-slot")
    assert free["team"]["answered_holds_slot"] is False
    assert held["team"]["answered_holds_slot"] is True
    for report in (free, held):
        fifo = report["policies"]["fifo"]
        assert fifo["handled"] == fifo["answered"] == fifo["items"]
        assert fifo["completion_minutes"]["p90"] > fifo["frt_minutes"]["p90"]
    # Three agents are overloaded: while answered items keep their slot, replies wait.
    assert (
        held["policies"]["fifo"]["frt_minutes"]["p90"]
        > free["policies"]["fifo"]["frt_minutes"]["p90"]
    )
    one_sitting = tmp_path / "handling.json"
    one_sitting.write_text('{"first_reply": null}', encoding="utf-8")
    whole = run("--handling", str(one_sitting))["policies"]["fifo"]
    assert whole["frt_minutes"] == {
        **whole["completion_minutes"],
        "mean": whole["frt_minutes"]["mean"],
    }
