"""Synthetic brand-mention volume series with labelled anomalies, for tests and tuning.

The shape of real mention counts at five-minute steps: a daily cycle (quiet nights), a
weekly cycle (quieter weekends), slow trend drift, negative binomial noise (news days are
busier than Poisson allows), isolated one-point outliers, and missing data. On top come
the labelled anomalies a detector must catch: spikes (a burst of news or anger decaying
over an hour or two), lasting level shifts, and drops (the feed or the brand going quiet).

Everything is deterministic for a seed; nothing here is tuned to any published data set.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True, slots=True)
class Anomaly:
    start: datetime
    kind: str
    """``spike``, ``shift`` or ``drop``."""
    size: float
    """Multiplier of the rate at its peak (spike, shift) or of what remains (drop)."""
    duration: timedelta


@dataclass(frozen=True)
class SeriesSpec:
    days: int = 28
    step: timedelta = timedelta(minutes=5)
    base_per_step: float = 20.0
    daily_amplitude: float = 0.6
    """0 = flat day; 0.6 = night at 40% and afternoon at 160% of the mean."""
    weekend_factor: float = 0.75
    dispersion: float = 0.05
    """Negative binomial r2: the variance is mu + dispersion * mu**2."""
    drift_per_week: float = 0.05
    """Standard deviation of the log-level's random walk per week."""
    outliers_per_week: float = 1.0
    gaps_per_week: float = 0.5
    anomalies: int = 3
    kinds: tuple[str, ...] = ("spike", "spike", "spike", "shift", "drop")
    start: datetime = field(default_factory=lambda: datetime(2026, 3, 2, tzinfo=UTC))


@dataclass(frozen=True)
class SyntheticSeries:
    timestamps: list[datetime]
    values: list[float]
    anomalies: list[Anomaly]
    step: timedelta


def _negative_binomial(rng: random.Random, mu: float, r2: float) -> int:
    if mu <= 0:
        return 0
    if r2 > 0:
        shape = 1.0 / r2
        mu = rng.gammavariate(shape, mu / shape)
    return poisson(rng, mu)


def poisson(rng: random.Random, mu: float) -> int:
    """A Poisson draw (Knuth's product method; a normal draw above 60)."""
    if mu > 60:
        return max(0, round(rng.gauss(mu, math.sqrt(mu))))
    limit, k, product = math.exp(-mu), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def generate_series(spec: SeriesSpec, seed: int) -> SyntheticSeries:
    """One series with ``spec.anomalies`` anomalies placed after the first fifth of it."""
    rng = random.Random(seed)
    steps = int(spec.days * timedelta(days=1) / spec.step)
    per_day = timedelta(days=1) / spec.step
    # Anomalies start after a fifth of the series (the baseline must have learnt), spaced.
    anomalies: list[Anomaly] = []
    slots = sorted(rng.sample(range(spec.anomalies * 3), spec.anomalies))
    usable = int(steps * 0.8)
    for slot in slots:
        index = int(steps * 0.2) + int(usable * (slot + rng.random() * 0.6) / (spec.anomalies * 3))
        kind = rng.choice(spec.kinds)
        if kind == "spike":
            size = rng.choice((2.5, 4.0, 8.0))
            duration = timedelta(minutes=rng.choice((30, 60, 120, 240)))
        elif kind == "shift":
            size = rng.choice((1.8, 2.5))
            duration = timedelta(days=rng.uniform(2, 5))
        else:
            size = rng.choice((0.0, 0.2))
            duration = timedelta(hours=rng.uniform(2, 8))
        anomalies.append(Anomaly(spec.start + spec.step * index, kind, size, duration))
    log_level = 0.0
    phase = rng.uniform(-0.5, 0.5)
    walk = spec.drift_per_week / math.sqrt(7 * per_day)
    outlier_p = spec.outliers_per_week / (7 * per_day)
    gap_p = spec.gaps_per_week / (7 * per_day)
    timestamps: list[datetime] = []
    values: list[float] = []
    gap_left = 0
    for i in range(steps):
        at = spec.start + spec.step * i
        log_level += rng.gauss(0.0, walk)
        hour = at.hour + at.minute / 60
        day = 1.0 + spec.daily_amplitude * math.sin(2 * math.pi * (hour - 9 + phase) / 24)
        week = spec.weekend_factor if at.weekday() >= 5 else 1.0
        mu = spec.base_per_step * math.exp(log_level) * max(day, 0.05) * week
        mu *= _anomaly_factor(anomalies, at)
        if gap_left > 0:
            gap_left -= 1
            continue
        if rng.random() < gap_p:
            gap_left = rng.randint(1, 12)
            continue
        value = _negative_binomial(rng, mu, spec.dispersion)
        if rng.random() < outlier_p:
            value = round(value * rng.uniform(1.8, 2.5))
        timestamps.append(at)
        values.append(float(value))
    return SyntheticSeries(timestamps, values, anomalies, spec.step)


def _anomaly_factor(anomalies: list[Anomaly], at: datetime) -> float:
    factor = 1.0
    for anomaly in anomalies:
        if at < anomaly.start:
            continue
        elapsed = (at - anomaly.start) / anomaly.duration
        if anomaly.kind == "shift" or (elapsed < 1 and anomaly.kind == "drop"):
            factor *= anomaly.size
        elif elapsed < 1:
            # A quick rise over the first tenth, then a decay: news and anger fade.
            rise = min(1.0, elapsed / 0.1)
            fade = 1.0 - max(0.0, elapsed - 0.1) / 0.9
            factor *= 1.0 + (anomaly.size - 1.0) * rise * fade
    return factor
