"""Watching many series at once: the brand, each topic, hashtag, rule and channel.

:class:`ListeningMonitor` is the streaming form production runs: mentions go in as they
arrive (each author counted once per series and dedup window), and ``advance(now)`` closes
every finished step, feeds each series' detectors (zero for a silent series) and returns
the alarms. It holds plain data only; the caller persists alarms and opens incidents.

A series first seen after the monitor has warmed up (a new hashtag) starts from a small
prior rate instead of learning its normal from its own first minutes, which may be the
burst itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from socialdesk.listening.counting import AuthorDedup, Mention, step_start
from socialdesk.listening.detection import (
    DEFAULT_SCALES,
    Detection,
    DetectorConfig,
    ShareConfig,
    ShareDetector,
    VolumeDetector,
)

_MONDAY = datetime(2000, 1, 3, tzinfo=UTC)


@dataclass(frozen=True)
class MonitorConfig:
    step: timedelta = timedelta(minutes=1)
    volume: DetectorConfig = field(
        default_factory=lambda: DetectorConfig(
            threshold=5.0, scales=(*DEFAULT_SCALES, timedelta(minutes=5))
        )
    )
    share: ShareConfig = field(default_factory=ShareConfig)
    dedup_window: timedelta = timedelta(hours=1)
    new_series_per_hour: float = 0.5
    """The prior rate of a series born after warm-up (distinct authors per hour)."""
    idle: timedelta = timedelta(days=3)
    """A series silent this long is forgotten (the brand's own series never is)."""
    share_keys: tuple[str, ...] = ("all", "topic:", "channel:", "rule:")
    """Key prefixes watched for an abnormal negative share (hashtags are mostly all angry)."""


@dataclass(slots=True)
class _Series:
    volume: VolumeDetector
    share: ShareDetector | None
    last_seen: datetime


class ListeningMonitor:
    def __init__(self, start: datetime, config: MonitorConfig | None = None) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self.config = config or MonitorConfig()
        self.start = start
        self._dedup = AuthorDedup(self.config.dedup_window)
        self._open = step_start(start, self.config.step, _MONDAY)
        self._origin = self._open
        self._counts: dict[str, list[int]] = {}
        self.series: dict[str, _Series] = {}
        self._since_prune = 0

    @property
    def open_step(self) -> datetime:
        """The start of the step mentions are being counted into."""
        return self._open

    def observe(self, mention: Mention) -> None:
        """Count one mention (late ones count in the open step: decisions never go back)."""
        at = max(mention.at, self._open)
        for key in mention.keys:
            if not self._dedup.admit(key, mention.author, at):
                continue
            cell = self._counts.setdefault(key, [0, 0])
            cell[0] += 1
            cell[1] += int(mention.negative)

    def advance(self, now: datetime) -> list[Detection]:
        """Close every step that ended by ``now``; the alarms they raised, oldest first."""
        step = self.config.step
        found: list[Detection] = []
        while self._open + step <= now:
            found.extend(self._close(self._open))
            self._open += step
        return found

    def _close(self, at: datetime) -> list[Detection]:
        cfg = self.config
        found = []
        counts, self._counts = self._counts, {}
        for key in counts:
            if key not in self.series:
                self.series[key] = self._new_series(key, at)
        for key, series in self.series.items():
            total, negative = counts.get(key, (0, 0))
            if total:
                series.last_seen = at
            hit = series.volume.update(at, float(total))
            if hit is not None:
                found.append(hit)
            if series.share is not None:
                hit = series.share.update(at, float(total), float(negative))
                if hit is not None:
                    found.append(hit)
        self._since_prune += 1
        if self._since_prune * cfg.step >= timedelta(hours=1):
            self._prune(at)
        return found

    def _new_series(self, key: str, at: datetime) -> _Series:
        cfg = self.config
        # Counted in whole steps from the first one: a monitor started mid-step has seen
        # that step too, so a series born right after the warm-up is armed at once.
        warmed = at - self._origin >= cfg.volume.warmup
        prior = cfg.new_series_per_hour * (cfg.step / timedelta(hours=1)) if warmed else None
        volume = VolumeDetector(cfg.step, cfg.volume, prior_rate=prior, key=key)
        share = None
        if any(key == p or (p.endswith(":") and key.startswith(p)) for p in cfg.share_keys):
            share = ShareDetector(cfg.step, cfg.share, key=key)
        # A new series' history before its first mention was silence: start it there.
        return _Series(volume, share, at)

    def _prune(self, at: datetime) -> None:
        self._since_prune = 0
        cutoff = at - self.config.idle
        self.series = {k: s for k, s in self.series.items() if k == "all" or s.last_seen >= cutoff}
        self._dedup.forget_before(at - self.config.dedup_window)
