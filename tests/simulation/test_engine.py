"""The simulated care team: how each policy hands out work, minute by minute."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from socialdesk.channels.events import InboundEvent
from socialdesk.priority.scoring import ValuePolicy
from socialdesk.priority.sla import SlaPolicy
from socialdesk.routing.selection import RoutingPolicy
from socialdesk.simulation.engine import RunOutcome, TeamConfig, simulate
from socialdesk.simulation.handling import HandlingTimes
from socialdesk.simulation.items import ItemSource, build_items
from socialdesk.simulation.metrics import summarize
from socialdesk.simulation.traffic import BrandProfile, generate
from tests.simulation.factories import fixed_handling, items, message, vip_complaint


def frt_minutes(source: ItemSource, outcome: RunOutcome) -> list[float | None]:
    """Minutes to each item's first reply (here the whole handling: one sitting)."""
    result: list[float | None] = []
    for item in source.items:
        first = outcome.first[item.index]
        result.append(None if first is None else round((first - item.arrival) / 60.0, 6))
    return result


def test_fifo_answers_in_arrival_order_with_one_agent() -> None:
    source = items([message(0, 0), message(1, 1), message(2, 2)], fixed_handling(10))
    outcome = simulate(source, "fifo", TeamConfig(agents=1))
    assert frt_minutes(source, outcome) == [10.0, 19.0, 28.0]


def test_value_takes_the_valuable_item_first_fifo_the_oldest() -> None:
    events = [
        message(0, 0),
        message(1, 1, channel="facebook", visibility="private"),  # a low-value DM
        vip_complaint(2, 2),
    ]
    source = items(events, fixed_handling(10))
    assert source.items[2].value > source.items[1].value + 30
    fifo = frt_minutes(source, simulate(source, "fifo", TeamConfig(agents=1)))
    value = frt_minutes(source, simulate(source, "value", TeamConfig(agents=1)))
    assert fifo == [10.0, 19.0, 28.0]
    assert value == [10.0, 29.0, 18.0]


def test_value_never_starves_a_low_value_item() -> None:
    # One agent always has a fresh VIP complaint to do; the SLA's time pressure still
    # brings the humble question (30 minutes target on X) to the front.
    events = [vip_complaint(0, 0), message(1, 0.5)]
    events += [vip_complaint(n, 10.0 * (n - 1) + 1) for n in range(2, 32)]
    source = items(events, fixed_handling(10))
    outcome = simulate(source, "value", TeamConfig(agents=1))
    report = summarize(source, outcome)
    assert report["response_rate"] == 1.0
    humble = frt_minutes(source, outcome)[1]
    assert humble is not None and humble < 90


def test_round_robin_leaves_work_with_a_busy_agent_while_another_is_free() -> None:
    events = [message(0, 0, kind="complaint"), message(1, 1), message(2, 2)]
    source = items(events, fixed_handling(5, complaint=60))
    rr = frt_minutes(source, simulate(source, "round_robin", TeamConfig(agents=2)))
    fifo = frt_minutes(source, simulate(source, "fifo", TeamConfig(agents=2)))
    assert rr == [60.0, 5.0, 63.0]  # the third item waits for agent 1's complaint
    assert fifo == [60.0, 5.0, 9.0]  # agent 2 takes it when free


def test_a_follow_up_joins_its_open_conversation() -> None:
    events = [
        message(0, 0),
        message(1, 1, customer="dana"),
        message(2, 2, customer="dana", conversation="e1"),
    ]
    source = items(events, fixed_handling(10))
    outcome = simulate(source, "fifo", TeamConfig(agents=1))
    assert outcome.absorbed == [False, False, True]
    report = summarize(source, outcome)
    assert report["items"] == 2
    assert report["followups_joined"] == 1
    assert report["response_rate"] == 1.0


def test_customers_who_give_up_are_counted_as_abandoned() -> None:
    source = items([message(0, 0), message(1, 1), message(2, 2)], fixed_handling(10))
    outcome = simulate(source, "fifo", TeamConfig(agents=1, patience_hours=0.25))
    assert outcome.abandoned == [False, False, True]
    report = summarize(source, outcome)
    assert report["abandoned"] == 1
    assert report["gave_up"] == 1
    assert report["response_rate"] == pytest.approx(2 / 3, abs=1e-4)


def test_nobody_on_duty_at_night_means_night_items_wait_for_the_morning() -> None:
    night = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    staffing = (0,) * 8 + (2,) * 16
    source = items([message(0, 0, start=night)], fixed_handling(10))
    outcome = simulate(source, "value", TeamConfig(staffing=staffing))
    assert frt_minutes(source, outcome) == [6 * 60 + 10.0]


def test_sla_attainment_uses_the_production_due_times() -> None:
    # X promises 30 minutes, so with 20-minute handling and one agent the first item is
    # on time and the second (answered after 39 minutes) is late.
    source = items([message(0, 0), message(1, 1)], fixed_handling(20))
    report = summarize(source, simulate(source, "fifo", TeamConfig(agents=1)))
    assert report["sla_attainment"] == 0.5
    assert source.items[0].sla_target_minutes == 30.0


@pytest.fixture(scope="module")
def generated() -> ItemSource:
    events = generate(BrandProfile(), datetime(2026, 11, 23, 8, tzinfo=UTC),
                      timedelta(hours=6), 80.0, seed=3)  # fmt: skip
    return build_items(
        events,
        value_policy=ValuePolicy(),
        sla_policy=SlaPolicy(),
        handling=HandlingTimes(),
        seed=3,
    )


@pytest.mark.parametrize("holds", [False, True])
@pytest.mark.parametrize("policy", ["fifo", "round_robin", "value"])
def test_no_agent_ever_holds_more_items_than_its_slots(
    generated: ItemSource, policy: str, holds: bool
) -> None:
    # An item holds its slot until its first reply, or until its work is done where the
    # team says answered items keep their slot.
    outcome = simulate(generated, policy, TeamConfig(agents=4, slots=2, answered_holds_slot=holds))
    spans: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for item in generated.items:
        agent = outcome.assigned[item.index]
        started, first = outcome.started[item.index], outcome.first[item.index]
        done = outcome.done[item.index]
        if agent is None:
            continue
        assert started is not None and first is not None and done is not None
        assert item.arrival <= started < first <= done
        # The whole work is done, in one piece or in several.
        assert done - started >= item.handling_minutes * 60.0 - 1e-6
        spans[agent] += [(started, 1), (done if holds else first, -1)]
    assert spans
    for changes in spans.values():
        load = 0
        for _, change in sorted(changes, key=lambda c: (c[0], c[1])):
            load += change
            assert load <= 2


@pytest.mark.parametrize("policy", ["fifo", "round_robin", "value"])
def test_with_enough_agents_every_item_is_answered(generated: ItemSource, policy: str) -> None:
    report = summarize(generated, simulate(generated, policy, TeamConfig(agents=10)))
    assert report["response_rate"] == 1.0
    assert report["abandoned"] == 0
    assert 0.0 < report["utilisation"] < 1.0


def test_same_inputs_same_outcome(generated: ItemSource) -> None:
    first = simulate(generated, "value", TeamConfig(agents=5))
    second = simulate(generated, "value", TeamConfig(agents=5))
    assert first.done == second.done
    assert first.assigned == second.assigned


def test_bad_team_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="24"):
        TeamConfig(staffing=(1, 2, 3))
    with pytest.raises(ValueError, match="no agent"):
        TeamConfig(staffing=(0,) * 24)
    with pytest.raises(ValueError, match="at least one agent"):
        TeamConfig(agents=0)
    source = items([message(0, 0)], fixed_handling(1))
    with pytest.raises(ValueError, match="unknown policy 'lottery'"):
        simulate(source, "lottery", TeamConfig())


def test_a_breach_raises_the_waiting_items_priority_as_the_sla_monitor_does() -> None:
    # Time pressure off, so only the breach boost can lift the humble question (due after
    # 30 minutes on X) above a fresh VIP complaint when the agent frees up at minute 40.
    events = [message(0, 0), message(1, 1), vip_complaint(2, 35)]
    source = items(events, fixed_handling(40, complaint=10))
    no_pressure = RoutingPolicy(pressure_weight=0.0)
    team = TeamConfig(agents=1)
    boosted = simulate(source, "value", team, no_pressure, breach_boost=1000.0)
    plain = simulate(source, "value", team, no_pressure, breach_boost=0.0)
    assert frt_minutes(source, boosted)[1] == 79.0  # answered first, at 40 + 40
    assert frt_minutes(source, plain)[1] == 89.0  # after the complaint: 40 + 10 + 40


def test_round_robin_re_deals_the_queue_of_an_agent_who_goes_off_duty() -> None:
    # From 10:00 only agent 1 is on duty; agent 2 finishes its complaint but leaves its
    # queued question behind, which must go to agent 1 rather than wait forever.
    staffing = (1,) * 9 + (2,) + (1,) * 14
    events = [
        message(0, 0, kind="complaint"),
        message(1, 1, kind="complaint"),
        message(2, 2),
        message(3, 3),
    ]
    source = items(events, fixed_handling(5, complaint=60))
    outcome = simulate(source, "round_robin", TeamConfig(staffing=staffing))
    assert outcome.assigned == [1, 2, 1, 1]
    assert frt_minutes(source, outcome) == [60.0, 60.0, 63.0, 67.0]


def test_round_robin_with_a_sweep_deals_new_items_only_when_the_sweep_comes() -> None:
    source = items([message(0, 0), message(1, 1), message(2, 16)], fixed_handling(5))
    team = TeamConfig(agents=2, sweep_minutes=15)
    outcome = simulate(source, "round_robin", team)
    assert frt_minutes(source, outcome) == [20.0, 19.0, 19.0]  # sweeps at 15 and 30
    assert outcome.assigned == [1, 2, 1]
    # Other policies do not sweep.
    assert frt_minutes(source, simulate(source, "fifo", team)) == [5.0, 5.0, 5.0]


def test_team_languages_are_spread_over_the_agents() -> None:
    team = TeamConfig(agents=4, languages={"es": 2, "fr": 1})
    assert team.agent_languages() == [
        frozenset({"en", "es"}),
        frozenset({"en", "es"}),
        frozenset({"en", "fr"}),
        frozenset({"en"}),
    ]
    assert TeamConfig(agents=2).agent_languages() == [frozenset(), frozenset()]


def spanish(n: int, minute: float) -> InboundEvent:
    event = message(n, minute)
    event.extra["sim"]["language"] = "es"
    return event


def test_value_hands_a_spanish_message_to_the_spanish_speaker() -> None:
    source = items([spanish(0, 0)], fixed_handling(10))
    team = TeamConfig(agents=2, languages={"de": 1, "es": 1})  # agent 2 speaks Spanish
    value = simulate(source, "value", team)
    assert value.assigned == [2]
    assert frt_minutes(source, value) == [10.0]
    fifo = simulate(source, "fifo", team)  # language-blind: the longest idle, agent 1
    assert fifo.assigned == [1]
    assert frt_minutes(source, fifo) == [15.0]  # answered in a foreign language: x1.5


def test_with_no_speaker_the_item_overflows_to_anyone_after_a_while() -> None:
    source = items([spanish(0, 0)], fixed_handling(10))
    team = TeamConfig(agents=1, languages={"es": 0})  # nobody speaks Spanish
    widening = RoutingPolicy(overflow_languages_after=timedelta(minutes=30))
    outcome = simulate(source, "value", team, widening)
    assert frt_minutes(source, outcome) == [30.0 + 15.0]


def test_value_follows_the_workspaces_own_weights() -> None:
    # A workspace that only cares about visibility: a public nobody beats a private VIP.
    only_visibility = ValuePolicy().with_weights(
        customer_value=0, influence=0, sentiment=0, kind=0, urgency=0, virality=0,
        sales_opportunity=0, repeat_contact=0, visibility=50,
    )  # fmt: skip
    vip_dm = message(
        1, 1, tier="platinum", followers=900_000, verified=True, visibility="private",
        kind="complaint", sentiment="negative", severity=1.0,
    )  # fmt: skip
    events = [message(0, 0), vip_dm, message(2, 2)]
    source = build_items(
        events,
        value_policy=only_visibility,
        sla_policy=SlaPolicy(),
        handling=fixed_handling(10),
        seed=0,
    )
    assert [i.value for i in source.items] == [50.0, 0.0, 50.0]
    outcome = simulate(source, "value", TeamConfig(agents=1))
    assert frt_minutes(source, outcome) == [10.0, 29.0, 18.0]
