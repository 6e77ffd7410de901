"""Staffing on a real timeline: Erlang C per date and hour, and next week's forecast."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from socialdesk.simulation.engine import TeamConfig
from socialdesk.simulation.erlang import staffing_by_hour
from socialdesk.simulation.staffing import (
    IntervalLoad,
    forecast_week,
    interval_load,
    staffing_by_interval,
    staffing_summary,
)

MONDAY = datetime(2026, 11, 16, tzinfo=UTC)


def arrivals(hour: int, count: int, handling: float = 6.0) -> list[tuple[datetime, float]]:
    start = MONDAY + timedelta(hours=hour)
    return [(start + timedelta(seconds=3600 * k / count), handling) for k in range(count)]


def test_each_hour_of_the_record_counts_its_own_arrivals() -> None:
    load = interval_load(
        arrivals(0, 10, 4.0) + arrivals(2, 5, 8.0), MONDAY, MONDAY + timedelta(hours=2, minutes=5)
    )
    assert [(i.start.hour, i.arrivals) for i in load] == [(0, 10.0), (1, 0.0), (2, 5.0)]
    assert load[0].handling_minutes == 4.0
    # An empty hour takes the overall mean handling time (its team is sized for nothing).
    assert load[1].handling_minutes == pytest.approx((10 * 4 + 5 * 8) / 15)
    with pytest.raises(ValueError, match="before its start"):
        interval_load([], MONDAY, MONDAY - timedelta(hours=2))


def test_a_burst_hour_is_staffed_for_itself_not_for_the_average_of_its_hour_of_day() -> None:
    """Two weeks of 20 messages an hour, one hour with 700: hour-of-day averaging hides it."""
    days = 14
    items = [pair for h in range(days * 24) for pair in arrivals(h, 20)]
    burst_hour = 9 * 24 + 20
    items = [p for p in items if p[0] < MONDAY + timedelta(hours=burst_hour)] + [
        p for p in items if p[0] >= MONDAY + timedelta(hours=burst_hour + 1)
    ]
    items += arrivals(burst_hour, 700)
    load = interval_load(items, MONDAY, MONDAY + timedelta(days=days) - timedelta(seconds=1))
    plan = staffing_by_interval(load, 30, 0.8)
    by_hour_of_day = staffing_by_hour(
        [sum(i.arrivals for i in load if i.start.hour == h) / days for h in range(24)],
        [6.0] * 24,
        30,
        0.8,
    )
    burst = plan[burst_hour]
    assert burst.arrivals == 700 and burst.agents >= 70
    assert by_hour_of_day[20].agents <= 10
    assert burst.service_level >= 0.8
    summary = staffing_summary(plan)
    assert summary["peak_agents"] == burst.agents
    assert summary["peak_at"] == burst.start.isoformat()


def test_the_forecast_repeats_the_week_and_follows_the_trend() -> None:
    """Three weeks in which each day has 10 more messages than the day before."""
    load = []
    for day in range(21):
        for hour in range(24):
            busy = 2.0 if 9 <= hour < 17 else 0.5  # the day's shape
            per_hour = busy * (100 + 10 * day) / (8 * 2.0 + 16 * 0.5)
            start = MONDAY + timedelta(days=day, hours=hour)
            load.append(IntervalLoad(start, per_hour, 6.0))
    ahead = forecast_week(load)
    assert len(ahead) == 168 and ahead[0].start == MONDAY + timedelta(days=21)
    daily = [sum(i.arrivals for i in ahead[d * 24 : (d + 1) * 24]) for d in range(7)]
    # The trend carries on: day 21 of the series would have 310 messages, day 27 370.
    assert daily[0] == pytest.approx(310, rel=0.02)
    assert daily[6] == pytest.approx(370, rel=0.02)
    assert ahead[10].arrivals > 3 * ahead[3].arrivals  # busy by day, quiet at night
    plan = staffing_by_interval(ahead, 30, 0.8)
    assert plan[10].agents > plan[3].agents


def test_a_short_history_forecasts_by_hour_of_day() -> None:
    load = [IntervalLoad(MONDAY + timedelta(hours=h), float(h % 24), 5.0) for h in range(48)]
    ahead = forecast_week(load, hours=48)
    # Wednesday has never been seen: Wednesday 13:00 takes the mean of 13:00.
    assert ahead[13].start.weekday() == 2 and ahead[13].arrivals == pytest.approx(13.0)
    with pytest.raises(ValueError, match="history"):
        forecast_week([])


def test_a_team_works_a_staffing_timeline_hour_by_hour() -> None:
    team = TeamConfig(timeline=(1, 5, 2))
    assert team.headcount == 5
    assert [team.on_duty(9 + i, i) for i in range(5)] == [1, 5, 2, 2, 2]
    with pytest.raises(ValueError, match="timeline"):
        TeamConfig(timeline=(0, 0))


def test_a_one_off_burst_does_not_come_back_in_the_forecast() -> None:
    load = [IntervalLoad(MONDAY + timedelta(hours=h), 20.0, 6.0) for h in range(72)]
    load[33] = IntervalLoad(load[33].start, 900.0, 6.0)  # Tuesday 09:00
    ahead = forecast_week(load)
    tuesday_9 = next(i for i in ahead if i.start.weekday() == 1 and i.start.hour == 9)
    assert tuesday_9.arrivals == pytest.approx(20.0, rel=0.35)
    assert max(i.arrivals for i in ahead) < 40
