"""Dashboard metrics as pure functions over plain rows, with the clock passed in."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from socialdesk.core.clock import as_utc

# Edges in minutes; the last bucket is open-ended. Chosen around the customer expectations
# (within the hour; 30 min on X, 2 h on Facebook) and the industry's 11 h average.
FIRST_RESPONSE_EDGES = (5, 15, 30, 60, 120, 240, 480, 1440)


def hour_floor(value: datetime) -> datetime:
    return as_utc(value).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class HourlyVolume:
    hours: tuple[datetime, ...]
    channels: tuple[str, ...]
    counts: dict[str, tuple[int, ...]]  # channel -> one count per hour

    @property
    def total(self) -> int:
        return sum(sum(c) for c in self.counts.values())


def hourly_volume(
    rows: Iterable[tuple[str, datetime, int]], *, now: datetime, hours: int = 24
) -> HourlyVolume:
    """Counts per channel per hour for the last ``hours`` hours, the current hour last."""
    end = hour_floor(now)
    slots = tuple(end - timedelta(hours=h) for h in range(hours - 1, -1, -1))
    index = {s: i for i, s in enumerate(slots)}
    table: dict[str, list[int]] = defaultdict(lambda: [0] * hours)
    for channel, hour, count in rows:
        i = index.get(hour_floor(hour))
        if i is not None:
            table[channel][i] += count
    channels = tuple(sorted(table))
    return HourlyVolume(slots, channels, {c: tuple(table[c]) for c in channels})


@dataclass(slots=True)
class ServiceLevel:
    group: str
    total: int = 0
    responded: int = 0
    decided: int = 0  # answered, or past due without an answer: counts toward attainment
    within: int = 0

    @property
    def response_rate(self) -> float | None:
        return None if self.total == 0 else self.responded / self.total

    @property
    def attainment(self) -> float | None:
        return None if self.decided == 0 else self.within / self.decided


def merge_levels(groups: Iterable[tuple[str, int, int, int, int]]) -> list[ServiceLevel]:
    """Add up per-group counts (group, total, answered, decided, within) into one row each."""
    levels: dict[str, ServiceLevel] = {}
    for group, total, responded, decided, within in groups:
        level = levels.setdefault(group, ServiceLevel(group))
        level.total += total
        level.responded += responded
        level.decided += decided
        level.within += within
    return [levels[g] for g in sorted(levels)]


@dataclass(frozen=True, slots=True)
class Histogram:
    labels: tuple[str, ...]
    counts: tuple[int, ...]
    median_minutes: float | None


def _label(lo: int, hi: int | None) -> str:
    def fmt(m: int) -> str:
        return f"{m // 60}h" if m >= 60 and m % 60 == 0 else f"{m}m"

    return (
        f"<{fmt(hi)}"
        if lo == 0 and hi
        else (f"{fmt(lo)}+" if hi is None else f"{fmt(lo)}-{fmt(hi)}")
    )


def first_response_histogram(minutes: Sequence[float]) -> Histogram:
    bounds: list[tuple[int, int | None]] = []
    lo = 0
    for edge in FIRST_RESPONSE_EDGES:
        bounds.append((lo, edge))
        lo = edge
    bounds.append((lo, None))
    counts = [0] * len(bounds)
    for m in minutes:
        for i, (_, hi) in enumerate(bounds):
            if hi is None or m < hi:
                counts[i] += 1
                break
    ordered = sorted(minutes)
    median = None
    if ordered:
        mid = len(ordered) // 2
        median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return Histogram(tuple(_label(lo, hi) for lo, hi in bounds), tuple(counts), median)


@dataclass(slots=True)
class QueueState:
    queue: str
    depth: int = 0
    unassigned: int = 0
    oldest_wait_seconds: float = 0.0


def queue_state(
    queue: str, depth: int, unassigned: int, oldest: datetime | None, *, now: datetime
) -> QueueState:
    wait = 0.0 if oldest is None else max(0.0, (now - as_utc(oldest)).total_seconds())
    return QueueState(queue, depth, unassigned, wait)


@dataclass(frozen=True, slots=True)
class TrendPoint:
    hour: datetime
    mean: float
    count: int


def hourly_mean(
    rows: Iterable[tuple[datetime, float]], *, now: datetime, hours: int = 24
) -> list[TrendPoint]:
    """Mean of a score (e.g. sentiment compound) per hour; hours without data are left out."""
    start = hour_floor(now) - timedelta(hours=hours - 1)
    sums: dict[datetime, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for at, value in rows:
        h = hour_floor(at)
        if h >= start:
            sums[h][0] += value
            sums[h][1] += 1
    return [TrendPoint(h, s / n, int(n)) for h, (s, n) in sorted(sums.items())]


@dataclass(frozen=True, slots=True)
class AgentLoad:
    user_id: int
    name: str
    presence: str
    load: int
    capacity: int | None = None
    extra: dict[str, str] = field(default_factory=dict)


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"
