"""The dashboard's date range, read from the query string (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from socialdesk.core.errors import InvalidInput

PRESETS = {
    "24h": ("last 24 hours", timedelta(hours=24)),
    "7d": ("last 7 days", timedelta(days=7)),
    "30d": ("last 30 days", timedelta(days=30)),
}
LONGEST = timedelta(days=31)


@dataclass(frozen=True, slots=True)
class DateRange:
    key: str  # a preset's name, or the first day as YYYY-MM-DD
    label: str
    window: timedelta  # the range ends now

    @property
    def query(self) -> str:
        return f"from={self.key}" if self.key not in PRESETS else f"range={self.key}"


def parse_range(params: Mapping[str, str], now: datetime) -> DateRange:
    """``range`` is a preset (24h, 7d, 30d); ``from`` a first day (UTC), the range then runs
    from its midnight until now, at most 31 days."""
    first = (params.get("from") or "").strip()
    if first:
        try:
            day = date.fromisoformat(first)
        except ValueError:
            raise InvalidInput(f"from must be a date such as 2026-11-30 (got {first!r})") from None
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        if start > now:
            raise InvalidInput("from is in the future")
        if now - start > LONGEST:
            raise InvalidInput("the range is at most 31 days")
        return DateRange(day.isoformat(), f"since {day:%d %b %Y}", now - start)
    key = (params.get("range") or "24h").strip()
    if key not in PRESETS:
        raise InvalidInput(f"range must be one of {', '.join(PRESETS)} (got {key!r})")
    label, window = PRESETS[key]
    return DateRange(key, label, window)
