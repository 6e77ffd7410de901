"""Scoring detections against labelled anomaly windows, the way the Numenta Anomaly
Benchmark (NAB; Lavin and Ahmad, 2015) does it.

- Each labelled anomaly gets a window of ``window_share`` of the series' length divided by
  the number of anomalies, centred on the label.
- Detections in the first ``probation`` share of the series are ignored (learning time).
- The first detection inside a window is a true positive worth
  ``a_tp * sigmoid(position)``: about 0.99 at the window's start, 0.85 at its centre and 0
  at its end, so early detection is rewarded. Further detections in the window count for
  nothing.
- A detection outside every window is a false positive costing ``a_fp`` (less right after
  a window, where the sigmoid is still near zero).
- A window without a detection costs ``a_fn``.
- The score is normalised: 0 for a detector that never fires, 100 for a perfect one.

The standard profile is ``a_tp=1, a_fp=0.11, a_fn=1``; "reward low false positives" uses
``a_fp=0.22``. This is our own implementation from the published description.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Profile:
    a_tp: float = 1.0
    a_fp: float = 0.11
    a_fn: float = 1.0


STANDARD = Profile()
LOW_FP = Profile(a_fp=0.22)
LOW_FN = Profile(a_fn=2.0)


def scaled_sigmoid(y: float) -> float:
    """NAB's weighting: 1 far before a window's end, 0 at it, -1 long after."""
    if y > 10:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


@dataclass(frozen=True)
class SeriesScore:
    raw: float
    null: float
    perfect: float
    true_positives: int
    false_positives: int
    missed: int
    delays_steps: tuple[int, ...]
    """Steps from each label to its first detection (negative: before the label)."""


def windows_for(
    timestamps: Sequence[datetime], labels: Sequence[datetime], window_share: float = 0.1
) -> list[tuple[int, int]]:
    """Index ranges [start, end] of the windows around each label."""
    n = len(timestamps)
    if not labels:
        return []
    width = int(window_share * n / len(labels))
    windows = []
    for label in labels:
        centre = _index_at(timestamps, label)
        windows.append((max(0, centre - width // 2), min(n - 1, centre + width // 2)))
    return windows


def _index_at(timestamps: Sequence[datetime], at: datetime) -> int:
    low, high = 0, len(timestamps)
    while low < high:
        mid = (low + high) // 2
        if timestamps[mid] < at:
            low = mid + 1
        else:
            high = mid
    return min(low, len(timestamps) - 1)


def score_series(
    timestamps: Sequence[datetime],
    labels: Sequence[datetime],
    detections: Sequence[datetime],
    profile: Profile = STANDARD,
    *,
    probation: float = 0.15,
    window_share: float = 0.1,
) -> SeriesScore:
    windows = windows_for(timestamps, labels, window_share)
    label_index = [_index_at(timestamps, label) for label in labels]
    n = len(timestamps)
    first_allowed = int(probation * n)
    hits: dict[int, int] = {}
    raw = 0.0
    false_positives = 0
    for at in sorted(detections):
        i = _index_at(timestamps, at)
        if i < first_allowed:
            continue
        inside = next((w for w, (a, b) in enumerate(windows) if a <= i <= b), None)
        if inside is not None:
            if inside not in hits:
                hits[inside] = i
                a, b = windows[inside]
                y = (i - b) / max(1, b - a + 1)
                raw += profile.a_tp * scaled_sigmoid(y)
            continue
        false_positives += 1
        before = [(a, b) for a, b in windows if b < i]
        if before:
            a, b = before[-1]
            raw += profile.a_fp * scaled_sigmoid((i - b) / max(1, b - a + 1))
        else:
            raw -= profile.a_fp
    missed = len(windows) - len(hits)
    raw -= profile.a_fn * missed
    null = -profile.a_fn * len(windows)
    perfect = profile.a_tp * len(windows) * scaled_sigmoid(-1.0)
    delays = tuple(hits[w] - label_index[w] for w in sorted(hits))
    return SeriesScore(raw, null, perfect, len(hits), false_positives, missed, delays)


def normalised(scores: Sequence[SeriesScore]) -> float:
    """The corpus score: 100 * (raw - null) / (perfect - null), summed over series."""
    raw = sum(s.raw for s in scores)
    null = sum(s.null for s in scores)
    perfect = sum(s.perfect for s in scores)
    if perfect == null:
        return 0.0
    return 100.0 * (raw - null) / (perfect - null)
