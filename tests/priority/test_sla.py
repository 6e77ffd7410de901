"""Service levels: targets, due times in business hours, warnings, breaches, pauses and
the time pressure that keeps every item from starving."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from socialdesk.priority.sla import (
    BusinessHours,
    ResponseKind,
    SlaClock,
    SlaPolicy,
    SlaRule,
    SlaState,
    add_business_time,
    business_time_between,
    due_at,
    effective_priority,
    explain_priority,
    next_transition,
    select_target,
    sla_status,
    time_pressure,
)

ALWAYS = BusinessHours()
MON_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday


def test_default_targets_follow_what_customers_expect_per_channel() -> None:
    policy = SlaPolicy()
    assert select_target(policy, "x", None, 0) == timedelta(minutes=30)
    assert select_target(policy, "facebook", None, 0) == timedelta(hours=2)
    assert select_target(policy, "instagram", "complaint", 50) == timedelta(hours=2)
    assert select_target(policy, "email", None, 0) == timedelta(hours=24)
    assert select_target(policy, "webhook", None, 0) == timedelta(hours=24)
    assert select_target(policy, "x", None, 0, ResponseKind.NEXT) == timedelta(hours=1)


def test_the_most_specific_rule_wins() -> None:
    policy = SlaPolicy(
        rules=(
            SlaRule(timedelta(hours=1), timedelta(hours=1), channel="x"),
            SlaRule(timedelta(minutes=15), timedelta(minutes=30), channel="x", min_priority=60),
            SlaRule(timedelta(minutes=10), timedelta(minutes=20), channel="x", kind="complaint"),
            SlaRule(timedelta(hours=4), timedelta(hours=4), kind="praise"),
        )
    )
    assert select_target(policy, "x", "question", 10) == timedelta(hours=1)
    assert select_target(policy, "x", "question", 75) == timedelta(minutes=15)
    assert select_target(policy, "x", "complaint", 10) == timedelta(minutes=10)
    assert select_target(policy, "facebook", "praise", 0) == timedelta(hours=4)
    assert select_target(policy, "facebook", "question", 0) == timedelta(hours=24)


def test_around_the_clock_the_due_time_is_start_plus_target() -> None:
    clock = SlaClock(MON_9, timedelta(minutes=30))
    assert due_at(clock, ALWAYS) == MON_9 + timedelta(minutes=30)


def test_business_hours_stop_the_clock_at_night_weekends_and_holidays() -> None:
    hours = BusinessHours.office("UTC", time(9), time(17), holidays=[date(2026, 11, 24)])
    # Friday 16:30 + 2 h: 30 min on Friday, then Monday 09:00 + 1:30.
    friday = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    assert add_business_time(friday, timedelta(hours=2), hours) == datetime(
        2026, 11, 30, 10, 30, tzinfo=UTC
    )
    # Monday 16:00 + 2 h skips Tuesday (a holiday) and lands on Wednesday 10:00.
    monday = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert add_business_time(monday, timedelta(hours=2), hours) == datetime(
        2026, 11, 25, 10, 0, tzinfo=UTC
    )
    # Arriving on a Saturday night, the clock starts on Monday morning.
    saturday = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)
    assert add_business_time(saturday, timedelta(minutes=30), hours) == datetime(
        2026, 11, 30, 9, 30, tzinfo=UTC
    )


def test_business_hours_are_kept_in_the_teams_time_zone() -> None:
    paris = BusinessHours.office("Europe/Paris", time(9), time(17))
    # 07:30 UTC in winter is 08:30 in Paris: the clock starts at 08:00 UTC.
    start = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)
    assert add_business_time(start, timedelta(minutes=30), paris) == datetime(
        2026, 11, 23, 8, 30, tzinfo=UTC
    )


def test_business_time_between_counts_only_open_hours() -> None:
    hours = BusinessHours.office("UTC", time(9), time(17))
    friday_16 = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    monday_10 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert business_time_between(friday_16, monday_10, hours) == timedelta(hours=2)
    assert business_time_between(monday_10, friday_16, hours) == timedelta(0)


def test_states_move_from_ok_to_warning_to_breached() -> None:
    clock = SlaClock(MON_9, timedelta(minutes=30))

    def state_at(minutes: float) -> SlaState:
        return sla_status(clock, ALWAYS, MON_9 + timedelta(minutes=minutes), (0.5, 0.8)).state

    assert state_at(10) is SlaState.OK
    assert state_at(15) is SlaState.WARNING
    assert sla_status(clock, ALWAYS, MON_9 + timedelta(minutes=25)).warning_level == 2
    assert state_at(30) is SlaState.BREACHED
    late = sla_status(clock, ALWAYS, MON_9 + timedelta(minutes=45))
    assert late.remaining == timedelta(minutes=-15)
    assert late.elapsed_fraction == pytest.approx(1.5)


def test_waiting_on_the_customer_pauses_the_clock() -> None:
    clock = SlaClock(MON_9, timedelta(minutes=30))
    paused = clock.pause(MON_9 + timedelta(minutes=10))
    at_noon = sla_status(paused, ALWAYS, MON_9 + timedelta(hours=3))
    assert at_noon.state is SlaState.PAUSED
    assert at_noon.remaining == timedelta(minutes=20)
    resumed = paused.resume(MON_9 + timedelta(hours=1), ALWAYS)
    assert resumed.paused_total == timedelta(minutes=50)
    assert due_at(resumed, ALWAYS) == MON_9 + timedelta(minutes=80)
    assert sla_status(resumed, ALWAYS, MON_9 + timedelta(minutes=75)).state is SlaState.WARNING


def test_timers_know_the_exact_moments_of_each_warning_and_the_breach() -> None:
    clock = SlaClock(MON_9, timedelta(minutes=30))
    assert next_transition(clock, ALWAYS, (0.5, 0.8)) == [
        (0.5, MON_9 + timedelta(minutes=15)),
        (0.8, MON_9 + timedelta(minutes=24)),
        (1.0, MON_9 + timedelta(minutes=30)),
    ]
    assert next_transition(clock.pause(MON_9), ALWAYS) == []


def below_top(*args: Any, **kwargs: Any) -> float:
    """The order of items below the top value class (value, capped ageing, rescue)."""
    return effective_priority(*args, **{"top_class_from": None, **kwargs})


def test_time_pressure_rises_to_the_weight_at_the_due_time_and_stops_there() -> None:
    assert time_pressure(0.0) == 0.0
    assert 0 < time_pressure(0.5) < time_pressure(0.9) < time_pressure(1.0) == 10.0
    assert time_pressure(1.0, 30.0) == 30.0
    # Capped: lateness alone does not keep adding points (that would make the list FIFO).
    assert time_pressure(5.0) == time_pressure(1.0)


def test_under_overload_the_most_valuable_items_still_come_first() -> None:
    """Everything in the backlog has breached: the order is by value, not by lateness."""
    now = MON_9 + timedelta(hours=3)
    backlog = {
        # value: waiting since (X items, due after 30 minutes)
        30.0: MON_9,  # the oldest, least valuable
        45.0: MON_9 + timedelta(minutes=40),
        60.0: MON_9 + timedelta(minutes=80),
        75.0: MON_9 + timedelta(minutes=120),  # the newest, most valuable
    }
    scores = {
        value: below_top(value, since, since + timedelta(minutes=30), now)
        for value, since in backlog.items()
    }
    assert sorted(scores, key=lambda v: -scores[v]) == [75.0, 60.0, 45.0, 30.0]
    # A fresh top-quartile item still passes breached items of lower quartiles.
    fresh_top = below_top(70.0, now, now + timedelta(minutes=30), now)
    assert fresh_top > scores[45.0] > scores[30.0]


def test_a_breach_does_not_flatten_the_order() -> None:
    """Two breached items keep their value order however late each one is."""
    since_a, since_b = MON_9, MON_9 + timedelta(minutes=50)
    for late in (1, 30, 120, 185):  # the older one is overdue by up to 235 minutes
        now = since_b + timedelta(minutes=30 + late)
        older_cheap = effective_priority(40.0, since_a, since_a + timedelta(minutes=30), now)
        newer_dear = effective_priority(50.0, since_b, since_b + timedelta(minutes=30), now)
        assert newer_dear > older_cheap, late


def test_an_item_about_to_breach_passes_slightly_more_valuable_fresh_ones_only() -> None:
    since = MON_9
    due = since + timedelta(minutes=30)
    almost = due - timedelta(seconds=1)
    nearly_late = below_top(50.0, since, due, almost)
    assert nearly_late > below_top(58.0, almost, almost + timedelta(minutes=30), almost)
    assert nearly_late < below_top(61.0, almost, almost + timedelta(minutes=30), almost)


def test_no_item_waits_forever_once_overdue_by_the_rescue_time_it_comes_first() -> None:
    policy = SlaPolicy()
    assert policy.rescue_after == timedelta(hours=12)
    since, due = MON_9, MON_9 + timedelta(minutes=30)
    rescue = due + timedelta(hours=12)
    before = below_top(1.0, since, due, rescue - timedelta(seconds=1))
    after = below_top(1.0, since, due, rescue)
    fresh_best = below_top(100.0, rescue, rescue + timedelta(minutes=30), rescue)
    assert before < fresh_best < after
    # Among rescued items, the one rescued first goes first, whatever the values.
    later_rescue = below_top(
        99.0, since + timedelta(minutes=5), due + timedelta(minutes=5), rescue + timedelta(hours=1)
    )
    assert below_top(1.0, since, due, rescue + timedelta(hours=1)) > later_rescue
    # Without the rescue an overloaded team could leave a cheap item waiting for ever.
    never = below_top(1.0, since, due, rescue + timedelta(days=30), rescue_after=None)
    assert never < fresh_best


def test_the_wait_is_bounded_by_the_target_plus_the_rescue_time() -> None:
    """Sustained overload: a fresh item worth more arrives whenever an agent frees up.
    The cheap item is still served by its due time plus the rescue time (plus one pick)."""
    rescue_after = timedelta(hours=1)
    cheap_since, cheap_due = MON_9, MON_9 + timedelta(minutes=30)
    now = MON_9
    served_at = None
    while served_at is None and now < MON_9 + timedelta(days=1):
        now += timedelta(minutes=5)
        fresh = below_top(90.0, now, now + timedelta(minutes=30), now, rescue_after=rescue_after)
        cheap = below_top(5.0, cheap_since, cheap_due, now, rescue_after=rescue_after)
        if cheap > fresh:
            served_at = now
    assert served_at is not None
    assert served_at - cheap_due <= rescue_after + timedelta(minutes=5)


def test_the_top_value_class_comes_before_everything_else_oldest_first() -> None:
    """Strict precedence: an item worth at least ``top_class_from`` passes every item below
    it however late, rescued ones included; within the class the longest waiting is first."""
    policy = SlaPolicy()
    assert policy.top_class_from == 55.0
    since, due = MON_9, MON_9 + timedelta(minutes=30)
    now = due + timedelta(hours=13)  # the cheap item is overdue past the rescue time
    rescued_cheap = effective_priority(5.0, since, due, now)
    fresh_top = effective_priority(55.0, now, now + timedelta(minutes=30), now)
    just_below = effective_priority(54.9, since, due, due)  # breached, full pressure
    assert fresh_top > rescued_cheap > just_below
    # Within the class, value does not reorder: both share one level, so the work list's
    # tie-break (the longest waiting first) decides.
    older = effective_priority(56.0, since, due, now)
    dearer = effective_priority(95.0, now, now + timedelta(minutes=30), now)
    assert older == dearer
    # Switched off, the same items follow value, ageing and rescue.
    assert effective_priority(55.0, now, now + timedelta(minutes=30), now, top_class_from=None) < (
        effective_priority(5.0, since, due, now, top_class_from=None)
    )


def test_why_is_this_first_names_the_top_class() -> None:
    now = MON_9 + timedelta(minutes=5)
    top = explain_priority(70.0, MON_9, MON_9 + timedelta(minutes=30), now)
    assert top.top_class_from == 55.0 and not top.rescued
    assert "top value class" in top.sentence()
    below = explain_priority(40.0, MON_9, MON_9 + timedelta(minutes=30), now)
    assert below.top_class_from is None and "top value class" not in below.sentence()
    off = explain_priority(70.0, MON_9, None, now, top_class_from=None)
    assert off.sentence() == "Ordered by value."


def test_policies_round_trip_and_bad_ones_are_refused() -> None:
    policy = SlaPolicy(
        rules=(SlaRule(timedelta(minutes=20), timedelta(minutes=40), channel="x"),),
        warning_fractions=(0.75,),
        reassign_on_breach=True,
        rescue_after=timedelta(minutes=90),
    )
    assert SlaPolicy.from_dict(policy.to_dict()) == policy
    assert SlaPolicy.from_dict({"rescue_after_minutes": None}).rescue_after is None
    assert SlaPolicy.from_dict({"top_class_from": None}).top_class_from is None
    assert SlaPolicy.from_dict({"top_class_from": 60}).top_class_from == 60.0
    with pytest.raises(ValueError, match="top_class_from"):
        SlaPolicy(top_class_from=float("nan"))
    with pytest.raises(ValueError, match="between 0 and 1"):
        SlaPolicy(warning_fractions=(1.5,))
    with pytest.raises(ValueError, match="positive"):
        SlaRule(timedelta(0), timedelta(minutes=1))
    with pytest.raises(ValueError, match="unknown SLA policy settings: speed"):
        SlaPolicy.from_dict({"speed": 1})
    with pytest.raises(ValueError, match="time zone"):
        BusinessHours("Mars/Olympus")
    with pytest.raises(ValueError, match="no open time"):
        add_business_time(MON_9, timedelta(hours=1), BusinessHours(weekly={}))


def test_the_explanation_gives_the_parts_of_the_effective_priority() -> None:
    since, due = MON_9, MON_9 + timedelta(minutes=30)
    fresh = explain_priority(50.0, since, due, since)
    assert (fresh.effective, fresh.pressure, fresh.rescued) == (50.0, 0.0, False)
    assert fresh.sentence() == "Ordered by value."
    nearing = explain_priority(50.0, since, due, since + timedelta(minutes=15))
    assert nearing.effective == 50.0 + nearing.pressure == 52.5
    assert "2.5 of 10 points" in nearing.sentence()
    late = explain_priority(50.0, since, due, due + timedelta(hours=1))
    assert late.overdue == timedelta(hours=1) and late.effective == 60.0
    assert "stays in value order" in late.sentence()
    rescued = explain_priority(50.0, since, due, due + timedelta(hours=13))
    assert rescued.rescued and rescued.effective == effective_priority(
        50.0, since, due, due + timedelta(hours=13)
    )
    assert "before every other item" in rescued.sentence()
