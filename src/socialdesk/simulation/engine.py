"""The discrete-event simulation of a care team, on SimPy's event loop.

Items arrive at their time; a policy places them; an agent who takes an item writes its
first reply, then does the rest of the work on it. Whether the rest holds the item's slot
is a team setting, as in the product (``answered_holds_slot``, the product's
``waiting_holds_slot``): if it does, the agent takes the next item once the whole work is
done; if not (the product's default: an answered item waits on the customer and frees its
slot), the distributor hands the agent the next item at once, and the agent writes first
replies before any follow-up work (which resumes where it stopped). Follow-ups of a
conversation that is still open join it instead of making a new item (as the pipeline does
with an open task). Agents may work
shifts (agents on duty per hour of day); customers may give up after a patience.
The run ends once all traffic has arrived and every item is answered or given up, or
after the drain time, whichever comes first.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import simpy

from socialdesk.routing.selection import RoutingPolicy
from socialdesk.simulation.incidents import IncidentHandling
from socialdesk.simulation.items import ItemSource, SimItem
from socialdesk.simulation.policies import Agent, Policy, RoundRobin, ValueFirst, make_policy


@dataclass(frozen=True, slots=True)
class TeamConfig:
    agents: int = 6
    slots: int = 1
    """Items an agent works at once."""
    staffing: tuple[int, ...] | None = None
    """Agents on duty per hour of day (24 values, UTC); overrides ``agents``."""
    timeline: tuple[int, ...] | None = None
    """Agents on duty in each hour from the start of the run (the last value holds after
    its end); overrides ``staffing`` and ``agents``."""
    patience_hours: float | None = None
    """Customers give up after this long without an answer (None: they wait)."""
    drain_hours: float = 48.0
    """How long after the last arrival the team keeps working the backlog."""
    sample_minutes: float = 5.0
    sweep_minutes: float = 0.0
    """round_robin only: deal new items by a sweep this often (0: as they arrive)."""
    languages: Mapping[str, int] = field(default_factory=dict)
    """Agents speaking each language besides English (none given: languages not modelled)."""
    foreign_factor: float = 1.5
    """Handling time multiplier when an agent answers in a language they do not speak."""
    answered_holds_slot: bool = False
    """The rest of the work after the first reply keeps the item's slot (the product's
    ``waiting_holds_slot`` team setting); by default the slot frees with the first reply."""

    def __post_init__(self) -> None:
        if self.timeline is not None:
            if not self.timeline or min(self.timeline) < 0 or max(self.timeline) == 0:
                raise ValueError("a staffing timeline needs non-negative counts, one above 0")
        elif self.staffing is not None:
            if len(self.staffing) != 24 or min(self.staffing) < 0:
                raise ValueError("staffing needs 24 non-negative agent counts, one per hour")
            if max(self.staffing) == 0:
                raise ValueError("staffing has no agent in any hour")
        elif self.agents < 1:
            raise ValueError("a team needs at least one agent")
        if self.slots < 1:
            raise ValueError("slots must be >= 1")
        if self.patience_hours is not None and self.patience_hours <= 0:
            raise ValueError("patience must be positive")
        if any(n < 0 for n in self.languages.values()) or self.foreign_factor < 1.0:
            raise ValueError("language counts must be >= 0 and the foreign factor >= 1")
        if self.sweep_minutes < 0:
            raise ValueError("the sweep interval must be >= 0")
        if self.drain_hours < 0 or self.sample_minutes <= 0:
            raise ValueError("drain must be >= 0 and the sample interval > 0")

    @property
    def headcount(self) -> int:
        if self.timeline is not None:
            return max(self.timeline)
        return max(self.staffing) if self.staffing is not None else self.agents

    def on_duty(self, hour: int, index: int = 0) -> int:
        """Agents on duty in hour of day ``hour``, the ``index``-th hour of the run."""
        if self.timeline is not None:
            return self.timeline[min(index, len(self.timeline) - 1)]
        return self.staffing[hour % 24] if self.staffing is not None else self.agents

    def agent_languages(self) -> list[frozenset[str]]:
        """Who speaks what: everyone English, the extra languages spread over the team."""
        if not self.languages:
            return [frozenset()] * self.headcount
        spoken: list[set[str]] = [{"en"} for _ in range(self.headcount)]
        position = 0
        for language, count in sorted(self.languages.items()):
            for _ in range(min(count, self.headcount)):
                spoken[position % self.headcount].add(language)
                position += 1
        return [frozenset(s) for s in spoken]


@dataclass(slots=True)
class _FollowUp:
    """The rest of the work on an answered item."""

    item: SimItem
    remaining: float  # seconds of work left
    since: float = 0.0  # when an agent last started on it
    turn: int = 0  # bumped when the work stops: the process of an older turn lets go


@dataclass(slots=True)
class RunOutcome:
    policy: str
    started: list[float | None]
    first: list[float | None]  # when the first reply was sent (first response)
    done: list[float | None]  # when the agent's work on it ended (handling complete)
    abandoned: list[bool]
    absorbed: list[bool]
    assigned: list[int | None]  # the agent who answered each item
    agents: list[Agent]
    queue: list[tuple[float, int]] = field(default_factory=list)
    end: float = 0.0


class _Run:
    def __init__(
        self,
        source: ItemSource,
        policy_name: str,
        team: TeamConfig,
        routing: RoutingPolicy,
        breach_boost: float,
        incidents: IncidentHandling | None = None,
    ) -> None:
        n = len(source.items)
        self.source = source
        self.team = team
        self.env = simpy.Environment()
        self.agents = [
            Agent(id=i + 1, slots=team.slots, languages=spoken)
            for i, spoken in enumerate(team.agent_languages())
        ]
        self.policy: Policy = make_policy(
            policy_name,
            self.agents,
            source.start,
            routing,
            breach_boost,
            team.sweep_minutes * 60.0,
        )
        self.outcome = RunOutcome(
            policy=policy_name,
            started=[None] * n,
            first=[None] * n,
            done=[None] * n,
            abandoned=[False] * n,
            absorbed=[False] * n,
            assigned=[None] * n,
            agents=self.agents,
        )
        self.open: dict[str, int] = {}  # conversation -> its open item
        self.arrivals_done = False
        self.finished = self.env.event()
        self.first_hour = source.start.hour
        self.incidents = incidents
        # Per incident: the items routed to it (waiting for the bulk reply), and whether it
        # is open (its agent is on it); the agents working an incident.
        self.incident_queue: dict[str, list[SimItem]] = {}
        self.incident_open: dict[str, bool] = {}
        self.incident_agents: set[int] = set()
        self.by_index = {item.index: item for item in source.items}
        # Follow-up work (the rest after a first reply) when answered items free their
        # slot: each agent's own, waiting; the processes working it now; and the work left
        # by agents whose shift ended, which the others take over.
        self.followups: dict[int, deque[_FollowUp]] = {a.id: deque() for a in self.agents}
        self.following: dict[int, dict[int, _FollowUp]] = {a.id: {} for a in self.agents}
        self.handed_over: deque[_FollowUp] = deque()

    # --- processes ----------------------------------------------------------------------

    def arrivals(self) -> Generator[simpy.Event, Any, None]:
        for item in self.source.items:
            delay = item.arrival - self.env.now
            if delay > 0:
                yield self.env.timeout(delay)
            self.arrive(item)
        self.arrivals_done = True
        self.check_finished()

    def shifts(self) -> Generator[simpy.Event, Any, None]:
        hour = 0
        last = 0.0
        while True:
            duty = self.team.on_duty(self.first_hour + hour, hour)
            for agent in self.agents:
                if agent.on_shift:
                    agent.shift_seconds += self.env.now - last
            last = self.env.now
            on_shift = [a for a in self.agents[:duty] if a.id not in self.incident_agents]
            for agent in self.agents[duty:]:
                if agent.id in self.incident_agents:
                    continue
                if agent.on_shift:
                    agent.on_shift = False
                    self.policy.off_shift(agent, on_shift)
                    self.hand_over(agent)
            for agent in on_shift:
                if not agent.on_shift:
                    agent.on_shift = True
                    self.refill(agent)
                    self.follow_up(agent)
            hour += 1
            yield self.env.timeout(3600.0)

    def work(self, agent: Agent, item: SimItem) -> Generator[simpy.Event, Any, None]:
        """The first reply, then the rest of the work (in the slot, or as follow-up work)."""
        factor = 1.0 if agent.speaks(item.language) else self.team.foreign_factor
        first = item.first_reply_minutes * 60.0 * factor
        rest = max(0.0, item.handling_minutes - item.first_reply_minutes) * 60.0 * factor
        yield self.env.timeout(first)
        agent.busy_seconds += first
        self.outcome.first[item.index] = self.env.now
        if isinstance(self.policy, ValueFirst):
            self.policy.handled(item, agent)
        if self.team.answered_holds_slot and rest > 0:
            yield self.env.timeout(rest)
            agent.busy_seconds += rest
            rest = 0.0
        agent.busy -= 1
        if rest <= 0:
            self.finish(agent, item)
        elif agent.on_shift and agent.id not in self.incident_agents:
            self.followups[agent.id].append(_FollowUp(item, rest))
        else:
            # The agent answered it after their shift ended: the team does the rest.
            self.handed_over.append(_FollowUp(item, rest))
            for other in self.agents:
                self.follow_up(other)
        self.refill(agent)  # a new item's first reply goes before follow-up work
        self.follow_up(agent)
        self.check_finished()

    def finish(self, agent: Agent, item: SimItem) -> None:
        agent.handled += 1
        self.outcome.done[item.index] = self.env.now
        self.close(item)

    # --- follow-up work (answered items that free their slot) ---------------------------

    def follow_up(self, agent: Agent) -> None:
        """Work the waiting follow-ups in what the agent's first replies leave free."""
        if not agent.on_shift or agent.id in self.incident_agents:
            return
        working = self.following[agent.id]
        mine = self.followups[agent.id]
        while agent.busy + len(working) < agent.slots and (mine or self.handed_over):
            entry = self._next_follow_up(mine if mine else self.handed_over)
            entry.since = self.env.now
            working[entry.item.index] = entry
            self.env.process(self.follow(agent, entry, entry.turn))

    def _next_follow_up(self, queue: deque[_FollowUp]) -> _FollowUp:
        """First in, first out; under ``value`` the top value class's work first, as the
        agent's own list is in the work list's order."""
        if isinstance(self.policy, ValueFirst):
            for position, entry in enumerate(queue):
                if self.policy.in_top_class(entry.item):
                    del queue[position]
                    return entry
        return queue.popleft()

    def follow(
        self, agent: Agent, entry: _FollowUp, turn: int
    ) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(entry.remaining)
        if entry.turn != turn:
            return  # stopped meanwhile (``interrupt_follow_up`` kept what is left)
        self.following[agent.id].pop(entry.item.index, None)
        agent.busy_seconds += entry.remaining
        self.finish(agent, entry.item)
        self.follow_up(agent)
        self.check_finished()

    def interrupt_follow_up(self, agent: Agent, back_to: deque[_FollowUp]) -> bool:
        """Stop the follow-up the agent started last; its rest goes to the front of
        ``back_to``. False if the agent works none."""
        working = self.following[agent.id]
        if not working:
            return False
        _, entry = working.popitem()
        spent = self.env.now - entry.since
        entry.remaining = max(0.0, entry.remaining - spent)
        entry.turn += 1
        agent.busy_seconds += spent
        back_to.appendleft(entry)
        return True

    def hand_over(self, agent: Agent) -> None:
        """The agent's shift ended: the follow-up work they hold goes to the team."""
        while self.interrupt_follow_up(agent, self.followups[agent.id]):
            pass
        self.handed_over.extend(self.followups[agent.id])
        self.followups[agent.id].clear()
        for other in self.agents:
            self.follow_up(other)

    def patience(self, item: SimItem, seconds: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(seconds)
        if self.policy.withdraw(item):
            self.outcome.abandoned[item.index] = True
            self.close(item)
            self.check_finished()

    def breach(self, item: SimItem, policy: ValueFirst) -> Generator[simpy.Event, Any, None]:
        """Wake at the due time, as the production SLA monitor does, and raise priority."""
        due = (item.due_at - self.source.start).total_seconds()
        if due > self.env.now:
            yield self.env.timeout(due - self.env.now)
        policy.breached(item)

    def overflow(self, seconds: float) -> Generator[simpy.Event, Any, None]:
        """An item's requirements widen: free agents look again (the distributor's sync)."""
        yield self.env.timeout(seconds)
        for agent in self.agents:
            self.refill(agent)

    def sweeps(self, policy: RoundRobin) -> Generator[simpy.Event, Any, None]:
        while True:
            yield self.env.timeout(policy.sweep_seconds)
            policy.sweep()
            for agent in self.agents:
                self.refill(agent)

    def sampler(self) -> Generator[simpy.Event, Any, None]:
        step = self.team.sample_minutes * 60.0
        while True:
            self.outcome.queue.append((self.env.now, self.policy.waiting()))
            yield self.env.timeout(step)

    # --- decisions ----------------------------------------------------------------------

    def arrive(self, item: SimItem) -> None:
        if item.conversation in self.open:
            self.outcome.absorbed[item.index] = True
            return
        self.open[item.conversation] = item.index
        key = self._incident_of(item)
        if key is not None and self.incident_open.get(key):
            self.incident_queue[key].append(item)
            return
        free: Sequence[Agent] = [a for a in self.agents if a.free]
        agent = self.policy.arrive(item, free, self.env.now)
        if agent is not None:
            self.start(agent, item)
        else:
            if self.team.patience_hours is not None:
                self.env.process(self.patience(item, self.team.patience_hours * 3600.0))
            if isinstance(self.policy, ValueFirst):
                self.env.process(self.breach(item, self.policy))
                widen = self.policy.widens_after()
                if widen is not None:
                    self.env.process(self.overflow(widen))

    def _incident_of(self, item: SimItem) -> str | None:
        if self.incidents is None:
            return None
        found = self.incidents.plan.get(item.index)
        return None if found is None else found[0]

    def incident(self, key: str, known_at: float) -> Generator[simpy.Event, Any, None]:
        """One agent takes the incident: a template, then a bulk reply to each message."""
        assert self.incidents is not None
        handling = self.incidents
        if known_at > self.env.now:
            yield self.env.timeout(known_at - self.env.now)
        # The least loaded agent on shift leaves the queue (finishing what they hold).
        on_shift = [a for a in self.agents if a.on_shift and a.id not in self.incident_agents]
        if not on_shift:
            return
        agent = min(on_shift, key=lambda a: (a.busy, a.id))
        self.incident_agents.add(agent.id)
        agent.on_shift = False
        self.policy.off_shift(agent, [a for a in on_shift if a is not agent])
        self.hand_over(agent)
        self.incident_open[key] = True
        queue = self.incident_queue.setdefault(key, [])
        # Messages of the incident still waiting in the queue move to it.
        for index, (other, _) in handling.plan.items():
            item = self.by_index[index]
            waiting = self.outcome.started[index] is None and item.arrival <= self.env.now
            if other == key and waiting and self.policy.withdraw(item):
                queue.append(item)
        while agent.busy:
            yield self.env.timeout(10.0)
        started = self.env.now
        yield self.env.timeout(handling.template_minutes * 60.0)
        idle_since = self.env.now
        while True:
            if queue:
                # Bulk reply: select everything waiting, glance over each, send at once.
                batch, queue[:] = list(queue), []
                for item in batch:
                    self.outcome.started[item.index] = self.env.now
                    self.outcome.assigned[item.index] = agent.id
                yield self.env.timeout(handling.per_item_minutes * 60.0 * len(batch))
                for item in batch:
                    self.outcome.first[item.index] = self.env.now
                    self.finish(agent, item)
                idle_since = self.env.now
                continue
            if self.env.now - idle_since >= handling.idle_close_minutes * 60.0:
                break
            yield self.env.timeout(30.0)
        self.incident_open[key] = False
        agent.busy_seconds += self.env.now - started
        self.incident_agents.discard(agent.id)
        index = int(self.env.now // 3600.0)
        if agent.id <= self.team.on_duty(self.first_hour + index, index):
            agent.on_shift = True
            self.refill(agent)
            self.follow_up(agent)
        self.check_finished()

    def start(self, agent: Agent, item: SimItem) -> None:
        agent.busy += 1
        if agent.busy + len(self.following[agent.id]) > agent.slots:
            # The new item's first reply goes before the agent's follow-up work.
            self.interrupt_follow_up(agent, self.followups[agent.id])
        agent.last_start = self.env.now
        self.outcome.started[item.index] = self.env.now
        self.outcome.assigned[item.index] = agent.id
        self.env.process(self.work(agent, item))

    def refill(self, agent: Agent) -> None:
        while agent.free:
            item = self.policy.next_for(agent, self.env.now)
            if item is None:
                return
            self.start(agent, item)

    def close(self, item: SimItem) -> None:
        if self.open.get(item.conversation) == item.index:
            del self.open[item.conversation]

    def check_finished(self) -> None:
        if self.arrivals_done and not self.open and not self.finished.triggered:
            self.finished.succeed()

    def run(self) -> RunOutcome:
        env = self.env
        env.process(self.shifts())
        env.process(self.sampler())
        env.process(self.arrivals())
        if self.incidents is not None:
            known: dict[str, float] = {}
            for key, at in self.incidents.plan.values():
                known[key] = min(known.get(key, at), at)
            for key, at in sorted(known.items(), key=lambda kv: kv[1]):
                env.process(self.incident(key, at))
        if isinstance(self.policy, RoundRobin) and self.policy.sweep_seconds > 0:
            env.process(self.sweeps(self.policy))
        last_arrival = self.source.items[-1].arrival if self.source.items else 0.0
        horizon = env.timeout(last_arrival + self.team.drain_hours * 3600.0 + 1.0)
        env.run(until=env.any_of([self.finished, horizon]))
        for agent in self.agents:
            if agent.on_shift:
                # Shift time of the hour in progress, up to the end of the run.
                agent.shift_seconds += env.now - (env.now // 3600.0) * 3600.0
        self.outcome.end = env.now
        return self.outcome


def simulate(
    source: ItemSource,
    policy: str,
    team: TeamConfig,
    routing: RoutingPolicy | None = None,
    *,
    breach_boost: float = 0.0,
    incidents: IncidentHandling | None = None,
) -> RunOutcome:
    """Run one policy over the items of ``source`` with the given team.

    ``breach_boost`` (the SLA policy's) is added to a waiting item's priority at its due
    time under the ``value`` policy, as the SLA monitor does in production.
    """
    return _Run(source, policy, team, routing or RoutingPolicy(), breach_boost, incidents).run()
