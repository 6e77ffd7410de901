"""Who gets which task: eligibility, fit, tie-breaks, stickiness, overflow, and task order.

Pure functions over frozen views of agents and tasks, with ``now`` passed in (the injected
clock). The distributor, the benchmarks and the simulator all decide with this code.

Rules, in order:
1. Eligible: online; a member of the task's team, or of a team of the task's queue (care,
   marketing, sales, other), so marketing and sales items never reach care; free capacity
   on the task's channel; speaks the task's language; knows its topic and may serve its
   customer tier (agents with no topics / tiers listed are generalists).
2. Overflow: once a task has waited ``overflow_after``, topic and tier requirements are
   dropped; after ``overflow_languages_after`` (if set) the language too.
3. Stickiness: the agent who last handled the customer wins if eligible and free.
4. Best fit first (explicit skill matches), then least loaded, then longest idle, then id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from socialdesk.core.clock import as_utc
from socialdesk.priority.sla import (
    DEFAULT_PRESSURE_WEIGHT,
    DEFAULT_RESCUE_AFTER,
    DEFAULT_TOP_CLASS_FROM,
    effective_priority,
    effective_priority_ts,
)


class Presence:
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"
    ALL = (ONLINE, AWAY, OFFLINE)


_EMPTY: Mapping[str, int] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class AgentView:
    """An agent as selection sees it. ``capacity`` lists the channels the agent works and
    how many items of each it can hold at once; ``load`` how many it holds now."""

    id: int
    presence: str = Presence.ONLINE
    queues: frozenset[str] = frozenset({"care"})  # kinds of the agent's teams
    team_ids: frozenset[int] = frozenset()
    languages: frozenset[str] = frozenset()  # empty: any language
    topics: frozenset[str] = frozenset()  # empty: generalist
    tiers: frozenset[str] = frozenset()  # empty: any customer tier
    capacity: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    load: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    idle_since: datetime | None = None  # last time the agent got work; None: never

    def free_slots(self, channel: str) -> int:
        return self.capacity.get(channel, 0) - self.load.get(channel, 0)

    @property
    def load_ratio(self) -> float:
        total = sum(self.capacity.values())
        return sum(self.load.values()) / total if total else 1.0

    def with_one_more(self, channel: str, now: datetime) -> AgentView:
        """The same agent after taking one more item on ``channel``."""
        load = dict(self.load)
        load[channel] = load.get(channel, 0) + 1
        return AgentView(
            self.id,
            self.presence,
            self.queues,
            self.team_ids,
            self.languages,
            self.topics,
            self.tiers,
            self.capacity,
            MappingProxyType(load),
            as_utc(now),
        )


@dataclass(frozen=True, slots=True)
class TaskView:
    """A task waiting for an agent, as selection sees it."""

    id: int
    channel: str
    waiting_since: datetime
    queue: str = "care"
    priority: float = 0.0  # value score plus any breach boost
    due_at: datetime | None = None
    team_id: int | None = None  # a transfer to a team pins the task to it
    language: str | None = None
    topic: str | None = None
    customer_tier: str | None = None
    last_agent_id: int | None = None  # who last handled this customer (stickiness)
    avoid_agent_id: int | None = None  # who let it breach: hand it to someone else


@dataclass(frozen=True, slots=True)
class RoutingPolicy:
    overflow_after: timedelta | None = timedelta(minutes=10)
    overflow_languages_after: timedelta | None = None
    sticky: bool = True
    # The SLA policy's ordering knobs (``priority.sla.effective_priority_ts``).
    pressure_weight: float = DEFAULT_PRESSURE_WEIGHT
    rescue_after: timedelta | None = DEFAULT_RESCUE_AFTER
    top_class_from: float | None = DEFAULT_TOP_CLASS_FROM

    @property
    def rescue_after_seconds(self) -> float | None:
        return None if self.rescue_after is None else self.rescue_after.total_seconds()

    topic_fit: int = 4
    tier_fit: int = 2
    language_fit: int = 1


@dataclass(frozen=True, slots=True)
class Selection:
    agent_id: int
    fit: int
    sticky: bool = False
    widened: bool = False  # chosen only thanks to overflow


@dataclass(frozen=True, slots=True)
class Widening:
    """Which requirements are relaxed for a task at a given moment."""

    skills: bool = False  # topics and tiers
    language: bool = False


def widening(task: TaskView, now: datetime, policy: RoutingPolicy) -> Widening:
    waited = as_utc(now) - as_utc(task.waiting_since)
    skills = policy.overflow_after is not None and waited >= policy.overflow_after
    language = (
        policy.overflow_languages_after is not None and waited >= policy.overflow_languages_after
    )
    return Widening(skills=skills, language=language)


def _in_scope(agent: AgentView, task: TaskView) -> bool:
    if task.team_id is not None:
        return task.team_id in agent.team_ids
    return task.queue in agent.queues


def _skilled(agent: AgentView, task: TaskView, widen: Widening) -> bool:
    if (
        not widen.language
        and task.language is not None
        and agent.languages
        and task.language not in agent.languages
    ):
        return False
    if widen.skills:
        return True
    if task.topic is not None and agent.topics and task.topic not in agent.topics:
        return False
    return not (
        task.customer_tier is not None and agent.tiers and task.customer_tier not in agent.tiers
    )


def is_eligible(
    agent: AgentView, task: TaskView, widen: Widening = Widening(), *, need_free_slot: bool = True
) -> bool:
    if agent.presence != Presence.ONLINE or not _in_scope(agent, task):
        return False
    if agent.id == task.avoid_agent_id:
        return False
    if need_free_slot and agent.free_slots(task.channel) <= 0:
        return False
    if agent.capacity.get(task.channel, 0) <= 0:
        return False
    return _skilled(agent, task, widen)


def fit_score(agent: AgentView, task: TaskView, policy: RoutingPolicy = RoutingPolicy()) -> int:
    """Explicit skill matches; a specialist in the topic beats a generalist."""
    fit = 0
    if task.topic is not None and task.topic in agent.topics:
        fit += policy.topic_fit
    if task.customer_tier is not None and task.customer_tier in agent.tiers:
        fit += policy.tier_fit
    if task.language is not None and task.language in agent.languages:
        fit += policy.language_fit
    return fit


def _idle_key(agent: AgentView) -> float:
    return float("-inf") if agent.idle_since is None else as_utc(agent.idle_since).timestamp()


def rank_key(
    agent: AgentView, task: TaskView, policy: RoutingPolicy = RoutingPolicy()
) -> tuple[float, float, float, int]:
    """Smaller is better: best fit, least loaded, longest idle, lowest id."""
    return (-fit_score(agent, task, policy), agent.load_ratio, _idle_key(agent), agent.id)


def choose_agent(
    task: TaskView,
    agents: Iterable[AgentView],
    now: datetime,
    policy: RoutingPolicy = RoutingPolicy(),
) -> Selection | None:
    """The agent who should get ``task`` now, or None if nobody eligible is free."""
    widen = widening(task, now, policy)
    strict: list[AgentView] = []
    widened: list[AgentView] = []
    for agent in agents:
        if is_eligible(agent, task):
            strict.append(agent)
        elif (widen.skills or widen.language) and is_eligible(agent, task, widen):
            widened.append(agent)
    pool = strict or widened
    if not pool:
        return None
    if policy.sticky and task.last_agent_id is not None:
        for agent in pool:
            if agent.id == task.last_agent_id:
                return Selection(agent.id, fit_score(agent, task, policy), True, not strict)
    best = min(pool, key=lambda a: rank_key(a, task, policy))
    return Selection(best.id, fit_score(best, task, policy), False, not strict)


def task_priority(task: TaskView, now: datetime, policy: RoutingPolicy = RoutingPolicy()) -> float:
    return effective_priority(
        task.priority,
        task.waiting_since,
        task.due_at,
        now,
        policy.pressure_weight,
        policy.rescue_after,
        policy.top_class_from,
    )


def order_key(
    task: TaskView, now: datetime, policy: RoutingPolicy = RoutingPolicy()
) -> tuple[float, float, int]:
    """Smaller first: highest effective priority, then the longest waiting, then id."""
    return order_key_ts(
        task.priority,
        as_utc(task.waiting_since).timestamp(),
        None if task.due_at is None else as_utc(task.due_at).timestamp(),
        task.id,
        as_utc(now).timestamp(),
        policy.pressure_weight,
        policy.rescue_after_seconds,
        policy.top_class_from,
    )


def order_key_ts(
    priority: float,
    waiting_since: float,
    due: float | None,
    task_id: int,
    now: float,
    pressure_weight: float,
    rescue_after: float | None,
    top_class_from: float | None,
) -> tuple[float, float, int]:
    """``order_key`` on POSIX timestamps (what indexes over many tasks use)."""
    return (
        -effective_priority_ts(
            priority, waiting_since, due, now, pressure_weight, rescue_after, top_class_from
        ),
        waiting_since,
        task_id,
    )


def order_tasks(
    tasks: Iterable[TaskView], now: datetime, policy: RoutingPolicy = RoutingPolicy()
) -> list[TaskView]:
    """The work list: highest effective priority (value plus time pressure) first."""
    return sorted(tasks, key=lambda t: order_key(t, now, policy))


def choose_task(
    agent: AgentView,
    tasks: Iterable[TaskView],
    now: datetime,
    policy: RoutingPolicy = RoutingPolicy(),
) -> TaskView | None:
    """The task an agent with a free slot should take next (highest effective priority
    among those it may take, overflow included); None when there is none."""
    best: TaskView | None = None
    best_key: tuple[float, float, int] | None = None
    for task in tasks:
        if not is_eligible(agent, task, widening(task, now, policy)):
            continue
        key = order_key(task, now, policy)
        if best_key is None or key < best_key:
            best, best_key = task, key
    return best


def plan_assignments(
    tasks: Iterable[TaskView],
    agents: Sequence[AgentView],
    now: datetime,
    policy: RoutingPolicy = RoutingPolicy(),
) -> list[tuple[int, int]]:
    """Pairs (task id, agent id) for the waiting tasks, highest priority first, each agent
    kept within capacity. A reference greedy planner; the distributor does the same with
    indexes over its in-memory views."""
    pool = {a.id: a for a in agents}
    plan: list[tuple[int, int]] = []
    for task in order_tasks(tasks, now, policy):
        choice = choose_agent(task, pool.values(), now, policy)
        if choice is None:
            continue
        plan.append((task.id, choice.agent_id))
        pool[choice.agent_id] = pool[choice.agent_id].with_one_more(task.channel, now)
    return plan
