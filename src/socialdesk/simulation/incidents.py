"""Incident response in the simulator: a burst answered as one incident.

When a burst (an outage, a backlash) is detected, one agent takes the incident: they write
one reply template (``template_minutes``), then send it, personalised, in bulk: each time
they select every message of the incident waiting, glance over each (``per_item_minutes``)
and send them all at once through the outbox; messages arriving meanwhile go in the next
batch. The
incident closes when no new message has come for ``idle_close_minutes``; the agent goes
back to the normal queue. Messages of the burst that arrived before the detection and were
already being worked stay with their agents.

The plan (which item belongs to which incident, and when the incident becomes known) is
plain data: from the generator's burst labels with a detection delay (the listening
benchmark measures that delay on the production detector).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from socialdesk.simulation.items import SimItem


@dataclass(frozen=True)
class IncidentHandling:
    plan: Mapping[int, tuple[str, float]] = field(default_factory=dict)
    """Item index -> (incident key, seconds from the start when the incident is known)."""
    template_minutes: float = 8.0
    per_item_minutes: float = 0.1
    idle_close_minutes: float = 30.0

    def __post_init__(self) -> None:
        if self.template_minutes < 0 or self.per_item_minutes <= 0 or self.idle_close_minutes <= 0:
            raise ValueError("incident times must be positive (the template's may be 0)")


def plan_from_bursts(
    items: Sequence[SimItem], burst_of: Mapping[str, str], detect_minutes: float
) -> dict[int, tuple[str, float]]:
    """Each burst's items form one incident, known ``detect_minutes`` after its first item."""
    first: dict[str, float] = {}
    members: list[tuple[int, str]] = []
    for item in items:
        burst = burst_of.get(item.external_id)
        if not burst:
            continue
        first[burst] = min(first.get(burst, item.arrival), item.arrival)
        members.append((item.index, burst))
    return {index: (burst, first[burst] + detect_minutes * 60.0) for index, burst in members}


def burst_response(
    items: Iterable[SimItem],
    done: Sequence[float | None],
    absorbed: Sequence[bool],
    within_minutes: float = 60.0,
) -> dict[str, Any]:
    """First-response figures of a burst's items (follow-ups that joined an open
    conversation excluded): share answered within the time, p50, p90."""
    waits = []
    count = 0
    for item in items:
        if absorbed[item.index]:
            continue
        count += 1
        finished = done[item.index]
        if finished is not None:
            waits.append((finished - item.arrival) / 60.0)
    waits.sort()

    def pct(p: float) -> float | None:
        if not waits:
            return None
        return round(waits[min(len(waits) - 1, int(p / 100 * len(waits)))], 1)

    within = sum(1 for w in waits if w <= within_minutes)
    return {
        "items": count,
        "answered": len(waits),
        f"within_{within_minutes:g}_minutes": round(within / count, 4) if count else None,
        "frt_minutes": {"p50": pct(50), "p90": pct(90), "max": waits[-1] if waits else None},
    }
