"""The burst day with and without incident response, at a normal day's Erlang C staffing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from socialdesk.channels.events import InboundEvent
from socialdesk.simulation.engine import TeamConfig, simulate
from socialdesk.simulation.erlang import staffing_by_hour
from socialdesk.simulation.incidents import IncidentHandling, burst_response, plan_from_bursts
from socialdesk.simulation.items import ItemSource
from socialdesk.simulation.metrics import hourly_load
from socialdesk.simulation.runner import Scenario

WITHIN_MINUTES = 60.0


@dataclass(frozen=True)
class IncidentOptions:
    detect_minutes: float = 3.0
    """How long after a burst's first message the incident is opened (detection delay)."""
    template_minutes: float = 8.0
    per_item_minutes: float = 0.1
    idle_close_minutes: float = 30.0


def burst_labels(events: Iterable[InboundEvent]) -> dict[str, str]:
    """External id -> burst id, from the generator's ground truth."""
    labels = {}
    for event in events:
        sim = event.extra.get("sim")
        burst = sim.get("burst") if isinstance(sim, dict) else None
        if burst:
            labels[event.external_id] = str(burst)
    return labels


def compare_incident_response(
    source: ItemSource,
    events: list[InboundEvent],
    scenario: Scenario,
    options: IncidentOptions | None = None,
    policy: str = "value",
) -> dict[str, Any]:
    """Run ``policy`` on the traffic twice, without and with incident response, staffed as
    Erlang C staffs the same day without its bursts; report the bursts' first responses."""
    opts = options or IncidentOptions()
    labels = burst_labels(events)
    burst_items = [i for i in source.items if i.external_id in labels]
    if not burst_items:
        raise ValueError("the traffic has no burst to handle as an incident (try --bursts 1)")
    normal = replace(source, items=[i for i in source.items if i.external_id not in labels])
    rates, handling = hourly_load(normal)
    goal = scenario.goal
    plan = staffing_by_hour(
        rates, handling, goal.minutes, goal.share, slots_per_agent=scenario.team.slots
    )
    staffing = tuple(max(1, h.agents) for h in plan)
    team: TeamConfig = replace(scenario.team, staffing=staffing, timeline=None)
    boost = scenario.sla_policy.breach_boost
    without = simulate(source, policy, team, scenario.routing, breach_boost=boost)
    incidents = IncidentHandling(
        plan=plan_from_bursts(source.items, labels, opts.detect_minutes),
        template_minutes=opts.template_minutes,
        per_item_minutes=opts.per_item_minutes,
        idle_close_minutes=opts.idle_close_minutes,
    )
    with_incidents = simulate(
        source, policy, team, scenario.routing, breach_boost=boost, incidents=incidents
    )
    others = [i for i in source.items if i.external_id not in labels]
    return {
        "policy": policy,
        "staffing_for_a_normal_day": list(staffing),
        "bursts": len(set(labels.values())),
        "burst_items": len(burst_items),
        "options": {
            "detect_minutes": opts.detect_minutes,
            "template_minutes": opts.template_minutes,
            "per_item_minutes": opts.per_item_minutes,
            "idle_close_minutes": opts.idle_close_minutes,
        },
        "without_incident_response": {
            "burst": burst_response(burst_items, without.first, without.absorbed, WITHIN_MINUTES),
            "other_items": burst_response(others, without.first, without.absorbed, WITHIN_MINUTES),
        },
        "with_incident_response": {
            "burst": burst_response(
                burst_items, with_incidents.first, with_incidents.absorbed, WITHIN_MINUTES
            ),
            "other_items": burst_response(
                others, with_incidents.first, with_incidents.absorbed, WITHIN_MINUTES
            ),
        },
        "target": {"burst_within_60_minutes": 0.9},
    }
