"""When to try a failed delivery again: pure, so tests and the simulator agree."""

from __future__ import annotations

from datetime import datetime, timedelta

BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
MAX_ATTEMPTS = 8


def next_attempt(now: datetime, attempts: int, retry_at: datetime | None = None) -> datetime:
    """Exponential backoff after ``attempts`` tries; a platform's reset time wins if later."""
    delay = min(BASE_DELAY * (1 << max(attempts - 1, 0)), MAX_DELAY)
    planned = now + delay
    if retry_at is not None and retry_at > planned:
        return retry_at
    return planned
