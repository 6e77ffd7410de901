"""Report figures: percentiles, value quartiles, and the headline of the simulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from socialdesk.priority.scoring import ValuePolicy
from socialdesk.priority.sla import SlaPolicy
from socialdesk.simulation.engine import TeamConfig
from socialdesk.simulation.handling import HandlingTimes
from socialdesk.simulation.items import build_items
from socialdesk.simulation.metrics import hourly_load, percentile, quartile_edges, quartile_of
from socialdesk.simulation.runner import Scenario, run_scenario
from socialdesk.simulation.traffic import BrandProfile, generate
from tests.simulation.factories import fixed_handling, items, message


def test_percentiles_interpolate_between_ranks() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert percentile(values, 50) == 2.5
    assert percentile(values, 90) == pytest.approx(3.7)
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile([], 50) is None


def test_quartiles_put_the_top_quarter_in_q4() -> None:
    values = [float(v) for v in range(1, 101)]
    edges = quartile_edges(values)
    quartiles = [quartile_of(v, edges) for v in values]
    assert quartiles.count("Q4") == 25
    assert quartile_of(100.0, edges) == "Q4"
    assert quartile_of(1.0, edges) == "Q1"
    assert quartile_of(edges[2], edges) == "Q3"  # the p75 itself is not top quarter


def test_value_cuts_the_top_quartiles_wait_several_fold_at_the_same_staffing() -> None:
    """A day of telecom traffic without an outage, 12 agents whose answered items keep
    their slot: ``value`` (production scoring + SLA time pressure + selection) answers the
    most valuable quarter several times sooner at p90 than ``fifo``, and still answers all.
    Where answered items free their slot (the product's default) both answer it at about
    the time a first reply takes to write: the order matters only once the first replies
    alone are more than the team can write."""
    events = generate(BrandProfile(bursts_per_day=0), datetime(2026, 11, 23, tzinfo=UTC),
                      timedelta(days=1), 100.0, seed=1)  # fmt: skip
    source = build_items(
        events,
        value_policy=ValuePolicy(),
        sla_policy=SlaPolicy(),
        handling=HandlingTimes(),
        seed=1,
    )
    scenario = Scenario(
        team=TeamConfig(agents=12, answered_holds_slot=True), policies=("fifo", "value")
    )
    report = run_scenario(source, scenario).report
    comparison = report["comparison"]
    assert comparison["top_quartile_p90_cut"] >= 3.0
    free = run_scenario(source, Scenario(team=TeamConfig(agents=12), policies=("fifo", "value")))
    writing = free.report["comparison"]["top_quartile_reference"]["first_reply_p90_minutes"]
    for p90 in free.report["comparison"]["top_quartile_p90_minutes"].values():
        assert abs(p90 - writing) <= 1.0
    assert report["policies"]["value"]["response_rate"] == 1.0
    assert report["policies"]["value"]["abandoned"] == 0
    fifo, value = report["policies"]["fifo"], report["policies"]["value"]
    assert value["sla_attainment"] > fifo["sla_attainment"]
    assert len(report["erlang_c"]["by_hour"]) == 24


def test_hourly_load_averages_each_hour_of_day_over_the_days_it_occurs() -> None:
    # 36 hours from 00:00: hours 0-11 occur twice, 12-23 once.
    events = [
        message(n, minute, start=datetime(2026, 11, 23, tzinfo=UTC))
        for n, minute in enumerate([30, 24 * 60 + 30, 13 * 60, 35 * 60 + 59])
    ]
    source = items(events, fixed_handling(4))
    rates, handling = hourly_load(source)
    assert rates[0] == 1.0  # two items at 00:30 over two days
    assert rates[13] == 1.0
    assert rates[11] == 0.5  # 35:59 is 11:59 of the second day
    assert handling[0] == 4.0 and handling[5] == 4.0
