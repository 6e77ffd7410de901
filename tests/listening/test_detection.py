"""Spike detection: causal, seasonal, early on a real burst, quiet otherwise."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from socialdesk.listening.baseline import lower_tail_z, upper_tail_z
from socialdesk.listening.detection import (
    DetectorConfig,
    ShareDetector,
    VolumeDetector,
    detect_series,
)
from socialdesk.listening.synthetic import SeriesSpec, generate_series, poisson

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def seasonal_rate(at: datetime, per_step: float) -> float:
    """A daily cycle (night at a fifth of the afternoon) and quieter weekends."""
    hour = at.hour + at.minute / 60
    day = 1.0 + 0.8 * math.sin(2 * math.pi * (hour - 9) / 24)
    return per_step * day * (0.6 if at.weekday() >= 5 else 1.0)


def seasonal_series(
    days: int, step: timedelta, per_step: float, seed: int
) -> tuple[list[datetime], list[float]]:
    rng = random.Random(seed)
    times = [MONDAY + step * i for i in range(int(timedelta(days=days) / step))]
    return times, [float(poisson(rng, seasonal_rate(t, per_step))) for t in times]


def test_the_wilson_hilferty_tails_match_the_exact_poisson_tail() -> None:
    # P(X >= 10 | Poisson(1)) = 1.114e-7, a z of 5.18; P(X <= 0 | Poisson(10)) = 4.5e-5, z 3.91.
    assert upper_tail_z(10, 1) == pytest.approx(5.18, abs=0.25)
    assert lower_tail_z(0, 10) == pytest.approx(3.91, abs=0.25)
    assert upper_tail_z(3, 5) == 0.0
    assert lower_tail_z(7, 5) == 0.0


def test_daily_and_weekly_seasonality_is_not_flagged() -> None:
    times, values = seasonal_series(21, timedelta(minutes=5), 20.0, seed=1)
    assert detect_series(times, values, timedelta(minutes=5)) == []


def test_sparse_seasonal_counts_at_one_minute_steps_are_not_flagged() -> None:
    times, values = seasonal_series(14, MINUTE, 0.5, seed=2)
    assert detect_series(times, values, MINUTE) == []


def test_a_tenfold_burst_is_caught_within_five_minutes() -> None:
    times, values = seasonal_series(9, MINUTE, 1.0, seed=3)
    onset = MONDAY + timedelta(days=8, hours=14, minutes=7)
    rng = random.Random(4)
    burst = [
        float(poisson(rng, 10 * seasonal_rate(t, 1.0)))
        if onset <= t < onset + timedelta(hours=1)
        else v
        for t, v in zip(times, values, strict=True)
    ]
    found = detect_series(times, burst, MINUTE)
    assert len(found) == 1, found
    assert onset <= found[0].at < onset + timedelta(minutes=5)
    assert found[0].kind == "volume" and found[0].ratio > 3


def test_running_on_a_prefix_gives_the_same_detections_on_that_prefix() -> None:
    series = generate_series(SeriesSpec(days=21, anomalies=4), seed=11)
    full = detect_series(series.timestamps, series.values, series.step)
    assert full, "the series has anomalies to find"
    for cut in (len(series.values) // 3, len(series.values) // 2, len(series.values) - 7):
        prefix = detect_series(series.timestamps[:cut], series.values[:cut], series.step)
        assert prefix == [d for d in full if d.at <= series.timestamps[cut - 1]]


def test_a_lasting_shift_raises_one_alarm_then_becomes_the_normal() -> None:
    times, values = seasonal_series(11, timedelta(minutes=5), 20.0, seed=5)
    onset = MONDAY + timedelta(days=8, hours=10)
    shifted = [v * 2.5 if t >= onset else v for t, v in zip(times, values, strict=True)]
    found = detect_series(times, shifted, timedelta(minutes=5))
    assert len(found) == 1
    assert onset <= found[0].at < onset + timedelta(minutes=30)


def test_a_feed_falling_silent_is_a_drop_when_drops_are_watched() -> None:
    times, values = seasonal_series(8, timedelta(minutes=5), 20.0, seed=6)
    onset = MONDAY + timedelta(days=7, hours=11)
    silent = [
        0.0 if onset <= t < onset + timedelta(hours=4) else v
        for t, v in zip(times, values, strict=True)
    ]
    assert detect_series(times, silent, timedelta(minutes=5)) == []
    found = detect_series(times, silent, timedelta(minutes=5), DetectorConfig(drops=True))
    assert [d.kind for d in found] == ["drop"]
    assert onset <= found[0].at <= onset + timedelta(hours=1)


def test_nothing_is_raised_during_warm_up_unless_a_prior_rate_is_given() -> None:
    detector = VolumeDetector(MINUTE)
    primed = VolumeDetector(MINUTE, prior_rate=0.01)
    hits = [detector.update(MONDAY + MINUTE * i, 30.0) for i in range(10)]
    primed_hits = [primed.update(MONDAY + MINUTE * i, 30.0) for i in range(10)]
    assert hits == [None] * 10
    assert next(h for h in primed_hits if h is not None).at == MONDAY


def test_steps_must_increase_and_counts_be_valid() -> None:
    detector = VolumeDetector(MINUTE)
    detector.update(MONDAY, 1.0)
    with pytest.raises(ValueError, match="increase"):
        detector.update(MONDAY, 1.0)
    with pytest.raises(ValueError, match="non-negative"):
        detector.update(MONDAY + MINUTE, -1.0)


def test_an_abnormal_negative_share_is_flagged_but_the_usual_share_is_not() -> None:
    detector = ShareDetector(MINUTE)
    rng = random.Random(8)
    at = MONDAY
    alarms = []
    for _ in range(3 * 24 * 60):  # three days at a quarter negative
        total = poisson(rng, 3.0)
        negative = sum(rng.random() < 0.25 for _ in range(total))
        alarms.append(detector.update(at, total, negative))
        at += MINUTE
    assert [a for a in alarms if a is not None] == []
    found = None
    for minute in range(30):  # an angry half hour: four in five negative
        total = poisson(rng, 6.0)
        negative = sum(rng.random() < 0.8 for _ in range(total))
        found = found or detector.update(at + MINUTE * minute, total, negative)
    assert found is not None and found.kind == "negative_share"
    assert found.at < at + timedelta(minutes=15)
