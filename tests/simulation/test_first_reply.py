"""An agent answers an item first, then does the rest of the work: the first response ends
with that first reply, and the rest either keeps the slot or yields to new first replies."""

from __future__ import annotations

import random

import pytest

from socialdesk.priority.sla import SlaPolicy
from socialdesk.routing.selection import RoutingPolicy
from socialdesk.simulation.engine import RunOutcome, TeamConfig, simulate
from socialdesk.simulation.handling import Distribution, HandlingTimes
from socialdesk.simulation.items import ItemSource
from socialdesk.simulation.metrics import percentile, summarize
from tests.simulation.factories import fixed_handling, items, message, vip_complaint


def minutes(source: ItemSource, moments: list[float | None]) -> list[float | None]:
    return [
        None if at is None else round((at - item.arrival) / 60.0, 6)
        for item, at in zip(source.items, moments, strict=True)
    ]


def three_items() -> ItemSource:
    # Ten minutes of work each, the first reply after two of them.
    return items([message(0, 0), message(1, 1), message(2, 2)], fixed_handling(10, first=2))


def test_answered_items_free_the_slot_and_first_replies_go_before_follow_up_work() -> None:
    source = three_items()
    outcome = simulate(source, "fifo", TeamConfig(agents=1))
    # First replies at minutes 2, 4 and 6; then the rest of each, oldest first.
    assert minutes(source, outcome.first) == [2.0, 3.0, 4.0]
    assert minutes(source, outcome.done) == [14.0, 21.0, 28.0]
    report = summarize(source, outcome)
    assert report["frt_minutes"]["p50"] == 3.0
    assert report["completion_minutes"]["p50"] == 21.0
    assert report["handled"] == 3


def test_answered_items_that_hold_their_slot_are_worked_to_the_end_first() -> None:
    source = three_items()
    outcome = simulate(source, "fifo", TeamConfig(agents=1, answered_holds_slot=True))
    assert minutes(source, outcome.first) == [2.0, 11.0, 20.0]
    assert minutes(source, outcome.done) == [10.0, 19.0, 28.0]


def test_follow_up_work_stops_for_a_new_first_reply_and_resumes_where_it_stopped() -> None:
    source = items([message(0, 0), message(1, 5)], fixed_handling(10, first=2))
    outcome = simulate(source, "fifo", TeamConfig(agents=1))
    # Item 0's rest runs 2..5, stops for item 1's reply (5..7), goes on 7..12.
    assert minutes(source, outcome.first) == [2.0, 2.0]
    assert minutes(source, outcome.done) == [12.0, 15.0]
    agent = outcome.agents[0]
    assert agent.busy_seconds == pytest.approx(20 * 60.0)  # no work lost or counted twice


def test_under_value_the_top_class_follow_up_work_goes_first_too() -> None:
    # A cheap question at 0 and a VIP complaint at 1: both answered by minute 4; then fifo
    # does the rest in arrival order, value the VIP's first.
    source = items([message(0, 0), vip_complaint(1, 1)], fixed_handling(10, first=2))
    team = TeamConfig(agents=1)
    fifo = simulate(source, "fifo", team)
    value = simulate(source, "value", team)
    assert minutes(source, fifo.first) == minutes(source, value.first) == [2.0, 3.0]
    assert minutes(source, fifo.done) == [12.0, 19.0]
    assert minutes(source, value.done) == [20.0, 11.0]


def test_an_agent_leaving_hands_the_follow_up_work_to_the_team() -> None:
    # Two agents until 10:00, then one: agent 2's unfinished work goes to agent 1.
    staffing = (1,) * 9 + (2,) + (1,) * 14
    source = items([message(0, 50), message(1, 51)], fixed_handling(30, first=2))
    outcome = simulate(source, "fifo", TeamConfig(staffing=staffing))
    assert outcome.assigned == [1, 2]
    assert minutes(source, outcome.first) == [2.0, 2.0]
    # Agent 1: its own rest 52..80, then agent 2's last 21 minutes, 80..101.
    assert minutes(source, outcome.done) == [30.0, 50.0]


def test_a_reply_finished_after_the_shift_leaves_the_rest_to_the_team() -> None:
    # Agent 2 answers at 10:01, after its last hour, and never comes back.
    source = items([message(0, 50), message(1, 59)], fixed_handling(30, first=2))
    outcome = simulate(source, "fifo", TeamConfig(timeline=(2, 1)))
    assert outcome.assigned == [1, 2]
    # Agent 1: its own rest 52..80, then agent 2's 28 minutes, 80..108.
    assert minutes(source, outcome.done) == [30.0, 49.0]


def test_the_service_level_is_met_by_the_first_reply() -> None:
    # X promises 30 minutes. In one sitting, the second item is answered after 39 minutes;
    # with a quick first reply both are answered in time.
    events = [message(0, 0), message(1, 1)]
    one_sitting = items(events, fixed_handling(20))
    quick = items(events, fixed_handling(20, first=2))
    team = TeamConfig(agents=1)
    assert summarize(one_sitting, simulate(one_sitting, "fifo", team))["sla_attainment"] == 0.5
    assert summarize(quick, simulate(quick, "fifo", team))["sla_attainment"] == 1.0


def test_first_replies_are_drawn_apart_and_never_outlast_the_handling() -> None:
    times = HandlingTimes.from_dict(
        {"default": {"dist": "fixed", "mean": 3}, "first_reply": {"dist": "fixed", "mean": 2}}
    )
    rng = random.Random(1)
    assert times.sample_first_reply(rng, "x", 3.0) == 2.0
    assert times.sample_first_reply(rng, "x", 1.5) == 1.5  # a one-touch item
    assert HandlingTimes.from_dict({"first_reply": None}).sample_first_reply(rng, "x", 7) == 7
    assert HandlingTimes().first_reply == Distribution("lognormal", 2.0, 0.5)
    with pytest.raises(ValueError, match="mean"):
        HandlingTimes.from_dict({"first_reply": {"dist": "fixed", "mean": 0}})


def test_modelling_first_replies_leaves_the_handling_times_of_a_seed_alone() -> None:
    events = [message(n, n, kind="complaint") for n in range(30)]
    with_first = items(events, HandlingTimes())
    one_sitting = items(events, HandlingTimes(first_reply=None))
    assert [i.handling_minutes for i in with_first.items] == [
        i.handling_minutes for i in one_sitting.items
    ]
    assert all(i.first_reply_minutes <= i.handling_minutes for i in with_first.items)
    assert [i.first_reply_minutes for i in one_sitting.items] == [
        i.handling_minutes for i in one_sitting.items
    ]


def burst_then_vips() -> ItemSource:
    """60 cheap questions within 6 minutes, then a VIP complaint every 5 minutes for 50
    minutes: 8 minutes of work each, the first reply after 1 of them, and 2 agents."""
    cheap = [message(n, n / 10) for n in range(60)]
    vips = [vip_complaint(100 + k, 6 + 5 * k) for k in range(10)]
    return items(cheap + vips, fixed_handling(8, first=1), SlaPolicy())


def vip_frt(source: ItemSource, outcome: RunOutcome) -> list[float]:
    return [
        (first - i.arrival) / 60.0
        for i, first in zip(source.items, outcome.first, strict=True)
        if i.kind == "complaint" and first is not None
    ]


@pytest.mark.parametrize("holds", [False, True])
def test_in_a_burst_value_answers_the_valuable_first_and_fifo_does_not(holds: bool) -> None:
    source = burst_then_vips()
    team = TeamConfig(agents=2, answered_holds_slot=holds)
    sla = SlaPolicy()
    routing = RoutingPolicy(
        pressure_weight=sla.pressure_weight,
        rescue_after=sla.rescue_after,
        top_class_from=sla.top_class_from,
    )
    fifo = simulate(source, "fifo", team)
    value = simulate(source, "value", team, routing)
    assert all(first is not None for first in value.first)  # everything answered
    vip_fifo = percentile(vip_frt(source, fifo), 90)
    vip_value = percentile(vip_frt(source, value), 90)
    assert vip_fifo is not None and vip_value is not None
    # fifo answers the VIPs after the burst's first replies (30 minutes for two agents)
    # or, with answered items holding the slot, after its whole work (four hours).
    assert vip_fifo > 15
    # value: the next agent to free a slot answers each VIP; a reply takes 1 minute, and
    # a slot frees within 1 minute, or, held to the end, within 8.
    assert vip_value <= (2 if not holds else 9)
    assert vip_value * 3 <= vip_fifo
