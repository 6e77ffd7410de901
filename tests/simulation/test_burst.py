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
    return RoutingPolicy(pressure_weight=sla.pressure_weight, rescue_after=sla.rescue_after)


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
    rescue = SlaPolicy(rescue_after=timedelta(hours=1))
    never = SlaPolicy(rescue_after=None)
    source = items(burst_then_vips(), fixed_handling(5), rescue)
    rescued = simulate(source, "value", TEAM, routing(rescue))
    starved = simulate(source, "value", TEAM, routing(never))
    # Target 30 minutes + rescue 60 + the 40 rescued items ahead at 2 per 5 minutes.
    bound = 30 + 60 + 40 * 5 / 2
    assert max(waits(source, rescued, vip=False)) <= bound
    assert max(waits(source, starved, vip=False)) > bound
    assert all(done is not None for done in rescued.done)
