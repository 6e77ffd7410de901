"""Reading a volume series (CSV ``timestamp,value``) and running the detector on it."""

from __future__ import annotations

import csv
import io
import itertools
import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from socialdesk.listening.detection import Detection, DetectorConfig, detect_series

JITTER = 0.1
"""How far (a share of the step) a timestamp may sit from the regular grid."""


class SeriesError(ValueError):
    """A series file that cannot be read; the message says where and why."""


@dataclass(frozen=True)
class Series:
    timestamps: list[datetime]
    values: list[float]
    step: timedelta
    missing: int
    """Steps absent from the file (gaps of whole steps; the detector restarts its windows)."""
    naive: bool
    """True when the file's timestamps had no zone (read as UTC, written back without one)."""


def cli_config() -> DetectorConfig:
    """The detector ``listening detect`` runs: production defaults, drops watched too (a
    brand's mention feed falling silent is an anomaly worth an alarm as well)."""
    return DetectorConfig(threshold=4.0, drops=True)


def _parse_time(raw: str, line: int) -> datetime:
    text = raw.strip()
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise SeriesError(f"line {line}: timestamp {raw!r} is not an ISO date and time") from None
    return at


def read_series(source: Path | str) -> Series:
    """Parse and check a series: header ``timestamp,value``, numbers, increasing regular steps."""
    if isinstance(source, Path):
        try:
            text = source.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise SeriesError(f"cannot read {source}: {exc}") from None
    else:
        text = source
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise SeriesError("the file is empty; expected a header 'timestamp,value'")
    names = [h.strip().lower() for h in header]
    missing = [c for c in ("timestamp", "value") if c not in names]
    if missing:
        raise SeriesError(
            f"missing column(s) {', '.join(missing)}; the header must name 'timestamp' and "
            f"'value' (found: {', '.join(header) or 'nothing'})"
        )
    t_col, v_col = names.index("timestamp"), names.index("value")
    timestamps: list[datetime] = []
    values: list[float] = []
    zones: set[bool] = set()
    for row in reader:
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) <= max(t_col, v_col):
            raise SeriesError(f"line {line}: expected {len(header)} columns, got {len(row)}")
        at = _parse_time(row[t_col], line)
        zones.add(at.tzinfo is None)
        raw = row[v_col].strip()
        try:
            value = float(raw)
        except ValueError:
            raise SeriesError(f"line {line}: value {raw!r} is not a number") from None
        if not math.isfinite(value) or value < 0:
            raise SeriesError(f"line {line}: value {raw!r} must be a finite count (>= 0)")
        timestamps.append(at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC))
        values.append(value)
    if len(zones) > 1:
        raise SeriesError("timestamps mix times with and without a time zone")
    if len(timestamps) < 3:
        raise SeriesError(f"a series needs at least 3 points, found {len(timestamps)}")
    step, gaps = _regular_step(timestamps)
    return Series(timestamps, values, step, gaps, naive=zones == {True})


def _regular_step(timestamps: list[datetime]) -> tuple[timedelta, int]:
    """The series' step (the most common difference) and how many steps the gaps skip."""
    diffs = [b - a for a, b in itertools.pairwise(timestamps)]
    for i, diff in enumerate(diffs):
        if diff <= timedelta(0):
            raise SeriesError(
                f"timestamps must increase: {timestamps[i + 1].isoformat()} follows "
                f"{timestamps[i].isoformat()}"
            )
    step, seen = Counter(diffs).most_common(1)[0]
    if seen * 2 < len(diffs):
        # No difference dominates (a jittering clock): the median, on a whole minute or second.
        middle = sorted(diffs)[len(diffs) // 2]
        unit = timedelta(minutes=1) if middle >= timedelta(minutes=1) else timedelta(seconds=1)
        step = max(unit, unit * round(middle / unit))
    gaps = 0
    for i, diff in enumerate(diffs):
        # A logger's clock jitters: a step within a tenth of a whole number of steps counts.
        steps = round(diff / step)
        if steps < 1 or abs(diff - step * steps) > step * JITTER:
            raise SeriesError(
                f"irregular steps: {timestamps[i].isoformat()} to {timestamps[i + 1].isoformat()} "
                f"is {diff}, not a whole number of the series' step {step}"
            )
        gaps += steps - 1
    return step, gaps


def detect_file(series: Series, config: DetectorConfig | None = None) -> list[Detection]:
    return detect_series(series.timestamps, series.values, series.step, config or cli_config())


def format_time(at: datetime, naive: bool) -> str:
    """A detection's time as the file wrote its timestamps (zone or not)."""
    if naive:
        return at.replace(tzinfo=None).isoformat(sep=" ")
    return at.isoformat()
