"""A burst swamps the team: the valuable items still come first, and none waits for ever."""

from __future__ import annotations

from datetime import timedelta

from socialdesk.channels.events import InboundEvent
from socialdesk.priority.sla import SlaPolicy
from socialdesk.routing.selection import RoutingPolicy
from socialdesk.simulation.engine import RunOutcome, TeamConfig, simulate
from socialdesk.simulation.items import ItemSource
from socialdesk.simulation.metrics import percentile
from tests.simulation.factories import fixed_handling, items, message, vip_complaint

TEAM = TeamConfig(agents=2)


def burst_then_vips() -> list[InboundEvent]:
    """40 cheap questions within 4 minutes, then a VIP complaint every 3 minutes for three
    hours: two agents at 5 minutes an item barely keep up with the VIPs alone."""
    cheap = [message(n, n / 10) for n in range(40)]
    vips = [vip_complaint(100 + k, 5 + 3 * k) for k in range(60)]
    return cheap + vips


def waits(source: ItemSource, outcome: RunOutcome, vip: bool) -> list[float]:
    return [
        ((outcome.started[i.index] or 0.0) - i.arrival) / 60.0
        for i in source.items
        if (i.kind == "complaint") == vip and outcome.started[i.index] is not None
    ]


def routing(sla: SlaPolicy) -> RoutingPolicy:
    return RoutingPolicy(
        pressure_weight=sla.pressure_weight,
        rescue_after=sla.rescue_after,
        top_class_from=sla.top_class_from,
    )


def test_in_a_burst_the_valuable_items_do_not_queue_behind_it() -> None:
    sla = SlaPolicy()
    source = items(burst_then_vips(), fixed_handling(5), sla)
    fifo = simulate(source, "fifo", TEAM)
    value = simulate(source, "value", TEAM, routing(sla))
    assert all(done is not None for done in value.done)  # everything answered
    vip_fifo = percentile(waits(source, fifo, vip=True), 90)
    vip_value = percentile(waits(source, value, vip=True), 90)
    assert vip_fifo is not None and vip_value is not None
    assert vip_fifo > 60  # behind the whole burst
    assert vip_value <= 5  # the next agent to free up takes it
    # Every cheap item has breached; the VIPs, breached or not, keep coming first.
    assert vip_value * 3 <= vip_fifo


def test_the_rescue_bounds_the_wait_of_the_cheap_items_in_a_long_overload() -> None:
    # Without a top value class: here the VIPs alone nearly fill the team, and with the
    # class they would keep the cheap items waiting (its failure mode, see below).
    rescue = SlaPolicy(rescue_after=timedelta(hours=1), top_class_from=None)
    never = SlaPolicy(rescue_after=None, top_class_from=None)
    source = items(burst_then_vips(), fixed_handling(5), rescue)
    rescued = simulate(source, "value", TEAM, routing(rescue))
    starved = simulate(source, "value", TEAM, routing(never))
    # Target 30 minutes + rescue 60 + the 40 rescued items ahead at 2 per 5 minutes.
    bound = 30 + 60 + 40 * 5 / 2
    assert max(waits(source, rescued, vip=False)) <= bound
    assert max(waits(source, starved, vip=False)) > bound
    assert all(done is not None for done in rescued.done)


def backlog_then_vips() -> list[InboundEvent]:
    """120 cheap questions in 10 minutes (five hours of work for two agents), then a VIP
    complaint every 6 minutes for two hours, arriving once the backlog is being rescued."""
    cheap = [message(n, n / 12) for n in range(120)]
    vips = [vip_complaint(1000 + k, 150 + 6 * k) for k in range(20)]
    return cheap + vips


def test_the_top_value_class_goes_before_a_rescued_backlog_and_the_backlog_still_clears() -> None:
    classes = SlaPolicy(rescue_after=timedelta(hours=1))
    flat = SlaPolicy(rescue_after=timedelta(hours=1), top_class_from=None)
    source = items(backlog_then_vips(), fixed_handling(5), classes)
    top_from = classes.top_class_from
    assert top_from is not None
    assert all((i.value >= top_from) == (i.kind == "complaint") for i in source.items)
    with_class = simulate(source, "value", TEAM, routing(classes))
    without = simulate(source, "value", TEAM, routing(flat))
    vip_with = percentile(waits(source, with_class, vip=True), 90)
    vip_without = percentile(waits(source, without, vip=True), 90)
    assert vip_with is not None and vip_without is not None
    # Without the class the rescued backlog (first in, first out) goes before the VIPs.
    assert vip_without > 60
    # With it, the next agent to free up takes each VIP.
    assert vip_with <= 5
    # The VIPs take under half the team, so the backlog still clears: all answered.
    assert all(done is not None for done in with_class.done)
