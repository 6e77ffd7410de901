"""Service levels: targets per channel, kind and priority; due times in business hours;
warning and breach states; and the time pressure that keeps anything from starving.

Pure functions over frozen dataclasses; ``now`` is always passed in (the injected clock).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from socialdesk.core.clock import as_utc

ZERO = timedelta(0)
# The ordering rule's defaults (see ``effective_priority_ts``).
DEFAULT_PRESSURE_WEIGHT = 10.0
DEFAULT_RESCUE_AFTER = timedelta(hours=12)
# Rescued items rank above any value score plus pressure a policy can produce.
RESCUE_LEVEL = 1_000_000.0
# The top value class: items worth at least this much (stored priority) come before all
# others, oldest first. 55 points is about the top quarter of a care team's items with the
# default value weights. None switches the class off.
DEFAULT_TOP_CLASS_FROM: float | None = 55.0
# The top class ranks above the rescue class.
TOP_LEVEL = 2 * RESCUE_LEVEL
# How far ahead a due time is searched for; a calendar with no open hour in two years is wrong.
_MAX_SEARCH_DAYS = 800


class SlaState(StrEnum):
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    PAUSED = "paused"  # waiting on the customer: the clock does not run


class ResponseKind(StrEnum):
    FIRST = "first_response"
    NEXT = "next_response"


@dataclass(frozen=True, slots=True)
class SlaRule:
    """A target for the items it matches; ``None`` in a field matches anything.

    ``min_priority`` matches items whose value score is at least that much, so a policy
    can promise high-value items a shorter target.
    """

    first_response: timedelta
    next_response: timedelta
    channel: str | None = None
    kind: str | None = None
    min_priority: float | None = None

    def __post_init__(self) -> None:
        if self.first_response <= ZERO or self.next_response <= ZERO:
            raise ValueError("SLA targets must be positive durations")

    def matches(self, channel: str, kind: str | None, priority: float) -> bool:
        if self.channel is not None and self.channel != channel:
            return False
        if self.kind is not None and self.kind != kind:
            return False
        return self.min_priority is None or priority >= self.min_priority

    @property
    def specificity(self) -> int:
        return sum(x is not None for x in (self.channel, self.kind, self.min_priority))


DEFAULT_RULES: tuple[SlaRule, ...] = (
    SlaRule(timedelta(minutes=30), timedelta(hours=1), channel="x"),
    SlaRule(timedelta(hours=2), timedelta(hours=2), channel="facebook"),
    SlaRule(timedelta(hours=2), timedelta(hours=2), channel="instagram"),
    SlaRule(timedelta(hours=24), timedelta(hours=24), channel="email"),
)


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """A workspace's service-level policy."""

    rules: tuple[SlaRule, ...] = DEFAULT_RULES
    default_first_response: timedelta = timedelta(hours=24)
    default_next_response: timedelta = timedelta(hours=24)
    # Fractions of the target at which a warning is raised (the last one is "warning").
    warning_fractions: tuple[float, ...] = (0.5, 0.8)
    # Priority an item gains by its due time (and keeps after it): it passes fresher items
    # worth up to this much more. 0 orders by value alone until the rescue.
    pressure_weight: float = DEFAULT_PRESSURE_WEIGHT
    # Overdue by this much, an item is served before all others, oldest rescue first: the
    # bound on any wait. None switches the rescue off (items may then starve under overload).
    rescue_after: timedelta | None = DEFAULT_RESCUE_AFTER
    # Priority added to the stored priority once per breach. 0 by default: a constant added
    # to every breached item lifts them all above fresh valuable ones alike.
    breach_boost: float = 0.0
    # Items worth at least this much form the top class: served before every other item,
    # oldest first (strict precedence). None: no top class.
    top_class_from: float | None = DEFAULT_TOP_CLASS_FROM
    # Take a breached item back from the agent who holds it and hand it to another.
    reassign_on_breach: bool = False

    def __post_init__(self) -> None:
        if self.default_first_response <= ZERO or self.default_next_response <= ZERO:
            raise ValueError("SLA targets must be positive durations")
        fractions = tuple(sorted(self.warning_fractions))
        if any(not 0.0 < f < 1.0 for f in fractions):
            raise ValueError("warning fractions must lie strictly between 0 and 1")
        object.__setattr__(self, "warning_fractions", fractions)
        object.__setattr__(self, "rules", tuple(self.rules))
        if not (math.isfinite(self.pressure_weight) and math.isfinite(self.breach_boost)):
            raise ValueError("pressure_weight and breach_boost must be finite")
        if self.pressure_weight < 0 or self.breach_boost < 0:
            raise ValueError("pressure_weight and breach_boost must be >= 0")
        if self.rescue_after is not None and self.rescue_after < ZERO:
            raise ValueError("rescue_after must be >= 0 minutes (or null to switch it off)")
        if self.top_class_from is not None and not math.isfinite(self.top_class_from):
            raise ValueError("top_class_from must be a finite number of points (or null)")

    def to_dict(self) -> dict[str, Any]:
        return {
            "rules": [
                {
                    "channel": r.channel,
                    "kind": r.kind,
                    "min_priority": r.min_priority,
                    "first_response_minutes": r.first_response.total_seconds() / 60,
                    "next_response_minutes": r.next_response.total_seconds() / 60,
                }
                for r in self.rules
            ],
            "default_first_response_minutes": self.default_first_response.total_seconds() / 60,
            "default_next_response_minutes": self.default_next_response.total_seconds() / 60,
            "warning_fractions": list(self.warning_fractions),
            "pressure_weight": self.pressure_weight,
            "rescue_after_minutes": None
            if self.rescue_after is None
            else self.rescue_after.total_seconds() / 60,
            "breach_boost": self.breach_boost,
            "top_class_from": self.top_class_from,
            "reassign_on_breach": self.reassign_on_breach,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlaPolicy:
        """Build from a stored or submitted dict; missing keys keep their defaults."""
        known = set(cls().to_dict())
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown SLA policy settings: {', '.join(sorted(unknown))}")
        kwargs: dict[str, Any] = {}
        if "rules" in data:
            rules = []
            for raw in data["rules"]:
                extra = set(raw) - {
                    "channel",
                    "kind",
                    "min_priority",
                    "first_response_minutes",
                    "next_response_minutes",
                }
                if extra:
                    raise ValueError(f"unknown SLA rule settings: {', '.join(sorted(extra))}")
                first = timedelta(minutes=float(raw["first_response_minutes"]))
                nxt = first
                if raw.get("next_response_minutes") is not None:
                    nxt = timedelta(minutes=float(raw["next_response_minutes"]))
                rules.append(
                    SlaRule(
                        first_response=first,
                        next_response=nxt,
                        channel=raw.get("channel"),
                        kind=raw.get("kind"),
                        min_priority=raw.get("min_priority"),
                    )
                )
            kwargs["rules"] = tuple(rules)
        for key in ("default_first_response", "default_next_response"):
            if f"{key}_minutes" in data:
                kwargs[key] = timedelta(minutes=float(data[f"{key}_minutes"]))
        if "warning_fractions" in data:
            kwargs["warning_fractions"] = tuple(float(f) for f in data["warning_fractions"])
        for key in ("pressure_weight", "breach_boost"):
            if key in data:
                kwargs[key] = float(data[key])
        if "rescue_after_minutes" in data:
            raw_rescue = data["rescue_after_minutes"]
            kwargs["rescue_after"] = (
                None if raw_rescue is None else timedelta(minutes=float(raw_rescue))
            )
        if "top_class_from" in data:
            raw_top = data["top_class_from"]
            kwargs["top_class_from"] = None if raw_top is None else float(raw_top)
        if "reassign_on_breach" in data:
            kwargs["reassign_on_breach"] = bool(data["reassign_on_breach"])
        return cls(**kwargs)


def select_target(
    policy: SlaPolicy,
    channel: str,
    kind: str | None,
    priority: float,
    response: ResponseKind = ResponseKind.FIRST,
) -> timedelta:
    """The target for an item: the most specific matching rule wins; ties go to the first."""
    best: SlaRule | None = None
    for rule in policy.rules:
        if rule.matches(channel, kind, priority) and (
            best is None or rule.specificity > best.specificity
        ):
            best = rule
    if best is None:
        if response is ResponseKind.FIRST:
            return policy.default_first_response
        return policy.default_next_response
    return best.first_response if response is ResponseKind.FIRST else best.next_response


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """When a team works: opening hours per weekday (0 = Monday) in its time zone, and
    holidays. ``weekly=None`` means around the clock (holidays still close whole days)."""

    timezone: str = "UTC"
    weekly: Mapping[int, tuple[time, time]] | None = None
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        if self.weekly is not None:
            for day, (start, end) in self.weekly.items():
                if day not in range(7):
                    raise ValueError(f"weekday must be 0..6 (Monday = 0), got {day!r}")
                if not start < end:
                    raise ValueError(f"opening hours of weekday {day} must start before they end")
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    @property
    def always_open(self) -> bool:
        return self.weekly is None and not self.holidays

    @classmethod
    def office(
        cls,
        timezone: str = "UTC",
        start: time = time(9),
        end: time = time(17),
        weekdays: Iterable[int] = range(5),
        holidays: Iterable[date] = (),
    ) -> BusinessHours:
        return cls(timezone, {d: (start, end) for d in weekdays}, frozenset(holidays))

    def _windows(self, day: date) -> tuple[datetime, datetime] | None:
        """The open window of a local calendar day, in UTC; None when closed."""
        if day in self.holidays:
            return None
        tz = ZoneInfo(self.timezone)
        if self.weekly is None:
            start_local = datetime.combine(day, time(0), tz)
            end_local = datetime.combine(day + timedelta(days=1), time(0), tz)
        else:
            hours = self.weekly.get(day.weekday())
            if hours is None:
                return None
            start_local = datetime.combine(day, hours[0], tz)
            end_local = datetime.combine(day, hours[1], tz)
        return start_local.astimezone(UTC), end_local.astimezone(UTC)

    def _open_windows_from(self, start: datetime) -> Iterable[tuple[datetime, datetime]]:
        local_day = as_utc(start).astimezone(ZoneInfo(self.timezone)).date()
        for offset in range(_MAX_SEARCH_DAYS):
            window = self._windows(local_day + timedelta(days=offset))
            if window is not None:
                yield window


def add_business_time(start: datetime, duration: timedelta, hours: BusinessHours) -> datetime:
    """The moment ``duration`` of open time has passed after ``start``."""
    start = as_utc(start)
    if duration < ZERO:
        raise ValueError("duration must be >= 0")
    if hours.always_open:
        return start + duration
    remaining = duration
    for open_at, close_at in hours._open_windows_from(start):
        if close_at <= start:
            continue
        begin = max(open_at, start)
        available = close_at - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise ValueError("the business hours have no open time in the next two years")


def business_time_between(start: datetime, end: datetime, hours: BusinessHours) -> timedelta:
    """Open time elapsed between two moments (zero when ``end`` is not after ``start``)."""
    start, end = as_utc(start), as_utc(end)
    if end <= start:
        return ZERO
    if hours.always_open:
        return end - start
    total = ZERO
    for open_at, close_at in hours._open_windows_from(start):
        if open_at >= end:
            break
        begin, finish = max(open_at, start), min(close_at, end)
        if finish > begin:
            total += finish - begin
    return total


@dataclass(frozen=True, slots=True)
class SlaClock:
    """A running response clock.

    It starts when the customer's message arrives; while we wait on the customer it is
    paused (``paused_at`` set), and paused open time is added to ``paused_total`` when it
    resumes, which moves the due time back by as much.
    """

    started_at: datetime
    target: timedelta
    paused_total: timedelta = ZERO
    paused_at: datetime | None = None

    def pause(self, now: datetime) -> SlaClock:
        if self.paused_at is not None:
            return self
        return SlaClock(self.started_at, self.target, self.paused_total, as_utc(now))

    def resume(self, now: datetime, hours: BusinessHours) -> SlaClock:
        if self.paused_at is None:
            return self
        paused = business_time_between(self.paused_at, now, hours)
        return SlaClock(self.started_at, self.target, self.paused_total + paused, None)


def due_at(clock: SlaClock, hours: BusinessHours) -> datetime:
    """When the response is due (for a paused clock: if it resumed at the pause moment)."""
    return add_business_time(clock.started_at, clock.target + clock.paused_total, hours)


@dataclass(frozen=True, slots=True)
class SlaStatus:
    state: SlaState
    due_at: datetime
    elapsed_fraction: float  # of the target used up; above 1 once breached
    remaining: timedelta  # open time left; negative once breached
    warning_level: int  # how many warning fractions have been passed


def sla_status(
    clock: SlaClock,
    hours: BusinessHours,
    now: datetime,
    warning_fractions: Sequence[float] = (0.5, 0.8),
) -> SlaStatus:
    """Where a clock stands at ``now``."""
    now = as_utc(now)
    due = due_at(clock, hours)
    measured_until = clock.paused_at if clock.paused_at is not None else now
    elapsed = business_time_between(clock.started_at, measured_until, hours) - clock.paused_total
    elapsed = max(elapsed, ZERO)
    fraction = elapsed / clock.target
    level = sum(fraction >= f for f in warning_fractions)
    if clock.paused_at is not None:
        state = SlaState.PAUSED
    elif fraction >= 1.0:
        state = SlaState.BREACHED
    elif level > 0:
        state = SlaState.WARNING
    else:
        state = SlaState.OK
    return SlaStatus(state, due, fraction, clock.target - elapsed, level)


def next_transition(
    clock: SlaClock, hours: BusinessHours, warning_fractions: Sequence[float] = (0.5, 0.8)
) -> list[tuple[float, datetime]]:
    """The moments at which each warning fraction and the breach (1.0) are reached, so a
    timer can wake exactly then instead of polling."""
    if clock.paused_at is not None:
        return []
    moments = []
    for fraction in (*sorted(warning_fractions), 1.0):
        offset = clock.target * fraction + clock.paused_total
        moments.append((fraction, add_business_time(clock.started_at, offset, hours)))
    return moments


def elapsed_fraction(waiting_since: datetime, due: datetime | None, now: datetime) -> float:
    """Wall-clock share of the time to the due time already spent (cheap, for ordering)."""
    return elapsed_fraction_ts(
        as_utc(waiting_since).timestamp(),
        None if due is None else as_utc(due).timestamp(),
        as_utc(now).timestamp(),
    )


def elapsed_fraction_ts(waiting_since: float, due: float | None, now: float) -> float:
    """``elapsed_fraction`` on POSIX timestamps, for code that orders many items at once."""
    if due is None:
        return 0.0
    total = due - waiting_since
    spent = now - waiting_since
    if total <= 0:
        return 1.0 + max(spent, 0.0) / 60.0
    return max(spent, 0.0) / total


def time_pressure(fraction: float, weight: float = DEFAULT_PRESSURE_WEIGHT) -> float:
    """Priority added as the due time nears: slow at first, ``weight`` at the due time, and
    no more after it. Capping the ageing at the due time keeps breached items in value order
    (a breach must not turn the list into first in, first out); the rescue below bounds the
    wait instead."""
    if fraction <= 0 or math.isnan(fraction):
        return 0.0
    capped = min(fraction, 1.0)
    return weight * capped * capped


def rescued_since(due: float | None, now: float, rescue_after: float | None) -> float | None:
    """The moment (POSIX seconds) an item overdue by ``rescue_after`` seconds entered the
    rescue class, or None while it has not (or when rescue is off)."""
    if due is None or rescue_after is None:
        return None
    moment = due + rescue_after
    return moment if now >= moment else None


def effective_priority(
    priority: float,
    waiting_since: datetime,
    due: datetime | None,
    now: datetime,
    pressure_weight: float = DEFAULT_PRESSURE_WEIGHT,
    rescue_after: timedelta | None = DEFAULT_RESCUE_AFTER,
    top_class_from: float | None = DEFAULT_TOP_CLASS_FROM,
) -> float:
    """The priority items are ordered by (see ``effective_priority_ts``)."""
    return effective_priority_ts(
        priority,
        as_utc(waiting_since).timestamp(),
        None if due is None else as_utc(due).timestamp(),
        as_utc(now).timestamp(),
        pressure_weight,
        None if rescue_after is None else rescue_after.total_seconds(),
        top_class_from,
    )


def effective_priority_ts(
    priority: float,
    waiting_since: float,
    due: float | None,
    now: float,
    pressure_weight: float = DEFAULT_PRESSURE_WEIGHT,
    rescue_after: float | None = DEFAULT_RESCUE_AFTER.total_seconds(),
    top_class_from: float | None = DEFAULT_TOP_CLASS_FROM,
) -> float:
    """Value classes with strict precedence for the top class, capped ageing and a bounded
    wait, on POSIX timestamps.

    - An item worth at least ``top_class_from`` is in the top class: above every other item
      (rescued ones too), first in, first out among its class (all share one level; ties go
      to the longest waiting). Its wait is bounded as long as the top class alone does not
      exceed the team.
    - Until its due time an item gains up to ``pressure_weight`` points (``time_pressure``),
      so one about to breach passes fresher items worth up to that much more.
    - Once due, it keeps its value plus ``pressure_weight``: among breached items the most
      valuable still comes first.
    - Overdue by ``rescue_after`` seconds, it enters the rescue class, above every other
      item, served in the order items entered it: no item waits longer than its target plus
      ``rescue_after`` plus the time to answer the rescued items ahead of it.
    """
    if top_class_from is not None and priority >= top_class_from:
        return TOP_LEVEL
    rescued = rescued_since(due, now, rescue_after)
    if rescued is not None:
        return RESCUE_LEVEL + (now - rescued) / 60.0
    return priority + time_pressure(elapsed_fraction_ts(waiting_since, due, now), pressure_weight)


@dataclass(frozen=True, slots=True)
class PriorityExplanation:
    """Why an item stands where it does in the work list (``effective_priority_ts``)."""

    effective: float
    stored: float  # value score plus any breach boost
    pressure: float  # points from the approaching (or passed) due time
    pressure_weight: float
    overdue: timedelta | None  # None before the due time
    rescued: bool
    top_class_from: float | None = None  # set when the item is in the top value class

    def sentence(self) -> str:
        if self.top_class_from is not None:
            return (
                f"In the top value class (worth {self.top_class_from:g} points or more): "
                "served before every other item, the longest waiting first."
            )
        if self.rescued:
            return (
                "Overdue by more than the rescue time: served before every other item, "
                "oldest rescue first."
            )
        if self.overdue is not None:
            return (
                f"Overdue: {self.pressure:.1f} points of time pressure (the most it gets), "
                "so it stays in value order among overdue items."
            )
        if self.pressure > 0:
            return (
                f"{self.pressure:.1f} of {self.pressure_weight:.0f} points of time pressure "
                "as its due time nears."
            )
        return "Ordered by value."


def explain_priority(
    priority: float,
    waiting_since: datetime,
    due: datetime | None,
    now: datetime,
    pressure_weight: float = DEFAULT_PRESSURE_WEIGHT,
    rescue_after: timedelta | None = DEFAULT_RESCUE_AFTER,
    top_class_from: float | None = DEFAULT_TOP_CLASS_FROM,
) -> PriorityExplanation:
    """The parts of ``effective_priority`` for one item, for "why is this first"."""
    effective = effective_priority(
        priority, waiting_since, due, now, pressure_weight, rescue_after, top_class_from
    )
    top = top_class_from if top_class_from is not None and priority >= top_class_from else None
    if due is None:
        return PriorityExplanation(effective, priority, 0.0, pressure_weight, None, False, top)
    since_ts, due_ts, now_ts = (as_utc(t).timestamp() for t in (waiting_since, due, now))
    rescue = None if rescue_after is None else rescue_after.total_seconds()
    pressure = time_pressure(elapsed_fraction_ts(since_ts, due_ts, now_ts), pressure_weight)
    overdue = as_utc(now) - as_utc(due) if now_ts >= due_ts else None
    rescued = top is None and rescued_since(due_ts, now_ts, rescue) is not None
    return PriorityExplanation(
        effective, priority, pressure, pressure_weight, overdue, rescued, top
    )


def business_hours_to_dict(hours: BusinessHours) -> dict[str, Any]:
    return {
        "timezone": hours.timezone,
        "weekly": None
        if hours.weekly is None
        else {
            str(day): [start.strftime("%H:%M"), end.strftime("%H:%M")]
            for day, (start, end) in sorted(hours.weekly.items())
        },
        "holidays": sorted(d.isoformat() for d in hours.holidays),
    }


def business_hours_from_dict(data: Mapping[str, Any]) -> BusinessHours:
    """Parse ``{"timezone": "Europe/Paris", "weekly": {"0": ["09:00", "17:00"], ...},
    "holidays": ["2026-12-25"]}``; an empty dict means around the clock in UTC."""
    unknown = set(data) - {"timezone", "weekly", "holidays"}
    if unknown:
        raise ValueError(f"unknown business hours settings: {', '.join(sorted(unknown))}")
    weekly_raw = data.get("weekly")
    weekly: dict[int, tuple[time, time]] | None = None
    if weekly_raw is not None:
        weekly = {}
        for day, span in dict(weekly_raw).items():
            try:
                start, end = (time.fromisoformat(str(v)) for v in span)
                weekly[int(day)] = (start, end)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f'weekday {day}: give opening hours as ["HH:MM", "HH:MM"]'
                ) from exc
    try:
        holidays = frozenset(date.fromisoformat(str(d)) for d in data.get("holidays", ()))
    except ValueError as exc:
        raise ValueError("holidays must be dates like 2026-12-25") from exc
    return BusinessHours(str(data.get("timezone", "UTC")), weekly, holidays)
