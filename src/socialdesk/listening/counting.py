"""From messages to per-step counts, counting each author once.

A bot posting the same complaint two hundred times, or one angry customer sending a flood
of identical posts, is one voice: within ``dedup_window`` an author counts at most once per
series. Distinct authors are what a spike of public anger is made of.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

ALL = "all"
"""The series key of the whole brand's volume."""


@dataclass(frozen=True, slots=True)
class Mention:
    """One message as listening sees it: plain data, built by the caller from whatever it
    stores (a message row, a generated event)."""

    at: datetime
    author: str
    keys: tuple[str, ...]
    """The series it counts in, e.g. ``("all", "topic:outage", "hashtag:#acmedown")``."""
    negative: bool = False
    text: str = ""


@dataclass(frozen=True, slots=True)
class StepCount:
    total: int = 0
    negative: int = 0


_HASHTAG = re.compile(r"(?<![\w#])#(\w{2,60})", re.UNICODE)


def hashtags(text: str) -> tuple[str, ...]:
    """Distinct hashtags of a text, lower-cased, in order of appearance."""
    seen: dict[str, None] = {}
    for match in _HASHTAG.finditer(text):
        seen.setdefault("#" + match.group(1).lower(), None)
    return tuple(seen)


def series_keys(
    *,
    topic: str | None = None,
    channel: str | None = None,
    text: str = "",
    rules: Iterable[str] = (),
) -> tuple[str, ...]:
    """The usual keys a message counts under: the brand, its topic, channel, hashtags, rules."""
    keys = [ALL]
    if topic:
        keys.append(f"topic:{topic}")
    if channel:
        keys.append(f"channel:{channel}")
    keys.extend(f"hashtag:{tag}" for tag in hashtags(text))
    keys.extend(f"rule:{rule}" for rule in rules)
    return tuple(keys)


class AuthorDedup:
    """Admits a mention to a series only if its author has not counted there lately."""

    def __init__(self, window: timedelta = timedelta(hours=1)) -> None:
        self.window = window
        self._last: dict[tuple[str, str], datetime] = {}

    def admit(self, key: str, author: str, at: datetime) -> bool:
        """True when this author counts in this series now (and remember that it did)."""
        seen = self._last.get((key, author))
        if seen is not None and at - seen < self.window:
            return False
        self._last[(key, author)] = at
        return True

    def forget_before(self, cutoff: datetime) -> None:
        """Drop what is older than the window (keeps memory bounded on an endless stream)."""
        self._last = {k: t for k, t in self._last.items() if t >= cutoff}


def step_start(at: datetime, step: timedelta, origin: datetime) -> datetime:
    """The start of the step ``at`` falls in, steps counted from ``origin``."""
    return origin + step * ((at - origin) // step)


def bucket_counts(
    mentions: Iterable[Mention],
    step: timedelta,
    *,
    origin: datetime | None = None,
    dedup_window: timedelta = timedelta(hours=1),
) -> dict[str, dict[datetime, StepCount]]:
    """Per series key, the deduplicated count (and negative count) of every step.

    Mentions must come in time order. Steps with nothing are absent (the caller fills
    zeros over the range it watches).
    """
    base = origin or datetime(2000, 1, 3, tzinfo=UTC)  # a Monday midnight
    dedup = AuthorDedup(dedup_window)
    totals: dict[str, dict[datetime, list[int]]] = defaultdict(dict)
    for mention in mentions:
        start = step_start(mention.at, step, base)
        for key in mention.keys:
            if not dedup.admit(key, mention.author, mention.at):
                continue
            cell = totals[key].setdefault(start, [0, 0])
            cell[0] += 1
            cell[1] += int(mention.negative)
    return {
        key: {at: StepCount(total, negative) for at, (total, negative) in sorted(steps.items())}
        for key, steps in totals.items()
    }


def dense_series(
    steps: Mapping[datetime, StepCount], start: datetime, end: datetime, step: timedelta
) -> list[tuple[datetime, StepCount]]:
    """Every step from ``start`` (a step start) up to ``end``, zero where nothing came."""
    out = []
    at = start
    empty = StepCount()
    while at < end:
        out.append((at, steps.get(at, empty)))
        at += step
    return out
