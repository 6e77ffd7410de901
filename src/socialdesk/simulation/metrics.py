"""What a simulated run achieved, per policy: response rate, first-response times (until
the first reply), handling completion, service levels, utilisation and abandoned items,
overall, per channel and per value quartile."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from socialdesk.simulation.engine import RunOutcome
from socialdesk.simulation.items import ItemSource, SimItem

QUARTILES = ("Q1", "Q2", "Q3", "Q4")  # Q4 holds the most valuable quarter of the items


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def quartile_edges(values: Sequence[float]) -> tuple[float, float, float]:
    edges = (percentile(values, 25), percentile(values, 50), percentile(values, 75))
    if edges[0] is None or edges[1] is None or edges[2] is None:
        return (0.0, 0.0, 0.0)
    return (edges[0], edges[1], edges[2])


def quartile_of(value: float, edges: tuple[float, float, float]) -> str:
    """Items equal to an edge go to the lower quartile, so Q4 is strictly above the p75."""
    position = bisect_right(edges, value)
    if position and value == edges[position - 1]:
        position -= 1
    return QUARTILES[position]


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _group(items: Sequence[SimItem], outcome: RunOutcome, source: ItemSource) -> dict[str, Any]:
    answered: list[float] = []
    waited: list[float] = []
    completed: list[float] = []
    sla_met = 0
    for item in items:
        first = outcome.first[item.index]
        if first is None:
            continue
        answered.append((first - item.arrival) / 60.0)
        started = outcome.started[item.index]
        waited.append(((started if started is not None else first) - item.arrival) / 60.0)
        done = outcome.done[item.index]
        if done is not None:
            completed.append((done - item.arrival) / 60.0)
        # The first-response target is met by the first reply.
        if source.start + timedelta(seconds=first) <= item.due_at:
            sla_met += 1
    count = len(items)
    return {
        "items": count,
        "answered": len(answered),
        "response_rate": _round(len(answered) / count if count else None, 4),
        "frt_minutes": {
            "p50": _round(percentile(answered, 50)),
            "p90": _round(percentile(answered, 90)),
            "p99": _round(percentile(answered, 99)),
            "mean": _round(sum(answered) / len(answered) if answered else None),
        },
        # Until the agent's work on it ended (the rest after the first reply included).
        "handled": len(completed),
        "completion_minutes": {
            "p50": _round(percentile(completed, 50)),
            "p90": _round(percentile(completed, 90)),
            "p99": _round(percentile(completed, 99)),
        },
        # Until an agent starts on it (Erlang C's wait): what the order of the list decides.
        "wait_minutes": {
            "p50": _round(percentile(waited, 50)),
            "p90": _round(percentile(waited, 90)),
            "p99": _round(percentile(waited, 99)),
            "max": _round(max(waited) if waited else None),
        },
        "sla_attainment": _round(sla_met / count if count else None, 4),
    }


def summarize(source: ItemSource, outcome: RunOutcome) -> dict[str, Any]:
    """The report of one policy's run."""
    tasks = [i for i in source.items if not outcome.absorbed[i.index]]
    overall = _group(tasks, outcome, source)
    by_channel: dict[str, list[SimItem]] = defaultdict(list)
    for item in tasks:
        by_channel[item.channel].append(item)
    by_language: dict[str, list[SimItem]] = defaultdict(list)
    for item in tasks:
        by_language[item.language or "unknown"].append(item)
    edges = quartile_edges([i.value for i in source.items])
    by_quartile: dict[str, list[SimItem]] = {q: [] for q in QUARTILES}
    for item in tasks:
        by_quartile[quartile_of(item.value, edges)].append(item)
    report: dict[str, Any] = {
        "policy": outcome.policy,
        **overall,
        "abandoned": sum(1 for i in tasks if outcome.first[i.index] is None),
        "gave_up": sum(outcome.abandoned),
        "followups_joined": sum(outcome.absorbed),
        "by_channel": {c: _group(v, outcome, source) for c, v in sorted(by_channel.items())},
        "by_language": {k: _group(v, outcome, source) for k, v in sorted(by_language.items())},
        "value_quartile_edges": [round(e, 3) for e in edges],
        "by_value_quartile": {q: _group(v, outcome, source) for q, v in by_quartile.items()},
    }
    intended = [i.intended_value for i in source.items if i.intended_value is not None]
    if len(intended) == len(source.items) and intended:
        truth_edges = quartile_edges(intended)
        by_truth: dict[str, list[SimItem]] = {q: [] for q in QUARTILES}
        for item in tasks:
            by_truth[quartile_of(item.intended_value or 0.0, truth_edges)].append(item)
        report["by_intended_value_quartile"] = {
            q: _group(v, outcome, source) for q, v in by_truth.items()
        }
    busy = sum(a.busy_seconds for a in outcome.agents)
    capacity = sum(a.shift_seconds * a.slots for a in outcome.agents)
    report["utilisation"] = _round(busy / capacity if capacity else None, 4)
    report["agents"] = [
        {"id": a.id, "handled": a.handled, "busy_hours": round(a.busy_seconds / 3600, 2)}
        for a in outcome.agents
    ]
    report["max_queue"] = max((n for _, n in outcome.queue), default=0)
    report["duration_hours"] = round(outcome.end / 3600.0, 2)
    return report


def hourly_load(source: ItemSource) -> tuple[list[float], list[float]]:
    """Measured arrivals per hour and mean handling minutes, per hour of day (UTC)."""
    counts = [0] * 24
    minutes = [0.0] * 24
    for item in source.items:
        hour = item.created_at.hour
        counts[hour] += 1
        minutes[hour] += item.handling_minutes
    # How often each hour of day occurs in the traffic's span (a 36-hour run has some twice).
    seen = [0] * 24
    moment = source.start.replace(minute=0, second=0, microsecond=0)
    while moment <= source.end:
        seen[moment.hour] += 1
        moment += timedelta(hours=1)
    overall = sum(minutes) / sum(counts) if sum(counts) else 0.0
    rates = [c / max(1, n) for c, n in zip(counts, seen, strict=True)]
    handling = [minutes[h] / counts[h] if counts[h] else overall for h in range(24)]
    return rates, handling
