"""One simulation run: the same items through each policy, then Erlang C staffing, as a
JSON-ready report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from typing import Any

from socialdesk.priority.scoring import ValuePolicy
from socialdesk.priority.sla import SlaPolicy
from socialdesk.routing.selection import RoutingPolicy
from socialdesk.simulation.engine import RunOutcome, TeamConfig, simulate
from socialdesk.simulation.erlang import staffing_by_hour
from socialdesk.simulation.items import ItemSource
from socialdesk.simulation.metrics import (
    hourly_load,
    percentile,
    quartile_edges,
    quartile_of,
    summarize,
)
from socialdesk.simulation.policies import POLICIES
from socialdesk.simulation.staffing import (
    forecast_week,
    interval_load,
    staffing_by_interval,
    staffing_summary,
)


@dataclass(frozen=True)
class ServiceGoal:
    """The service level Erlang C staffs for: ``share`` answered within ``minutes``."""

    minutes: float = 30.0
    share: float = 0.8


@dataclass(frozen=True)
class Scenario:
    team: TeamConfig = field(default_factory=TeamConfig)
    policies: tuple[str, ...] = POLICIES
    value_policy: ValuePolicy = field(default_factory=ValuePolicy)
    sla_policy: SlaPolicy = field(default_factory=SlaPolicy)
    goal: ServiceGoal = field(default_factory=ServiceGoal)
    language_overflow_minutes: float | None = 30.0
    """After this wait, an item may go to an agent who does not speak its language."""

    def __post_init__(self) -> None:
        unknown = [p for p in self.policies if p not in POLICIES]
        if unknown or not self.policies:
            raise ValueError(f"policies must be among {', '.join(POLICIES)}; got {unknown}")

    @property
    def routing(self) -> RoutingPolicy:
        # The SLA's time pressure must weigh the same in ordering as in the SLA policy.
        overflow = self.language_overflow_minutes
        return RoutingPolicy(
            pressure_weight=self.sla_policy.pressure_weight,
            rescue_after=self.sla_policy.rescue_after,
            top_class_from=self.sla_policy.top_class_from,
            overflow_languages_after=None if overflow is None else timedelta(minutes=overflow),
        )


@dataclass(slots=True)
class SimulationResult:
    report: dict[str, Any]
    outcomes: dict[str, RunOutcome]


def run_scenario(
    source: ItemSource,
    scenario: Scenario,
    on_policy_done: Callable[[str], None] | None = None,
) -> SimulationResult:
    outcomes: dict[str, RunOutcome] = {}
    policies: dict[str, Any] = {}
    for name in scenario.policies:
        outcomes[name] = simulate(
            source,
            name,
            scenario.team,
            scenario.routing,
            breach_boost=scenario.sla_policy.breach_boost,
        )
        policies[name] = summarize(source, outcomes[name])
        if on_policy_done is not None:
            on_policy_done(name)
    rates, handling = hourly_load(source)
    plan = staffing_by_hour(
        rates,
        handling,
        scenario.goal.minutes,
        scenario.goal.share,
        slots_per_agent=scenario.team.slots,
    )
    report: dict[str, Any] = {
        "traffic": {
            "start": source.start.isoformat(),
            "end": source.end.isoformat(),
            "events": source.events,
            "items": len(source.items),
            "skipped_outbound": source.skipped_outbound,
            "skipped_no_response": source.skipped_no_response,
            "skipped_other_team": source.skipped_other_team,
            "classified_by_triage": source.classified,
            "mean_handling_minutes": round(
                sum(i.handling_minutes for i in source.items) / max(1, len(source.items)), 2
            ),
            "mean_first_reply_minutes": round(
                sum(i.first_reply_minutes for i in source.items) / max(1, len(source.items)), 2
            ),
        },
        "team": {
            "agents": scenario.team.headcount,
            "slots": scenario.team.slots,
            "staffing": list(scenario.team.staffing) if scenario.team.staffing else None,
            "timeline": list(scenario.team.timeline) if scenario.team.timeline else None,
            "patience_hours": scenario.team.patience_hours,
            "round_robin_sweep_minutes": scenario.team.sweep_minutes,
            "languages": dict(scenario.team.languages),
            "foreign_factor": scenario.team.foreign_factor,
            "answered_holds_slot": scenario.team.answered_holds_slot,
        },
        "policies": policies,
        "comparison": compare(policies) | top_quartile_reference(source, scenario),
        "erlang_c": {
            "goal": asdict(scenario.goal),
            "slots_per_agent": scenario.team.slots,
            "by_hour": [asdict(h) | {"service_level": round(h.service_level, 4)} for h in plan],
            "peak_agents": max((h.agents for h in plan), default=0),
            **timeline_staffing(source, scenario),
        },
    }
    return SimulationResult(report=report, outcomes=outcomes)


def timeline_staffing(source: ItemSource, scenario: Scenario) -> dict[str, Any]:
    """Erlang C per interval (date and hour) of the traffic, and for the forecast week."""
    goal, slots = scenario.goal, scenario.team.slots
    load = interval_load(
        ((i.created_at, i.handling_minutes) for i in source.items), source.start, source.end
    )
    actual = staffing_by_interval(load, goal.minutes, goal.share, slots_per_agent=slots)
    ahead = staffing_by_interval(
        forecast_week(load), goal.minutes, goal.share, slots_per_agent=slots
    )
    return {
        "by_interval_summary": staffing_summary(actual),
        "by_interval": [p.as_dict() for p in actual],
        "forecast": {
            "method": "hour-of-week means with a linear trend of the daily totals",
            "summary": staffing_summary(ahead),
            "by_interval": [p.as_dict() for p in ahead],
        },
    }


def top_quartile_reference(source: ItemSource, scenario: Scenario) -> dict[str, Any]:
    """What no order can beat, for reading the top quartile's figures: the p90 of its own
    first replies (no order answers faster than the reply takes to write), and its FRT p90
    if the same team had nothing else to do (first in, first out)."""
    edges = quartile_edges([i.value for i in source.items])
    top = [i for i in source.items if quartile_of(i.value, edges) == "Q4"]
    if not top:
        return {}
    alone = ItemSource(
        items=[replace(item, index=n) for n, item in enumerate(top)],
        start=source.start,
        end=source.end,
        events=len(top),
        skipped_outbound=0,
        skipped_no_response=0,
        skipped_other_team=0,
    )
    outcome = simulate(alone, "fifo", scenario.team, scenario.routing)
    answered = [
        (first - item.arrival) / 60.0
        for item, first in zip(alone.items, outcome.first, strict=True)
        if first is not None and not outcome.absorbed[item.index]
    ]
    handling = percentile([i.handling_minutes for i in top], 90)
    first_reply = percentile([i.first_reply_minutes for i in top], 90)
    frt_alone = percentile(answered, 90)
    return {
        "top_quartile_reference": {
            "first_reply_p90_minutes": None if first_reply is None else round(first_reply, 2),
            "handling_p90_minutes": None if handling is None else round(handling, 2),
            "alone_fifo_frt_p90_minutes": None if frt_alone is None else round(frt_alone, 2),
        }
    }


def _top_p90(policy: dict[str, Any], grouping: str, measure: str = "frt_minutes") -> float | None:
    groups = policy.get(grouping)
    if not groups:
        return None
    value: float | None = groups["Q4"][measure]["p90"]
    return value


def compare(policies: dict[str, Any], base: str = "fifo", ours: str = "value") -> dict[str, Any]:
    """The headline: how much ``value`` cuts the top quartile's p90 first response, by
    production score and (with generated traffic) by the intended value."""
    if base not in policies or ours not in policies:
        return {}
    result: dict[str, Any] = {}
    for grouping, label in (
        ("by_value_quartile", "top_quartile"),
        ("by_intended_value_quartile", "top_intended_quartile"),
    ):
        top_base = _top_p90(policies[base], grouping)
        top_ours = _top_p90(policies[ours], grouping)
        if top_base is None and top_ours is None:
            continue
        factor = round(top_base / top_ours, 2) if top_base is not None and top_ours else None
        result[f"{label}_p90_minutes"] = {base: top_base, ours: top_ours}
        result[f"{label}_p90_cut"] = factor
        wait_base = _top_p90(policies[base], grouping, "wait_minutes")
        wait_ours = _top_p90(policies[ours], grouping, "wait_minutes")
        result[f"{label}_wait_p90_minutes"] = {base: wait_base, ours: wait_ours}
        result[f"{label}_wait_p90_cut"] = (
            round(wait_base / wait_ours, 2) if wait_base is not None and wait_ours else None
        )
    result["response_rate"] = {
        base: policies[base]["response_rate"],
        ours: policies[ours]["response_rate"],
    }
    result["sla_attainment"] = {
        base: policies[base]["sla_attainment"],
        ours: policies[ours]["sla_attainment"],
    }
    return result


def policy_names(raw: str | Sequence[str]) -> tuple[str, ...]:
    names = raw.split(",") if isinstance(raw, str) else list(raw)
    cleaned = tuple(n.strip() for n in names if n.strip())
    unknown = [n for n in cleaned if n not in POLICIES]
    if unknown:
        raise ValueError(f"unknown policy {unknown[0]!r}; choose from {', '.join(POLICIES)}")
    return cleaned
