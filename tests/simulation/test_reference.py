"""The report's reference for the top quartile: what no order of the work beats."""

from __future__ import annotations

from socialdesk.priority.sla import SlaPolicy
from socialdesk.simulation.engine import TeamConfig
from socialdesk.simulation.runner import Scenario, run_scenario
from tests.simulation.factories import fixed_handling, items, message, vip_complaint


def test_no_policy_answers_the_top_quartile_faster_than_its_reference() -> None:
    traffic = [message(n, n / 4) for n in range(30)] + [
        vip_complaint(100 + k, 2 + k) for k in range(10)
    ]
    source = items(traffic, fixed_handling(6), SlaPolicy())
    report = run_scenario(source, Scenario(team=TeamConfig(agents=2))).report
    reference = report["comparison"]["top_quartile_reference"]
    assert reference["handling_p90_minutes"] == 6.0
    # Ten VIPs in ten minutes for two agents at 6 minutes each: the last ones wait.
    assert reference["alone_fifo_frt_p90_minutes"] > 6.0
    for policy in report["policies"].values():
        top = policy["by_value_quartile"]["Q4"]["frt_minutes"]["p90"]
        assert top >= reference["handling_p90_minutes"]
