"""Ways to hand work to agents, compared by the simulator.

- ``fifo``: one queue, oldest first, to whichever agent frees up (the usual shared inbox).
- ``round_robin``: each item goes to the next agent in turn on arrival and waits in that
  agent's own queue (the peers' assignment rule).
- ``value``: socialdesk's distribution, calling the production selection code
  (socialdesk.routing.selection): a new item goes to the best free agent
  (``choose_agent``), a freed agent takes the item of highest effective priority, that is
  business value plus service-level time pressure (``choose_task``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Protocol

from socialdesk.routing.selection import (
    AgentView,
    Presence,
    RoutingPolicy,
    TaskView,
    choose_agent,
    choose_task,
)
from socialdesk.simulation.items import SimItem

POLICIES = ("fifo", "round_robin", "value")
SIM_CHANNELS = ("x", "facebook", "instagram", "email", "webhook")


@dataclass(slots=True)
class Agent:
    id: int
    slots: int
    busy: int = 0
    on_shift: bool = True
    last_start: float | None = None  # when the agent last got work (seconds)
    busy_seconds: float = 0.0
    shift_seconds: float = 0.0
    handled: int = 0
    languages: frozenset[str] = frozenset()  # empty: languages are not modelled

    @property
    def free(self) -> bool:
        return self.on_shift and self.busy < self.slots

    def speaks(self, language: str | None) -> bool:
        return not self.languages or language is None or language in self.languages


class Policy(Protocol):
    name: str

    def arrive(self, item: SimItem, free: Sequence[Agent], now: float) -> Agent | None:
        """Place a new item: the agent to start it now, or None (it waits)."""
        ...

    def next_for(self, agent: Agent, now: float) -> SimItem | None:
        """The waiting item an agent with a free slot takes now, if any."""
        ...

    def withdraw(self, item: SimItem) -> bool:
        """Remove a waiting item (the customer gave up); False if it was not waiting."""
        ...

    def off_shift(self, agent: Agent, on_shift: Sequence[Agent]) -> None:
        """The agent left; items only that agent would take need a new home."""
        ...

    def waiting(self) -> int: ...


def _longest_idle(free: Sequence[Agent]) -> Agent | None:
    if not free:
        return None
    return min(free, key=lambda a: (a.busy / a.slots, a.last_start or -1.0, a.id))


class Fifo:
    name = "fifo"

    def __init__(self) -> None:
        self._queue: dict[int, SimItem] = {}  # insertion order is arrival order

    def arrive(self, item: SimItem, free: Sequence[Agent], now: float) -> Agent | None:
        agent = _longest_idle(free)
        if agent is None:
            self._queue[item.index] = item
        return agent

    def next_for(self, agent: Agent, now: float) -> SimItem | None:
        if not self._queue:
            return None
        index = next(iter(self._queue))
        return self._queue.pop(index)

    def withdraw(self, item: SimItem) -> bool:
        return self._queue.pop(item.index, None) is not None

    def off_shift(self, agent: Agent, on_shift: Sequence[Agent]) -> None:
        return None

    def waiting(self) -> int:
        return len(self._queue)


class RoundRobin:
    """Deals items to agents in turn. With ``sweep_seconds`` new items are only dealt by a
    periodic sweep (the peers sweep every 15 minutes); without, as they arrive."""

    name = "round_robin"

    def __init__(self, agents: Sequence[Agent], sweep_seconds: float = 0.0) -> None:
        self._agents = list(agents)
        self._turn = 0
        self._queues: dict[int, dict[int, SimItem]] = {a.id: {} for a in agents}
        self._pending: dict[int, SimItem] = {}
        self._count = 0
        self.sweep_seconds = sweep_seconds

    def _next_agent(self) -> Agent:
        on_shift = [a for a in self._agents if a.on_shift] or self._agents
        agent = on_shift[self._turn % len(on_shift)]
        self._turn += 1
        return agent

    def arrive(self, item: SimItem, free: Sequence[Agent], now: float) -> Agent | None:
        self._count += 1
        if self.sweep_seconds > 0:
            self._pending[item.index] = item
            return None
        agent = self._next_agent()
        if agent.free and not self._queues[agent.id]:
            self._count -= 1
            return agent
        self._queues[agent.id][item.index] = item
        return None

    def sweep(self) -> None:
        """Deal the items that arrived since the last sweep."""
        pending, self._pending = self._pending, {}
        for item in pending.values():
            self._queues[self._next_agent().id][item.index] = item

    def next_for(self, agent: Agent, now: float) -> SimItem | None:
        queue = self._queues[agent.id]
        if not queue:
            return None
        self._count -= 1
        return queue.pop(next(iter(queue)))

    def withdraw(self, item: SimItem) -> bool:
        for queue in (self._pending, *self._queues.values()):
            if queue.pop(item.index, None) is not None:
                self._count -= 1
                return True
        return False

    def off_shift(self, agent: Agent, on_shift: Sequence[Agent]) -> None:
        # The peers re-deal a departed agent's items on the next sweep; do it at once.
        left = self._queues[agent.id]
        self._queues[agent.id] = {}
        for item in sorted(left.values(), key=lambda i: i.index):
            target = self._next_agent()
            self._queues[target.id][item.index] = item

    def waiting(self) -> int:
        return self._count


@dataclass(slots=True)
class _ValueState:
    tasks: dict[int, TaskView] = field(default_factory=dict)
    items: dict[int, SimItem] = field(default_factory=dict)


class ValueFirst:
    """socialdesk's own distribution: the production selection functions decide."""

    name = "value"

    def __init__(
        self,
        start: datetime,
        routing: RoutingPolicy,
        breach_boost: float,
        languages: bool = False,
    ) -> None:
        self._start = start
        self._languages = languages
        self._routing = routing
        self._breach_boost = breach_boost
        self._state = _ValueState()
        self.last_agent: dict[str, int] = {}  # customer -> agent who last handled them

    def _now(self, now: float) -> datetime:
        return self._start + timedelta(seconds=now)

    def _view(self, agent: Agent) -> AgentView:
        capacity = MappingProxyType(dict.fromkeys(SIM_CHANNELS, agent.slots))
        load = MappingProxyType(dict.fromkeys(SIM_CHANNELS, agent.busy))
        idle = None if agent.last_start is None else self._now(agent.last_start)
        return AgentView(
            id=agent.id,
            presence=Presence.ONLINE if agent.on_shift else Presence.OFFLINE,
            queues=frozenset({"care"}),
            languages=agent.languages,
            capacity=capacity,
            load=load,
            idle_since=idle,
        )

    def _task(self, item: SimItem) -> TaskView:
        return TaskView(
            id=item.index,
            channel=item.channel,
            waiting_since=item.created_at,
            queue="care",
            priority=item.value,
            due_at=item.due_at,
            language=item.language if self._languages else None,
            topic=item.topic,
            customer_tier=item.tier,
            last_agent_id=self.last_agent.get(item.customer),
        )

    def arrive(self, item: SimItem, free: Sequence[Agent], now: float) -> Agent | None:
        task = self._task(item)
        if free:
            by_id = {a.id: a for a in free}
            choice = choose_agent(
                task, [self._view(a) for a in free], self._now(now), self._routing
            )
            if choice is not None:
                return by_id[choice.agent_id]
        self._state.tasks[item.index] = task
        self._state.items[item.index] = item
        return None

    def next_for(self, agent: Agent, now: float) -> SimItem | None:
        if not self._state.tasks:
            return None
        task = choose_task(
            self._view(agent), self._state.tasks.values(), self._now(now), self._routing
        )
        if task is None:
            return None
        del self._state.tasks[task.id]
        return self._state.items.pop(task.id)

    def withdraw(self, item: SimItem) -> bool:
        self._state.items.pop(item.index, None)
        return self._state.tasks.pop(item.index, None) is not None

    def widens_after(self) -> float | None:
        """Seconds after which a waiting item's language requirement is dropped, if ever."""
        after = self._routing.overflow_languages_after
        if not self._languages or after is None:
            return None
        return after.total_seconds()

    def breached(self, item: SimItem) -> None:
        """The SLA monitor's move on a breach: the waiting task's priority jumps."""
        task = self._state.tasks.get(item.index)
        if task is not None:
            self._state.tasks[item.index] = replace(
                task, priority=task.priority + self._breach_boost
            )

    def off_shift(self, agent: Agent, on_shift: Sequence[Agent]) -> None:
        return None

    def waiting(self) -> int:
        return len(self._state.tasks)

    def handled(self, item: SimItem, agent: Agent) -> None:
        self.last_agent[item.customer] = agent.id

    def in_top_class(self, item: SimItem) -> bool:
        """Whether the item is in the top value class (its follow-up work goes first too:
        the agent works their own list in the work list's order)."""
        top = self._routing.top_class_from
        return top is not None and item.value >= top


def make_policy(
    name: str,
    agents: Sequence[Agent],
    start: datetime,
    routing: RoutingPolicy,
    breach_boost: float = 0.0,
    sweep_seconds: float = 0.0,
) -> Policy:
    if name == "fifo":
        return Fifo()
    if name == "round_robin":
        return RoundRobin(agents, sweep_seconds)
    if name == "value":
        return ValueFirst(start, routing, breach_boost, any(a.languages for a in agents))
    raise ValueError(f"unknown policy {name!r}; choose from {', '.join(POLICIES)}")
