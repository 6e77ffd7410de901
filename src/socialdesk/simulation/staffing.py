"""Staffing on a real timeline: Erlang C per interval (date and hour) of actual traffic,
and a forecast of the coming week from it.

Staffing by hour of day averages every Monday 20:00 with every Tuesday 20:00: a burst of
700 messages in one hour of a two-month history then counts as 12 in that hour, and the
plan gives one agent. Per interval, each hour of the record is staffed for what arrived in
it: with perfect hindsight, what the team needed.

The forecast is a classical multiplicative decomposition (Hyndman & Athanasopoulos,
"Forecasting: Principles and Practice", chapter 3): a least-squares line through the daily
totals gives the trend; each hour's arrivals over the trend's level at that time give a
seasonal index, whose median is taken per hour of the week; the forecast of an hour of the
coming week is its index times the trend carried forward. Hours of the week seen fewer
than three times fall back to the median of that hour of day, so a one-off burst does not
come back every week.

Pure functions over plain data (moments and handling minutes): the simulator and the
stored-traffic reader both hand their items in this form.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from socialdesk.core.clock import as_utc
from socialdesk.simulation.erlang import agents_needed, service_level

HOUR = timedelta(hours=1)
WEEK_HOURS = 168
# Occurrences of an hour of the week needed before it stands for itself: with fewer, a
# one-off burst would come back every week; the hour of day's median stands in instead.
MIN_WEEKS = 3


@dataclass(frozen=True, slots=True)
class IntervalLoad:
    start: datetime  # the hour's beginning (UTC)
    arrivals: float
    handling_minutes: float  # mean of the hour's items (the overall mean when none came)


@dataclass(frozen=True, slots=True)
class IntervalStaffing:
    start: datetime
    arrivals: float
    handling_minutes: float
    traffic_erlangs: float
    agents: int
    service_level: float

    def as_dict(self) -> dict[str, object]:
        return {
            "start": self.start.isoformat(),
            "arrivals": round(self.arrivals, 2),
            "handling_minutes": round(self.handling_minutes, 2),
            "traffic_erlangs": round(self.traffic_erlangs, 3),
            "agents": self.agents,
            "service_level": round(self.service_level, 4),
        }


def _hour_floor(moment: datetime) -> datetime:
    return as_utc(moment).replace(minute=0, second=0, microsecond=0)


def interval_load(
    items: Iterable[tuple[datetime, float]], start: datetime, end: datetime
) -> list[IntervalLoad]:
    """Arrivals and mean handling time of each hour from ``start`` to ``end`` (both
    included), from (arrival moment, handling minutes) pairs."""
    first, last = _hour_floor(start), _hour_floor(end)
    if last < first:
        raise ValueError("the end of the traffic comes before its start")
    counts: dict[datetime, int] = defaultdict(int)
    minutes: dict[datetime, float] = defaultdict(float)
    for moment, handling in items:
        hour = _hour_floor(moment)
        counts[hour] += 1
        minutes[hour] += handling
    total = sum(counts.values())
    overall = sum(minutes.values()) / total if total else 0.0
    load = []
    hour = first
    while hour <= last:
        n = counts.get(hour, 0)
        load.append(IntervalLoad(hour, float(n), minutes[hour] / n if n else overall))
        hour += HOUR
    return load


def staffing_by_interval(
    load: Sequence[IntervalLoad],
    target_minutes: float,
    service_level_goal: float,
    *,
    slots_per_agent: int = 1,
    minimum: int = 0,
) -> list[IntervalStaffing]:
    """Erlang C for each interval: the smallest team meeting the goal for its traffic."""
    if slots_per_agent < 1:
        raise ValueError("slots_per_agent must be >= 1")
    plan = []
    for interval in load:
        per_minute = interval.arrivals / 60.0
        aht = interval.handling_minutes
        servers = agents_needed(per_minute, aht, target_minutes, service_level_goal)
        agents = max(minimum, math.ceil(servers / slots_per_agent))
        achieved = service_level(agents * slots_per_agent, per_minute, aht, target_minutes)
        plan.append(
            IntervalStaffing(
                interval.start, interval.arrivals, aht, per_minute * aht, agents, achieved
            )
        )
    return plan


def _how_of(moment: datetime) -> int:
    """Hour of the week, Monday 00:00 UTC = 0."""
    return moment.weekday() * 24 + moment.hour


@dataclass(frozen=True, slots=True)
class _Trend:
    """The least-squares line through the daily totals, by day number from the start."""

    mean_day: float
    mean_total: float
    slope: float  # change of the daily total per day

    def daily(self, day: float) -> float:
        return max(0.0, self.mean_total + self.slope * (day - self.mean_day))


def _day_of(moment: datetime, origin: datetime) -> int:
    return (moment - origin).days


def _trend(load: Sequence[IntervalLoad]) -> _Trend:
    """Only whole days count; with fewer than two the level is flat."""
    origin = load[0].start
    days: dict[int, list[float]] = defaultdict(list)
    for interval in load:
        days[_day_of(interval.start, origin)].append(interval.arrivals)
    whole = sorted((day, sum(v)) for day, v in days.items() if len(v) == 24)
    if len(whole) < 2:
        total = sum(i.arrivals for i in load) * 24 / len(load)
        return _Trend(0.0, total, 0.0)
    xs = [float(day) for day, _ in whole]
    ys = [total for _, total in whole]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return _Trend(mx, my, slope)


def forecast_week(load: Sequence[IntervalLoad], hours: int = WEEK_HOURS) -> list[IntervalLoad]:
    """Arrivals and handling time for each hour after the history, for ``hours`` hours.

    Multiplicative decomposition: each hour's arrivals over the trend's hourly level give a
    seasonal index; the median index of each hour of the week (of the hour of day where the
    history holds that hour of the week fewer than ``MIN_WEEKS`` times, 1 where neither was
    seen) times the trend's level carried forward is the forecast. Medians, so that a
    one-off burst does not come back in the forecast."""
    if not load:
        raise ValueError("a forecast needs some history")
    origin = load[0].start
    trend = _trend(load)
    by_week: dict[int, list[tuple[float, IntervalLoad]]] = defaultdict(list)
    by_day: dict[int, list[tuple[float, IntervalLoad]]] = defaultdict(list)
    for interval in load:
        level = trend.daily(_day_of(interval.start, origin)) / 24.0
        index = interval.arrivals / level if level > 0 else 0.0
        by_week[_how_of(interval.start)].append((index, interval))
        by_day[interval.start.hour].append((index, interval))
    total_arrivals = sum(i.arrivals for i in load)
    overall_aht = (
        sum(i.arrivals * i.handling_minutes for i in load) / total_arrivals
        if total_arrivals
        else load[0].handling_minutes
    )
    out = []
    moment = load[-1].start + HOUR
    for _ in range(hours):
        same = by_week.get(_how_of(moment), [])
        if len(same) < MIN_WEEKS:
            same = by_day.get(moment.hour, [])
        index = statistics.median(k for k, _ in same) if same else 1.0
        came = sum(i.arrivals for _, i in same)
        aht = sum(i.arrivals * i.handling_minutes for _, i in same) / came if came else overall_aht
        level = trend.daily(_day_of(moment, origin)) / 24.0
        out.append(IntervalLoad(moment, index * level, aht))
        moment += HOUR
    return out


def staffing_summary(plan: Sequence[IntervalStaffing]) -> dict[str, object]:
    """Headline figures of a plan: its span, peak and agent-hours."""
    if not plan:
        return {"intervals": 0, "peak_agents": 0, "agent_hours": 0}
    peak = max(plan, key=lambda p: p.agents)
    return {
        "intervals": len(plan),
        "first": plan[0].start.isoformat(),
        "last": plan[-1].start.isoformat(),
        "peak_agents": peak.agents,
        "peak_at": peak.start.isoformat(),
        "peak_arrivals": round(peak.arrivals, 2),
        "agent_hours": sum(p.agents for p in plan),
    }
