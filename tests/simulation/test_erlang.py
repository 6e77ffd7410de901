"""Erlang C gives the published staffing figures."""

from __future__ import annotations

import math

import pytest

from socialdesk.simulation.erlang import (
    agents_needed,
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    service_level,
    staffing_by_hour,
)


def test_textbook_value_two_erlangs_on_three_servers() -> None:
    # C(3, 2) = (8/6 · 3/1) / (1 + 2 + 2 + 4) = 4/9, worked by hand from the formula.
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9, rel=1e-12)


def test_erlang_b_textbook_value() -> None:
    # B(2, 1) = (1/2) / (1 + 1 + 1/2) = 0.2
    assert erlang_b(2, 1.0) == pytest.approx(0.2, rel=1e-12)


@pytest.mark.parametrize(
    ("agents", "published"),
    [(11, 0.6821), (12, 0.4494), (13, 0.2853)],
)
def test_published_call_centre_example(agents: int, published: float) -> None:
    """The widely used worked example (Call Centre Helper, "Erlang C formula made simple"):
    100 calls in 30 minutes, 180 s average handling time, so 10 erlangs of traffic, with
    the published probability of waiting for 11, 12 and 13 agents."""
    assert erlang_c(agents, 10.0) == pytest.approx(published, abs=5e-5)


def test_the_published_example_needs_14_agents_for_80_percent_in_20_seconds() -> None:
    per_second = 100 / 1800
    assert agents_needed(per_second, 180.0, 20.0, 0.8) == 14
    assert (
        service_level(13, per_second, 180.0, 20.0)
        < 0.8
        <= service_level(14, per_second, 180.0, 20.0)
    )


def test_service_level_and_speed_of_answer_follow_the_formula() -> None:
    rate, aht, agents, target = 12.0, 4.0, 55, 0.25  # per minute, minutes
    traffic = rate * aht
    wait = erlang_c(agents, traffic)
    expected = 1 - wait * math.exp(-(agents - traffic) * target / aht)
    assert service_level(agents, rate, aht, target) == pytest.approx(expected)
    assert average_speed_of_answer(agents, rate, aht) == pytest.approx(
        wait * aht / (agents - traffic)
    )


def test_a_team_that_cannot_keep_up_always_waits() -> None:
    assert erlang_c(5, 5.0) == 1.0
    assert service_level(5, 1.0, 5.0, 10.0) == 0.0
    assert average_speed_of_answer(4, 1.0, 5.0) == math.inf


def test_no_traffic_needs_nobody() -> None:
    assert erlang_c(3, 0.0) == 0.0
    assert agents_needed(0.0, 5.0, 1.0, 0.8) == 0


def test_more_agents_never_lower_the_service_level() -> None:
    levels = [service_level(n, 2.0, 5.0, 1.0) for n in range(11, 20)]
    assert levels == sorted(levels)


def test_staffing_follows_the_hour_of_day() -> None:
    arrivals = [5.0] * 8 + [120.0] * 10 + [30.0] * 6
    plan = staffing_by_hour(arrivals, [6.0] * 24, 30.0, 0.8)
    assert len(plan) == 24
    assert plan[3].agents < plan[20].agents < plan[12].agents
    assert all(h.service_level >= 0.8 for h in plan)
    assert plan[12].traffic_erlangs == pytest.approx(120 / 60 * 6)


def test_agents_working_two_items_at_once_need_half_the_team_or_so() -> None:
    single = staffing_by_hour([120.0], [6.0], 30.0, 0.8)[0].agents
    double = staffing_by_hour([120.0], [6.0], 30.0, 0.8, slots_per_agent=2)[0].agents
    assert double == math.ceil(single / 2) or double == math.ceil(single / 2) + 1
    assert double < single


def test_bad_goals_are_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        agents_needed(1.0, 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="one handling time per hour"):
        staffing_by_hour([1.0, 2.0], [1.0], 1.0, 0.8)
