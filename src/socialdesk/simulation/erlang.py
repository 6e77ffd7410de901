"""Erlang C: how many agents a queue needs to meet a service level.

The M/M/N model: items arrive at random (Poisson, rate λ), each takes an exponentially
distributed handling time of mean h, N agents serve one queue in order. With the offered
traffic A = λ·h (in erlangs) and N > A:

    C(N, A)  = [A^N / N! · N / (N − A)] / [Σ_{k<N} A^k / k! + A^N / N! · N / (N − A)]
               (the probability that an item has to wait)
    SL(t)    = 1 − C(N, A) · exp(−(N − A) · t / h)
               (the share of items answered within t)
    ASA      = C(N, A) · h / (N − A)
               (the average wait)

C is computed through the Erlang B recursion, B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1)),
C = N·B / (N − A·(1 − B)), which stays exact where the factorials would overflow.
An agent who works several items at once is counted as that many servers: an
approximation, since a real agent's attention is shared.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MAX_AGENTS = 100_000


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability of an N-server loss system with offered traffic A."""
    if agents < 0 or traffic < 0:
        raise ValueError("agents and traffic must be >= 0")
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that an item waits (1.0 when the team cannot keep up: N <= A)."""
    if traffic < 0:
        raise ValueError("traffic must be >= 0")
    if traffic == 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    b = erlang_b(agents, traffic)
    return agents * b / (agents - traffic * (1.0 - b))


def service_level(agents: int, arrival_rate: float, handling_time: float, target: float) -> float:
    """Share of items answered within ``target`` (same time unit as the handling time and
    the inverse of the arrival rate)."""
    traffic = arrival_rate * handling_time
    if traffic == 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    wait = erlang_c(agents, traffic)
    return 1.0 - wait * math.exp(-(agents - traffic) * target / handling_time)


def average_speed_of_answer(agents: int, arrival_rate: float, handling_time: float) -> float:
    traffic = arrival_rate * handling_time
    if traffic == 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return erlang_c(agents, traffic) * handling_time / (agents - traffic)


def agents_needed(
    arrival_rate: float,
    handling_time: float,
    target: float,
    service_level_goal: float,
    *,
    max_occupancy: float = 1.0,
) -> int:
    """The smallest team answering ``service_level_goal`` of items within ``target``."""
    if not 0.0 < service_level_goal < 1.0:
        raise ValueError("the service level goal must lie strictly between 0 and 1")
    if arrival_rate < 0 or handling_time < 0 or target < 0:
        raise ValueError("rates and times must be >= 0")
    if not 0.0 < max_occupancy <= 1.0:
        raise ValueError("max_occupancy must lie in (0, 1]")
    traffic = arrival_rate * handling_time
    if traffic == 0:
        return 0
    agents = max(1, math.floor(traffic) + 1, math.ceil(traffic / max_occupancy))
    while service_level(agents, arrival_rate, handling_time, target) < service_level_goal:
        agents += 1
        if agents > MAX_AGENTS:
            raise ValueError("no team below 100,000 agents meets this service level")
    return agents


@dataclass(frozen=True, slots=True)
class HourStaffing:
    hour: int
    arrivals_per_hour: float
    handling_minutes: float
    traffic_erlangs: float
    agents: int
    service_level: float  # what that team achieves


def staffing_by_hour(
    arrivals_per_hour: Sequence[float],
    handling_minutes: Sequence[float],
    target_minutes: float,
    service_level_goal: float,
    *,
    slots_per_agent: int = 1,
) -> list[HourStaffing]:
    """Agents needed in each hour of the day for the measured arrivals and handling times.

    Each agent counts as ``slots_per_agent`` servers (items worked at once).
    """
    if len(arrivals_per_hour) != len(handling_minutes):
        raise ValueError("one handling time per hour is needed")
    if slots_per_agent < 1:
        raise ValueError("slots_per_agent must be >= 1")
    plan = []
    for hour, (rate, aht) in enumerate(zip(arrivals_per_hour, handling_minutes, strict=True)):
        per_minute = rate / 60.0
        servers = agents_needed(per_minute, aht, target_minutes, service_level_goal)
        agents = math.ceil(servers / slots_per_agent)
        achieved = service_level(agents * slots_per_agent, per_minute, aht, target_minutes)
        plan.append(
            HourStaffing(
                hour=hour,
                arrivals_per_hour=rate,
                handling_minutes=aht,
                traffic_erlangs=per_minute * aht,
                agents=agents,
                service_level=achieved,
            )
        )
    return plan
