"""A seasonal baseline for count series, and the count tail tests the detectors use.

The expected count of a step is ``level * daily(time of day) * weekly(day of week)``: a
multiplicative Holt-Winters-style decomposition whose three parts are exponentially weighted
averages updated one point at a time. The updates are robust (Huber-type): a point far from
its expectation is clipped to ``expectation +- clip * sd`` before it enters the averages, so
a spike barely moves the baseline it is judged against, while a lasting level shift is
absorbed within about a level half-life.

The variance is that of a negative binomial, ``mu + r2 * mu**2``: Poisson noise plus a
relative extra noise ``r2`` estimated from the residuals (a ratio of weighted moments, which
stays stable on sparse series where single residuals are all noise).

Tail probabilities use the Wilson-Hilferty cube-root approximation of the Poisson tail
(P(X >= x) for X ~ Poisson(m) equals P(chi2 with 2x degrees of freedom <= 2m)), applied to
counts divided by the dispersion index (a quasi-Poisson test). It is accurate to a few
hundredths of a standard deviation from x = 1 up, and costs a handful of float operations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_DAY = 86_400.0
_WEEK = 7 * _DAY


def half_life_alpha(half_life_points: float) -> float:
    """The EWMA weight that halves an old point's influence after ``half_life_points``."""
    if half_life_points <= 0:
        return 1.0
    return 1.0 - math.pow(0.5, 1.0 / half_life_points)


def upper_tail_z(observed: float, expected: float) -> float:
    """How surprising at least ``observed`` counts are when ``expected`` were due, as a z-score
    (Wilson-Hilferty approximation of the Poisson upper tail). Non-positive when not above."""
    if observed <= expected or observed <= 0:
        return 0.0
    if expected <= 0:
        return math.inf
    return (
        3.0
        * math.sqrt(observed)
        * (1.0 - 1.0 / (9.0 * observed) - math.pow(expected / observed, 1 / 3))
    )


def lower_tail_z(observed: float, expected: float) -> float:
    """How surprising at most ``observed`` counts are when ``expected`` were due (z-score of
    the Poisson lower tail, Wilson-Hilferty). Non-positive when not below."""
    if observed >= expected or expected <= 0:
        return 0.0
    shape = observed + 1.0
    return 3.0 * math.sqrt(shape) * (math.pow(expected / shape, 1 / 3) - 1.0 + 1.0 / (9.0 * shape))


@dataclass(frozen=True)
class BaselineConfig:
    """How fast each part of the baseline learns; every knob has a sensible default."""

    level_half_life: timedelta = timedelta(days=3)
    daily_half_life_days: float = 5.0
    """Each time-of-day bin forgets its old shape over this many days of its own points."""
    weekly_half_life_days: float = 14.0
    daily_bins: int = 24
    weekly: bool = True
    clip: float = 3.0
    """Points beyond expectation +- clip standard deviations are clipped before learning."""
    noise_half_life: timedelta = timedelta(days=2)
    floor_rate: float = 0.0
    """The lowest expected count per step: a silent series still expects a little."""

    def __post_init__(self) -> None:
        if self.daily_bins < 1 or self.clip <= 0:
            raise ValueError("daily_bins must be at least 1 and clip positive")


class SeasonalBaseline:
    """Expected count per step by time of day and day of week; updated point by point."""

    __slots__ = (
        "_a_level",
        "_a_noise",
        "_bin_seconds",
        "_daily_points",
        "_daily_seen",
        "_noise_first",
        "_step",
        "_weekly_seen",
        "config",
        "daily",
        "level",
        "m_mu",
        "m_mu2",
        "m_sq",
        "points",
        "weekly",
    )

    def __init__(self, config: BaselineConfig, step: timedelta, prior_rate: float | None) -> None:
        self.config = config
        step_s = step.total_seconds()
        if step_s <= 0:
            raise ValueError("the step must be positive")
        self._step = step_s
        self._bin_seconds = _DAY / config.daily_bins
        self._a_level = half_life_alpha(config.level_half_life.total_seconds() / step_s)
        self._a_noise = half_life_alpha(config.noise_half_life.total_seconds() / step_s)
        # Points one daily bin receives per day (at least one).
        self._daily_points = max(1.0, self._bin_seconds / step_s)
        self.level = prior_rate if prior_rate is not None else 0.0
        self.points = 0 if prior_rate is None else 1_000_000  # a prior counts as long history
        self.daily = [1.0] * config.daily_bins
        self.weekly = [1.0] * 7
        self._daily_seen = [0] * config.daily_bins
        self._weekly_seen = [0] * 7
        # Weighted moments of the residuals for the extra-Poisson noise r2.
        self.m_sq = 0.0
        self.m_mu = 0.0
        self.m_mu2 = 0.0
        self._noise_first = True

    # --- reading --------------------------------------------------------------------------

    def _position(self, at: datetime) -> tuple[int, int, float, int]:
        """The two daily bins ``at`` lies between, the weight of the second, and the weekday."""
        utc = at.astimezone(UTC)
        seconds = utc.hour * 3600 + utc.minute * 60 + utc.second + utc.microsecond / 1e6
        # Bin centres sit mid-bin; interpolate between the two centres around ``at`` so a
        # steep morning climb is not a staircase.
        place = seconds / self._bin_seconds - 0.5
        low = math.floor(place)
        frac = place - low
        bins = self.config.daily_bins
        return low % bins, (low + 1) % bins, frac, utc.weekday()

    def seasonal(self, at: datetime) -> float:
        low, high, frac, weekday = self._position(at)
        shape = self.daily[low] * (1.0 - frac) + self.daily[high] * frac
        week = self.weekly[weekday] if self.config.weekly else 1.0
        return max(shape * week, 1e-6)

    def expected(self, at: datetime) -> float:
        return max(self.level * self.seasonal(at), self.config.floor_rate)

    @property
    def r2(self) -> float:
        """Relative extra-Poisson variance: var = mu + r2 * mu**2."""
        if self.m_mu2 <= 0:
            return 0.0
        return max(0.0, (self.m_sq - self.m_mu) / self.m_mu2)

    def variance(self, mu: float) -> float:
        return mu + self.r2 * mu * mu

    # --- learning -------------------------------------------------------------------------

    def learn(self, at: datetime, value: float, expected: float) -> None:
        """Take one observed point into the baseline (``expected`` as read before it)."""
        cfg = self.config
        self.points += 1
        if self.points > 1 and expected > 0:
            sd = math.sqrt(self.variance(expected))
            limit = cfg.clip * max(sd, 1.0)
            value = min(max(value, expected - limit), expected + limit)
            self._learn_noise(value, expected)
        low, high, frac, weekday = self._position(at)
        shape = max(self.daily[low] * (1.0 - frac) + self.daily[high] * frac, 1e-6)
        week = self.weekly[weekday] if cfg.weekly else 1.0
        week = max(week, 1e-6)
        # A young series averages everything it has seen; an old one forgets at its half-life.
        a_level = (
            max(self._a_level, 1.0 / self.points) if self.points < 1_000_000 else self._a_level
        )
        self.level += a_level * (value / (shape * week) - self.level)
        if self.level <= 0:
            return
        ratio = value / (self.level * week)
        for index, weight in ((low, 1.0 - frac), (high, frac)):
            if weight <= 0:
                continue
            self._daily_seen[index] += 1
            alpha = half_life_alpha(cfg.daily_half_life_days * self._daily_points)
            alpha = max(alpha, 1.0 / (1 + self._daily_seen[index]))
            self.daily[index] += weight * alpha * (ratio - self.daily[index])
        if cfg.weekly:
            self._weekly_seen[weekday] += 1
            per_day = _DAY / self._step
            alpha = half_life_alpha(cfg.weekly_half_life_days * per_day)
            # Weekday factors start only after a full day of that weekday has been seen:
            # before that the level has not separated from the shape.
            if self._weekly_seen[weekday] > per_day:
                ratio = value / (self.level * shape)
                self.weekly[weekday] += alpha * (ratio - self.weekly[weekday])
        if self.points % max(1, int(_DAY / self._step)) == 0:
            self._normalise()

    def _learn_noise(self, value: float, expected: float) -> None:
        a = self._a_noise
        sq = (value - expected) ** 2
        if self._noise_first:
            self.m_sq, self.m_mu, self.m_mu2 = sq, expected, expected * expected
            self._noise_first = False
            return
        self.m_sq += a * (sq - self.m_sq)
        self.m_mu += a * (expected - self.m_mu)
        self.m_mu2 += a * (expected * expected - self.m_mu2)

    def _normalise(self) -> None:
        """Keep the daily and weekly factors averaging 1, moving their scale into the level."""
        mean = sum(self.daily) / len(self.daily)
        if mean > 0:
            self.daily = [d / mean for d in self.daily]
            self.level *= mean
        if self.config.weekly:
            wmean = sum(self.weekly) / 7
            if wmean > 0:
                self.weekly = [w / wmean for w in self.weekly]
                self.level *= wmean
