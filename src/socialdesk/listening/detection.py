"""Spike detection on count series: abnormal volume and abnormal negative share.

The method is a prospective multi-scale scan test against a seasonal baseline:

1. A robust seasonal baseline (:mod:`socialdesk.listening.baseline`) gives the expected
   count of every step from the time of day and day of week, learned online.
2. At each step, for every scan window (by default the last step, 15 minutes, an hour and
   three hours) the observed total is compared with the expected total by a negative
   binomial (quasi-Poisson) upper-tail test. The short windows catch a sudden burst at its
   first step; the long windows catch a sustained shift too small to stand out in any
   single step (the job CUSUM or EWMA charts do, with a readable threshold).
3. An alarm needs the z-score of some window to reach ``threshold`` *and* a real effect:
   at least ``min_count`` messages and ``min_ratio`` times the expectation (a tiny series
   is never alarming just because its expectation is tiny).
4. After an alarm the detector is silent for ``refractory``: one alarm per episode. If the
   series is still off its baseline over the second half of that silence, the change is
   taken as the new normal (the level is rescaled by the observed ratio) instead of
   raising the same alarm again when the silence ends.

Everything is causal: the decision at a step reads only the steps up to it, and the state
is updated point by point, so the streaming form (:class:`VolumeDetector`) and the batch
form (:func:`detect_series`) are the same code and a prefix gets the same detections.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from socialdesk.listening.baseline import (
    BaselineConfig,
    SeasonalBaseline,
    half_life_alpha,
    lower_tail_z,
    upper_tail_z,
)
from socialdesk.listening.windows import ScanWindows

DEFAULT_SCALES = (
    timedelta(0),  # the current step alone, whatever the step
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
)


@dataclass(frozen=True)
class DetectorConfig:
    """The knobs of volume detection. ``threshold`` is the sensitivity: a one-sided z-score
    (4.5 is about one chance in 300,000 per window under the baseline's noise model)."""

    threshold: float = 4.5
    scales: tuple[timedelta, ...] = DEFAULT_SCALES
    min_count: float = 5.0
    min_ratio: float = 1.5
    refractory: timedelta = timedelta(hours=6)
    warmup: timedelta = timedelta(days=1)
    """No alarm before the baseline has seen this much history (unless a prior is given)."""
    level_noise: float = 0.1
    """Relative uncertainty of the expected level, added to long windows' variance."""
    drops: bool = False
    """Also alarm on a sustained drop (a feed going silent), on windows of an hour or more."""
    drop_threshold: float = 6.0
    accept_ratio: float = 1.3
    """After an alarm, a level still this far off (either way) is accepted as the new normal."""
    baseline: BaselineConfig = field(default_factory=BaselineConfig)

    def __post_init__(self) -> None:
        if self.threshold <= 0 or self.min_ratio < 1 or self.min_count < 0:
            raise ValueError("threshold must be positive, min_ratio >= 1, min_count >= 0")
        if not self.scales:
            raise ValueError("at least one scan window is needed")


@dataclass(frozen=True, slots=True)
class Detection:
    """One alarm: when, which kind, and the evidence behind it."""

    at: datetime
    """The start of the step whose data raised it."""
    kind: str
    """``volume`` (a spike), ``drop`` (volume fell away) or ``negative_share``."""
    window: timedelta
    """The scan window that fired (its observed and expected totals below)."""
    observed: float
    expected: float
    z: float
    key: str = ""

    @property
    def ratio(self) -> float:
        return self.observed / self.expected if self.expected > 0 else math.inf


class VolumeDetector:
    """The streaming detector of one count series: feed it one step at a time."""

    def __init__(
        self,
        step: timedelta,
        config: DetectorConfig | None = None,
        *,
        prior_rate: float | None = None,
        key: str = "",
    ) -> None:
        """``prior_rate`` (expected count per step) arms the detector at once, for a series
        born during a burst (a new hashtag) whose first points must not become its normal."""
        self.config = config or DetectorConfig()
        self.step = step
        self.key = key
        self.baseline = SeasonalBaseline(self.config.baseline, step, prior_rate)
        self._spans = sorted({max(1, round(s / step)) if s else 1 for s in self.config.scales})
        self._windows = ScanWindows(self._spans)
        self._first: datetime | None = None if prior_rate is None else datetime.min
        self._last: datetime | None = None
        self._quiet_until: datetime | None = None
        self._drop_quiet_until: datetime | None = None
        # Observed and expected totals over the second half of the silence after an alarm.
        self._after: list[float] = [0.0, 0.0]
        self._alarm_at: datetime | None = None

    @property
    def last(self) -> datetime | None:
        return self._last

    def update(self, at: datetime, value: float) -> Detection | None:
        """Take the count of the step starting at ``at``; return an alarm if it raises one.

        Steps must come in order. A step skipped (missing data) is not taken as zero: the
        scan windows simply restart after the gap.
        """
        if self._last is not None:
            if at <= self._last:
                raise ValueError(f"steps must increase: {at.isoformat()} after {self._last}")
            if at - self._last > self.step * 1.5:
                self._windows.clear()
        if self._first is None:
            self._first = at
        self._last = at
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"a count must be a finite non-negative number, got {value!r}")
        mu = self.baseline.expected(at)
        self._windows.push(value, mu)
        detection = self._judge(at) if self._armed(at) else None
        self._watch_after_alarm(at, value, mu, detection)
        self.baseline.learn(at, value, mu)
        return detection

    def _watch_after_alarm(
        self, at: datetime, value: float, mu: float, detection: Detection | None
    ) -> None:
        if detection is not None:
            self._alarm_at = at
            self._after = [0.0, 0.0]
            return
        if self._alarm_at is None:
            return
        refractory = self.config.refractory
        since = at - self._alarm_at
        if since >= refractory / 2:
            self._after[0] += value
            self._after[1] += mu
        if since + self.step >= refractory:
            observed, expected = self._after
            self._alarm_at = None
            if expected > 0 and observed > 0:
                ratio = observed / expected
                limit = self.config.accept_ratio
                if ratio >= limit or ratio <= 1 / limit:
                    self.baseline.level *= ratio
                    # The open scan windows were judged by the old level: re-read them.
                    self._windows.scale_m(ratio)

    def _armed(self, at: datetime) -> bool:
        first = self._first
        if first is None:
            return False
        return first == datetime.min or at - first >= self.config.warmup

    def _judge(self, at: datetime) -> Detection | None:
        cfg = self.config
        up = None if self._quiet_until is not None and at < self._quiet_until else self._scan(at)
        if up is not None:
            self._quiet_until = at + cfg.refractory
            return up
        if cfg.drops and (self._drop_quiet_until is None or at >= self._drop_quiet_until):
            down = self._scan_drop(at)
            if down is not None:
                self._drop_quiet_until = at + cfg.refractory
                return down
        return None

    def _window_dispersion(self, expected: float, expected_sq: float) -> float:
        """Variance over mean of a window total: Poisson, extra noise, level uncertainty."""
        if expected <= 0:
            return 1.0
        r2 = self.baseline.r2
        noise = self.config.level_noise
        variance = expected + r2 * expected_sq + (noise * expected) ** 2
        return max(1.0, variance / expected)

    def _scan(self, at: datetime) -> Detection | None:
        cfg = self.config
        best: Detection | None = None
        for span, observed, expected, expected_sq in self._windows.windows():
            if observed < cfg.min_count or observed < cfg.min_ratio * expected:
                continue
            d = self._window_dispersion(expected, expected_sq)
            z = upper_tail_z(observed / d, expected / d)
            if z >= cfg.threshold and (best is None or z > best.z):
                best = Detection(at, "volume", self.step * span, observed, expected, z, self.key)
        return best

    def _scan_drop(self, at: datetime) -> Detection | None:
        cfg = self.config
        hour = max(1, round(timedelta(hours=1) / self.step))
        for span, observed, expected, expected_sq in self._windows.windows():
            if span < hour:
                continue
            if expected < max(cfg.min_count, 1.0) * 2 or observed * cfg.min_ratio > expected:
                continue
            d = self._window_dispersion(expected, expected_sq)
            z = lower_tail_z(observed / d, expected / d)
            if z >= cfg.drop_threshold:
                return Detection(at, "drop", self.step * span, observed, expected, z, self.key)
        return None


def detect_series(
    timestamps: Sequence[datetime],
    values: Sequence[float],
    step: timedelta,
    config: DetectorConfig | None = None,
) -> list[Detection]:
    """The alarms of the streaming detector over a whole series (the same code, in a loop)."""
    if len(timestamps) != len(values):
        raise ValueError("timestamps and values differ in length")
    detector = VolumeDetector(step, config)
    found = []
    for at, value in zip(timestamps, values, strict=True):
        detection = detector.update(at, value)
        if detection is not None:
            found.append(detection)
    return found


@dataclass(frozen=True)
class ShareConfig:
    """The knobs of negative-share detection (a binomial test against the usual share)."""

    threshold: float = 4.5
    scales: tuple[timedelta, ...] = (timedelta(minutes=15), timedelta(hours=1))
    min_count: float = 5.0
    """Fewest negative messages in the window."""
    min_lift: float = 0.2
    """The share must exceed the usual share by at least this much (0.2 = 20 points)."""
    half_life: timedelta = timedelta(days=3)
    prior_share: float = 0.25
    warmup_messages: float = 200.0
    """No alarm before the series has seen this many messages (its usual share is unknown)."""
    refractory: timedelta = timedelta(hours=6)
    overdispersion: float = 0.02
    """Extra variance of the share between windows (beta-binomial intra-class correlation)."""


class ShareDetector:
    """Streaming detector of an abnormal negative share in one series."""

    def __init__(self, step: timedelta, config: ShareConfig | None = None, *, key: str = ""):
        self.config = config or ShareConfig()
        self.step = step
        self.key = key
        self._spans = sorted({max(1, round(s / step)) for s in self.config.scales})
        self._windows = ScanWindows(self._spans)  # x = negative messages, m = all
        self._alpha = half_life_alpha(self.config.half_life / step)
        # Weighted sums of negatives and totals: the usual share is their ratio (a prior
        # worth a few messages until real ones come).
        self._sum_negative = self.config.prior_share * 5
        self._sum_total = 5.0
        self._seen = 0.0
        self._quiet_until: datetime | None = None
        self._last: datetime | None = None

    @property
    def usual_share(self) -> float:
        return self._sum_negative / self._sum_total if self._sum_total > 0 else 0.0

    def update(self, at: datetime, total: float, negative: float) -> Detection | None:
        if negative > total or negative < 0:
            raise ValueError("negative messages must be between 0 and the total")
        if self._last is not None and at - self._last > self.step * 1.5:
            self._windows.clear()
        self._last = at
        self._windows.push(negative, total)
        p = min(max(self.usual_share, 0.01), 0.99)
        found = None
        quiet = self._quiet_until is not None and at < self._quiet_until
        if not quiet and self._seen >= self.config.warmup_messages:
            found = self._scan(at, p)
            if found is not None:
                self._quiet_until = at + self.config.refractory
                quiet = True
        # Learn from the step, except while an alarm stands: a burst of anger must not
        # become the new normal within the hour.
        if not quiet:
            decay = 1 - self._alpha
            self._sum_negative = self._sum_negative * decay + negative
            self._sum_total = self._sum_total * decay + total
            self._seen += total
        return found

    def _scan(self, at: datetime, p: float) -> Detection | None:
        cfg = self.config
        best = None
        for span, negative, total, _ in self._windows.windows():
            if negative < cfg.min_count or total <= 0 or negative / total < p + cfg.min_lift:
                continue
            variance = total * p * (1 - p) * (1 + cfg.overdispersion * (total - 1))
            z = (negative - 0.5 - total * p) / math.sqrt(variance)
            if z >= cfg.threshold and (best is None or z > best.z):
                best = Detection(
                    at, "negative_share", self.step * span, negative, total * p, z, self.key
                )
        return best


def first_detections(detections: Iterable[Detection]) -> list[datetime]:
    """The times of the alarms, in order (the shape ``listening detect`` writes)."""
    return sorted(d.at for d in detections)
