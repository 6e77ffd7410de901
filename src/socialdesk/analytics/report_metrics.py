"""Business-report figures as pure functions over plain data, with the clock passed in.

A report covers whole days ``[first, last]`` in one timezone; its buckets (days or hours)
are that timezone's. Response times come from the order of a case's messages (a customer's
turn starts with their first message after our last answer and ends with our next answer),
service-level outcomes from the task's own record.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from socialdesk.core.clock import as_utc
from socialdesk.core.errors import InvalidInput

BUCKETS = ("day", "hour")
DIMENSIONS = ("channel", "team", "agent", "topic", "kind")
LONGEST_RANGE_DAYS = 3 * 366  # what one request may cover
LONGEST_HOURLY_DAYS = 62  # hour buckets beyond two months make an unreadable table
_STEP = timedelta(minutes=15)  # every timezone's offset is a multiple of 15 minutes


@dataclass(frozen=True, slots=True)
class ReportRange:
    first: date
    last: date  # inclusive
    tz: ZoneInfo
    start: datetime  # UTC, the first day's local midnight
    end: datetime  # UTC, exclusive: the local midnight after the last day

    @property
    def tz_name(self) -> str:
        return self.tz.key


def zone(name: str) -> ZoneInfo:
    """An IANA timezone by name (``Europe/Paris``, ``UTC``); InvalidInput if unknown."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput(
            f"unknown timezone {name!r} (use an IANA name such as Europe/Paris)"
        ) from None


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``tz``, in UTC (midnight, or the first existing time
    when a clock change skips midnight)."""
    guess = datetime.combine(day, time(), tzinfo=tz)
    moment = guess.astimezone(UTC)
    # A skipped midnight maps to an instant after 00:00 local; walk back while still `day`.
    while (moment - _STEP).astimezone(tz).date() == day:
        moment -= _STEP
    return moment


def report_range(first: date, last: date, tz_name: str = "UTC") -> ReportRange:
    if last < first:
        raise InvalidInput(f"the range ends ({last}) before it starts ({first})")
    if first.year < 1970 or last.year > 2999:
        raise InvalidInput("a report covers days between 1970 and 2999")
    if (last - first).days + 1 > LONGEST_RANGE_DAYS:
        raise InvalidInput(f"a report covers at most {LONGEST_RANGE_DAYS} days")
    tz = zone(tz_name)
    return ReportRange(
        first, last, tz, local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)
    )


def parse_day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{name} must be a date such as 2026-11-30 (got {value!r})") from None


def bucket_of(at: datetime, tz: ZoneInfo, bucket: str) -> str:
    """The local day (``2026-11-01``) or local hour with its UTC offset
    (``2026-11-01T01:00-04:00``) an instant falls in; the offset keeps apart the two 01:00
    hours of the night the clocks go back."""
    local = as_utc(at).astimezone(tz)
    if bucket == "day":
        return local.date().isoformat()
    return local.replace(minute=0, second=0, microsecond=0).isoformat(timespec="minutes")


def bucket_keys(span: ReportRange, bucket: str) -> list[str]:
    """Every bucket of the range in order, the empty ones included."""
    if bucket not in BUCKETS:
        raise InvalidInput(f"bucket must be one of {', '.join(BUCKETS)} (got {bucket!r})")
    if bucket == "day":
        days = (span.last - span.first).days + 1
        return [(span.first + timedelta(days=i)).isoformat() for i in range(days)]
    if (span.last - span.first).days + 1 > LONGEST_HOURLY_DAYS:
        raise InvalidInput(f"hour buckets cover at most {LONGEST_HOURLY_DAYS} days; use day")
    keys: list[str] = []
    moment = span.start
    while moment < span.end:
        key = bucket_of(moment, span.tz, bucket)
        if not keys or keys[-1] != key:
            keys.append(key)
        moment += _STEP
    return keys


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0..1) with linear interpolation between the closest ranks (as
    numpy's default and spreadsheets' PERCENTILE.INC); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo = math.floor(pos)
    hi = math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass(frozen=True, slots=True)
class Turn:
    started_at: datetime  # the customer's first message of the turn
    answered_at: datetime | None  # our next message after it

    @property
    def seconds(self) -> float | None:
        if self.answered_at is None:
            return None
        return (self.answered_at - self.started_at).total_seconds()


def response_turns(messages: Iterable[tuple[bool, datetime]]) -> list[Turn]:
    """The customer's turns in a case from its messages ``(inbound, at)`` in time order. A
    turn opens with an inbound message when none is open and closes with our next outbound
    message; our messages while no turn is open (a follow-up) close nothing."""
    turns: list[Turn] = []
    open_at: datetime | None = None
    for inbound, at in messages:
        if inbound:
            if open_at is None:
                open_at = as_utc(at)
        elif open_at is not None:
            turns.append(Turn(open_at, as_utc(at)))
            open_at = None
    if open_at is not None:
        turns.append(Turn(open_at, None))
    return turns


def handling_seconds(
    messages: Iterable[tuple[bool, datetime]], assigned_at: datetime | None
) -> float | None:
    """From the case's first assignment to an agent to our first message after it."""
    if assigned_at is None:
        return None
    start = as_utc(assigned_at)
    for inbound, at in messages:
        if not inbound and as_utc(at) >= start:
            return (as_utc(at) - start).total_seconds()
    return None


def sentiment_change(scores: Sequence[float | None]) -> float | None:
    """The customer's last scored message's sentiment minus their first's (scores in
    [-1, 1], so the change is in [-2, 2]); None with fewer than two scored messages."""
    known = [s for s in scores if s is not None]
    return None if len(known) < 2 else known[-1] - known[0]


class SlaOutcome:
    MET = "met"
    BREACHED = "breached"
    PENDING = "pending"  # still inside its target
    NONE = "none"  # no target, or closed without an answer before any breach
    ALL = (MET, BREACHED, PENDING, NONE)


def sla_outcome(
    *,
    status: str,
    due_at: datetime | None,
    first_response_at: datetime | None,
    breach_count: int,
    reopen_count: int,
    now: datetime,
) -> str:
    """A task's service-level outcome over all its waiting periods: breached once any
    period went past its due time (counted by the SLA monitor, or seen here when a period
    is still waiting past due or its first answer came late); met when every period was
    answered in time; pending while the current period is inside its target."""
    if breach_count > 0:
        return SlaOutcome.BREACHED
    if due_at is None:
        return SlaOutcome.NONE
    due = as_utc(due_at)
    if status in ("open", "assigned"):
        return SlaOutcome.BREACHED if as_utc(now) >= due else SlaOutcome.PENDING
    if first_response_at is None:
        return SlaOutcome.NONE
    if reopen_count == 0 and as_utc(first_response_at) > due:
        return SlaOutcome.BREACHED
    return SlaOutcome.MET


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _durations() -> array[float]:
    return array("d")


@dataclass(slots=True)
class Figures:
    """What one slice of a report adds up (the whole range, a channel, a day...)."""

    inbound: int = 0
    outbound: int = 0
    conversations: int = 0  # cases whose customer first wrote in the range
    needing_response: int = 0  # of them, cases that asked something of the team (a task)
    answered: int = 0  # of those, cases that got an answer
    resolved: int = 0
    sla_met: int = 0
    sla_breached: int = 0
    sla_pending: int = 0
    channel_shifts: int = 0
    kb_links_sent: int = 0
    kb_links_opened: int = 0
    sentiment_cases: int = 0
    sentiment_change_sum: float = 0.0
    first_response: array[float] = field(default_factory=_durations)
    next_response: array[float] = field(default_factory=_durations)
    resolution: array[float] = field(default_factory=_durations)
    handling: array[float] = field(default_factory=_durations)

    @property
    def response_rate(self) -> float | None:
        return None if not self.needing_response else self.answered / self.needing_response

    @property
    def sla_attainment(self) -> float | None:
        decided = self.sla_met + self.sla_breached
        return None if not decided else self.sla_met / decided

    def summary(self) -> dict[str, float | int | None]:
        """The figures as plain numbers; times in seconds."""
        out: dict[str, float | int | None] = {
            "inbound": self.inbound,
            "outbound": self.outbound,
            "conversations": self.conversations,
            "needing_response": self.needing_response,
            "answered": self.answered,
            "response_rate": _round(self.response_rate, 4),
            "first_response_p50": _round(percentile(self.first_response, 0.5), 1),
            "first_response_p90": _round(percentile(self.first_response, 0.9), 1),
            "next_responses": len(self.next_response),
            "next_response_p50": _round(percentile(self.next_response, 0.5), 1),
            "next_response_p90": _round(percentile(self.next_response, 0.9), 1),
            "resolved": self.resolved,
            "resolution_p50": _round(percentile(self.resolution, 0.5), 1),
            "resolution_p90": _round(percentile(self.resolution, 0.9), 1),
            "sla_met": self.sla_met,
            "sla_breached": self.sla_breached,
            "sla_pending": self.sla_pending,
            "sla_attainment": _round(self.sla_attainment, 4),
            "handling_p50": _round(percentile(self.handling, 0.5), 1),
            "handling_p90": _round(percentile(self.handling, 0.9), 1),
            "channel_shifts": self.channel_shifts,
            "kb_links_sent": self.kb_links_sent,
            "kb_links_opened": self.kb_links_opened,
            "sentiment_cases": self.sentiment_cases,
            "sentiment_change_mean": _round(
                self.sentiment_change_sum / self.sentiment_cases if self.sentiment_cases else None,
                3,
            ),
        }
        return out


FIGURE_NAMES = tuple(Figures().summary())


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """One case as the report counts it; labels are display names (``none`` when absent)."""

    started_at: datetime
    labels: dict[str, str]  # dimension -> label
    has_task: bool
    turns: Sequence[Turn]
    resolved_at: datetime | None
    sla: str  # SlaOutcome
    handling_seconds: float | None = None
    sentiment_change: float | None = None
    shifts: int = 0
    kb_links: int = 0
    kb_links_opened: int = 0

    @property
    def first_response_seconds(self) -> float | None:
        return self.turns[0].seconds if self.turns else None

    @property
    def resolution_seconds(self) -> float | None:
        if self.resolved_at is None:
            return None
        return max(0.0, (as_utc(self.resolved_at) - as_utc(self.started_at)).total_seconds())


def add_case(figures: Figures, case: CaseFacts) -> None:
    figures.conversations += 1
    figures.channel_shifts += case.shifts
    figures.kb_links_sent += case.kb_links
    figures.kb_links_opened += case.kb_links_opened
    if case.sentiment_change is not None:
        figures.sentiment_cases += 1
        figures.sentiment_change_sum += case.sentiment_change
    if case.handling_seconds is not None:
        figures.handling.append(case.handling_seconds)
    resolution = case.resolution_seconds
    if resolution is not None:
        figures.resolved += 1
        figures.resolution.append(resolution)
    if not case.has_task:
        return
    figures.needing_response += 1
    first = case.first_response_seconds
    if first is not None:
        figures.answered += 1
        figures.first_response.append(first)
    for turn in case.turns[1:]:
        seconds = turn.seconds
        if seconds is not None:
            figures.next_response.append(seconds)
    if case.sla == SlaOutcome.MET:
        figures.sla_met += 1
    elif case.sla == SlaOutcome.BREACHED:
        figures.sla_breached += 1
    elif case.sla == SlaOutcome.PENDING:
        figures.sla_pending += 1


@dataclass(slots=True)
class ReportTally:
    """The whole range, each dimension's values, and each bucket, filled row by row."""

    span: ReportRange
    bucket: str
    total: Figures = field(default_factory=Figures)
    breakdowns: dict[str, dict[str, Figures]] = field(
        default_factory=lambda: {d: {} for d in DIMENSIONS}
    )
    buckets: dict[str, Figures] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.buckets = {key: Figures() for key in bucket_keys(self.span, self.bucket)}

    def _slices(self, at: datetime, labels: dict[str, str]) -> list[Figures]:
        out = [self.total]
        for dim in DIMENSIONS:
            values = self.breakdowns[dim]
            label = labels.get(dim) or "none"
            figures = values.get(label)
            if figures is None:
                figures = values[label] = Figures()
            out.append(figures)
        key = bucket_of(at, self.span.tz, self.bucket)
        bucket = self.buckets.get(key)
        if bucket is not None:
            out.append(bucket)
        return out

    def add_message(
        self, *, inbound: bool, at: datetime, labels: dict[str, str], count: int = 1
    ) -> None:
        """``count`` messages written at ``at`` (or within its quarter hour, whose local day
        and hour are the same in every time zone)."""
        for figures in self._slices(at, labels):
            if inbound:
                figures.inbound += count
            else:
                figures.outbound += count

    def add_case(self, case: CaseFacts) -> None:
        for figures in self._slices(case.started_at, case.labels):
            add_case(figures, case)


DEFAULT_DAYS = 7


def range_from_params(
    first: str | None, last: str | None, tz_name: str | None, now: datetime
) -> ReportRange:
    """A range from optional texts: ``to`` defaults to today in the timezone, ``from`` to
    six days before ``to`` (a week), the timezone to UTC."""
    tz = zone(tz_name or "UTC")
    last_day = parse_day(last, "to") if last else as_utc(now).astimezone(tz).date()
    first_day = parse_day(first, "from") if first else last_day - timedelta(days=DEFAULT_DAYS - 1)
    return report_range(first_day, last_day, tz.key)
