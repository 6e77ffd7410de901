"""The distributor: hands open tasks to agents the moment they can be handled.

It keeps in-memory views of one workspace (agents with their loads, the open work list)
in step with the database, decides with the pure functions of ``selection``, and writes
the decisions in batches of compare-and-set claims (``repository.assign_batch``). A claim
that loses a race (another distributor, an agent who picked the task by hand) is simply
dropped and the views refreshed: the database, not the view, is the authority.

Triggers, each of which runs a distribution at once: new or reopened tasks
(``on_tasks``), a freed slot or a presence or skill change (``on_agents``), an SLA warning
or breach (``on_tasks`` from the SLA monitor), and ``sync`` on a short timer that picks up
changes made elsewhere (another process, a reply that freed a slot).

``sync`` reads the tasks changed since its last look, by ``updated_at``. That time is taken
when a writer's transaction runs, not when it commits, so a transaction that commits after
a look can carry a time before it and never match a later window. Every ``sweep_every``,
``sync`` therefore also compares its view with the state of the work itself: every open
task (id and last change) and every assignment. Nothing committed can stay unseen longer.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.clock import Clock, as_utc, utcnow
from socialdesk.core.db import unit_of_work
from socialdesk.core.logs import log_fields
from socialdesk.core.metrics import DISTRIBUTION_SECONDS
from socialdesk.core.work import TaskStatus
from socialdesk.routing import assignment_repository as assignments
from socialdesk.routing import repository as repo
from socialdesk.routing.assignment_repository import Claim
from socialdesk.routing.repository import AgentRecord
from socialdesk.routing.selection import (
    AgentView,
    Presence,
    RoutingPolicy,
    TaskView,
    choose_agent,
    is_eligible,
)
from socialdesk.routing.worklist import BucketKey, WorkList

log = logging.getLogger(__name__)

AssignedCallback = Callable[[int, Sequence[Claim]], None]
# Agents with the same skills, teams and channels are interchangeable for eligibility and
# fit; among them every task prefers the same one (least loaded, longest idle, lowest id).
ProfileKey = tuple[
    frozenset[str], frozenset[int], frozenset[str], frozenset[str], frozenset[str], frozenset[str]
]


def profile_of(agent: AgentView) -> ProfileKey:
    return (
        agent.queues,
        agent.team_ids,
        agent.languages,
        agent.topics,
        agent.tiers,
        frozenset(ch for ch, n in agent.capacity.items() if n > 0),
    )


def _idle_ts(agent: AgentView) -> float:
    return float("-inf") if agent.idle_since is None else agent.idle_since.timestamp()


def task_view(row: Any) -> TaskView:
    return TaskView(
        id=row.id,
        channel=row.channel,
        waiting_since=as_utc(row.waiting_since),
        queue=row.queue,
        priority=float(row.priority or 0.0),
        due_at=None if row.due_at is None else as_utc(row.due_at),
        team_id=row.team_id,
        language=row.language,
        topic=row.topic,
        customer_tier=row.customer_tier,
        last_agent_id=row.last_agent_id,
        avoid_agent_id=row.avoid_agent_id,
    )


def agent_view(record: AgentRecord, load: dict[str, int]) -> AgentView:
    return AgentView(
        id=record.id,
        presence=record.presence,
        queues=frozenset(record.queues),
        team_ids=frozenset(record.team_ids),
        languages=frozenset(record.languages),
        topics=frozenset(record.topics),
        tiers=frozenset(record.tiers),
        capacity=MappingProxyType(dict(record.capacity)),
        load=MappingProxyType(dict(load)),
        idle_since=None if record.last_assigned_at is None else as_utc(record.last_assigned_at),
    )


@dataclass
class DistributorStats:
    decisions: int = 0
    assigned: int = 0
    lost_races: int = 0
    decision_seconds: list[float] = field(default_factory=list)
    record_decisions: bool = False


class Distributor:
    """Distribution for one workspace. Thread-safe: one decision round at a time."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        workspace_id: int,
        *,
        policy: RoutingPolicy | None = None,
        clock: Clock = utcnow,
        batch_size: int = 512,
        rekey_every: timedelta = timedelta(seconds=15),
        sync_margin: timedelta = timedelta(seconds=0.5),
        agents_refresh_every: timedelta = timedelta(seconds=10),
        sweep_every: timedelta = timedelta(seconds=5),
        on_assigned: AssignedCallback | None = None,
        policy_loader: Callable[[Session, int], RoutingPolicy] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.workspace_id = workspace_id
        self.clock = clock
        self.batch_size = batch_size
        self.on_assigned = on_assigned
        self._policy_loader = policy_loader
        self.policy = policy or RoutingPolicy()
        self.worklist = WorkList(self.policy, rekey_every)
        self.agents: dict[int, AgentView] = {}
        self._held: dict[int, tuple[int, str]] = {}  # assigned task -> (agent, channel)
        # Agents whose answered items waiting on the customer hold slots (a team setting).
        self._waiting: set[int] = set()
        self._customers: dict[int, int | None] = {}  # open task -> customer
        self._seen_update: dict[int, datetime] = {}  # open task -> updated_at in the view
        self._entered: dict[int, float] = {}  # open task -> when it entered the view
        self._free: dict[tuple[str, str], set[int]] = {}  # (queue, channel) -> agents
        self._free_team: dict[tuple[int, str], set[int]] = {}  # (team, channel) -> agents
        # Free agents per (profile, channel), best first; entries of an older version are stale.
        self._version: dict[int, int] = {}
        self._versions = itertools.count(1)
        self._profile: dict[int, ProfileKey] = {}
        self._sample: dict[ProfileKey, AgentView] = {}
        self._members: dict[ProfileKey, set[int]] = {}
        self._heaps: dict[tuple[ProfileKey, str], list[tuple[float, float, int, int]]] = {}
        self._bucket_profiles: dict[BucketKey, list[ProfileKey]] = {}
        self._lock = threading.RLock()
        self._loaded = False
        self._synced_at: datetime | None = None
        self._agents_at: datetime | None = None
        self.sync_margin = sync_margin
        self.agents_refresh_every = agents_refresh_every
        self.sweep_every = sweep_every
        self._swept_at: datetime | None = None
        self.stats = DistributorStats()

    # -- keeping the views in step ----------------------------------------------------------

    def load(self) -> None:
        """(Re)build every view from the database."""
        with self._lock, self.session_factory() as session:
            now = self.clock()
            if self._policy_loader is not None:
                self.policy = self._policy_loader(session, self.workspace_id)
            self.worklist = WorkList(self.policy, self.worklist.rekey_every)
            records = repo.load_agents(session, self.workspace_id)
            self._waiting = {r.id for r in records if r.waiting_holds_slot}
            self._held = {
                row.id: (int(row.assignee_id), row.channel)
                for row in repo.assigned_tasks(
                    session, self.workspace_id, waiting_for=self._waiting
                )
            }
            self._customers, self._seen_update, self._entered = {}, {}, {}
            for row in repo.open_tasks(session, self.workspace_id):
                self._add_open(row, now)
            self.agents = {}
            self._free, self._free_team = {}, {}
            self._version, self._profile, self._sample = {}, {}, {}
            self._members, self._heaps, self._bucket_profiles = {}, {}, {}
            loads = self._loads_from_held()
            for record in records:
                self._put_agent(agent_view(record, loads.get(record.id, {})))
            self._synced_at = self._agents_at = self._swept_at = now
            self._loaded = True

    def _loads_from_held(self) -> dict[int, dict[str, int]]:
        loads: dict[int, dict[str, int]] = {}
        for agent_id, channel in self._held.values():
            per = loads.setdefault(agent_id, {})
            per[channel] = per.get(channel, 0) + 1
        return loads

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self.load()

    def _add_open(self, row: Any, now: datetime) -> None:
        self._entered.setdefault(row.id, time.monotonic())
        self.worklist.upsert(task_view(row), now)
        self._customers[row.id] = row.customer_id
        self._seen_update[row.id] = as_utc(row.updated_at)

    def _apply_task_row(self, row: Any, now: datetime) -> set[int]:
        """Bring one task's view in line with its row; returns agents whose load changed."""
        touched: set[int] = set()
        held = self._held.get(row.id)
        now_held = (
            (int(row.assignee_id), row.channel)
            if row.assignee_id is not None
            and (
                row.status == TaskStatus.ASSIGNED
                or (row.status == TaskStatus.PENDING and row.assignee_id in self._waiting)
            )
            else None
        )
        if held != now_held:
            if held is not None:
                del self._held[row.id]
                self._bump(held[0], held[1], -1)
                touched.add(held[0])
            if now_held is not None:
                self._held[row.id] = now_held
                self._bump(now_held[0], now_held[1], +1)
                touched.add(now_held[0])
        if row.status == TaskStatus.OPEN:
            self._add_open(row, now)
        else:
            self.worklist.remove(row.id)
            self._customers.pop(row.id, None)
            self._seen_update.pop(row.id, None)
            self._entered.pop(row.id, None)
        return touched

    def _bump(self, agent_id: int, channel: str, delta: int) -> None:
        agent = self.agents.get(agent_id)
        if agent is None:
            return
        load = dict(agent.load)
        load[channel] = max(load.get(channel, 0) + delta, 0)
        self._put_agent(replace(agent, load=MappingProxyType(load)))

    def _put_agent(self, agent: AgentView) -> None:
        self.agents[agent.id] = agent
        for channel in agent.capacity:
            free = agent.presence == Presence.ONLINE and agent.free_slots(channel) > 0
            for queue in agent.queues:
                pool = self._free.setdefault((queue, channel), set())
                (pool.add if free else pool.discard)(agent.id)
            for team in agent.team_ids:
                pool = self._free_team.setdefault((team, channel), set())
                (pool.add if free else pool.discard)(agent.id)
        profile = profile_of(agent)
        old = self._profile.get(agent.id)
        if old is not None and old != profile:
            self._members[old].discard(agent.id)
        if profile not in self._sample:
            self._bucket_profiles.clear()  # a new kind of agent: eligibility lists change
        self._sample[profile] = agent
        self._profile[agent.id] = profile
        members = self._members.setdefault(profile, set())
        members.add(agent.id)
        version = next(self._versions)
        self._version[agent.id] = version
        if agent.presence != Presence.ONLINE:
            return
        entry = (agent.load_ratio, _idle_ts(agent), agent.id, version)
        for channel in agent.capacity:
            if agent.free_slots(channel) > 0:
                heap = self._heaps.setdefault((profile, channel), [])
                heapq.heappush(heap, entry)
                if len(heap) > 8 * len(members) + 64:
                    self._compact(profile, channel)

    def _compact(self, profile: ProfileKey, channel: str) -> None:
        heap = [
            (a.load_ratio, _idle_ts(a), a.id, self._version[a.id])
            for a in (self.agents[i] for i in self._members.get(profile, ()))
            if a.presence == Presence.ONLINE and a.free_slots(channel) > 0
        ]
        heapq.heapify(heap)
        self._heaps[(profile, channel)] = heap

    def _top_free(self, profile: ProfileKey, channel: str) -> AgentView | None:
        heap = self._heaps.get((profile, channel))
        while heap:
            agent_id, version = heap[0][2], heap[0][3]
            if self._version.get(agent_id) == version:
                return self.agents[agent_id]
            heapq.heappop(heap)
        return None

    def _profiles_for(self, key: BucketKey) -> list[ProfileKey]:
        found = self._bucket_profiles.get(key)
        if found is None:
            # Avoiding one agent is a per-agent rule, not a profile's: see _candidates.
            rep = replace(key.representative(), avoid_agent_id=None)
            found = [
                p
                for p, sample in self._sample.items()
                # Presence and load are each agent's own; the profile is about skills.
                if is_eligible(replace(sample, presence=Presence.ONLINE), rep, need_free_slot=False)
            ]
            self._bucket_profiles[key] = found
        return found

    def _candidates(self, key: BucketKey, task: TaskView) -> list[AgentView]:
        """The best free agent of each eligible profile, plus the customer's last agent:
        ``choose_agent`` over these picks the same agent as over every agent."""
        out: list[AgentView] = []
        for profile in self._profiles_for(key):
            if task.avoid_agent_id is not None and task.avoid_agent_id in self._members[profile]:
                # Rare (taken back on breach): the profile's best may be the one to avoid.
                out.extend(
                    a
                    for a in (self.agents[i] for i in self._members[profile])
                    if a.presence == Presence.ONLINE and a.free_slots(key.channel) > 0
                )
                continue
            top = self._top_free(profile, key.channel)
            if top is not None:
                out.append(top)
        last = None if task.last_agent_id is None else self.agents.get(task.last_agent_id)
        if (
            last is not None
            and last.presence == Presence.ONLINE
            and last.free_slots(task.channel) > 0
            and all(a.id != last.id for a in out)
        ):
            out.append(last)
        return out

    def _drop_agent(self, agent_id: int) -> None:
        self.agents.pop(agent_id, None)
        self._version.pop(agent_id, None)
        profile = self._profile.pop(agent_id, None)
        if profile is not None:
            self._members[profile].discard(agent_id)
        for pool in itertools.chain(self._free.values(), self._free_team.values()):
            pool.discard(agent_id)

    def sync(self) -> None:
        """Pick up what changed in the database since the last look (cheap; run often)."""
        with self._lock:
            if not self._loaded:
                self.load()
                return
            now = self.clock()
            # The margin covers writers whose clocks lag a little behind ours.
            since = (self._synced_at or now) - self.sync_margin
            with self.session_factory() as session:
                self._pull_changes(session, since, now)
                if self._swept_at is None or now - self._swept_at >= self.sweep_every:
                    self.sweep(session, now)
                # Presence changes are cheap to look for; skills and teams are re-read on a
                # slower period (services also call on_agents right after changing them).
                if self._agents_at is None or now - self._agents_at >= self.agents_refresh_every:
                    self._refresh_agents(session, None)
                    self._agents_at = now
                else:
                    changed = repo.presence_changed_since(session, self.workspace_id, since)
                    if changed:
                        self._refresh_agents(session, changed)
            self._synced_at = now

    def _pull_changes(self, session: Session, since: datetime, now: datetime) -> None:
        # A slim look first; whole rows only for open tasks that are new to the view or
        # changed since it read them (most changes are assignments and replies).
        wanted = []
        for row in repo.task_changes_since(session, self.workspace_id, since):
            if row.status != TaskStatus.OPEN:
                self._apply_task_row(row, now)
            elif self._seen_update.get(row.id) != as_utc(row.updated_at):
                wanted.append(row.id)
        for row in repo.tasks_by_id(session, self.workspace_id, wanted):
            self._apply_task_row(row, now)

    def sweep(self, session: Session, now: datetime) -> None:
        """Catch up by state, not by time: open tasks new to the view or changed since it
        read them, tasks the view holds open that are no longer open, and assignments that
        differ from the view's (a slot freed or taken elsewhere)."""
        with self._lock:
            wanted: set[int] = set()
            open_now: set[int] = set()
            for row in repo.open_task_stamps(session, self.workspace_id):
                open_now.add(row.id)
                if self._seen_update.get(row.id) != as_utc(row.updated_at):
                    wanted.add(row.id)
            wanted.update(t for t in self._seen_update if t not in open_now)
            held = {
                row.id: (int(row.assignee_id), row.channel)
                for row in repo.assigned_tasks(
                    session, self.workspace_id, waiting_for=self._waiting
                )
            }
            wanted.update(
                t for t in held.keys() | self._held.keys() if held.get(t) != self._held.get(t)
            )
            found = set()
            for row in repo.tasks_by_id(session, self.workspace_id, sorted(wanted)):
                found.add(row.id)
                self._apply_task_row(row, now)  # also moves the agents' loads
            for gone in wanted - found:  # deleted with its case
                self.worklist.remove(gone)
                self._customers.pop(gone, None)
                self._seen_update.pop(gone, None)
                self._entered.pop(gone, None)
                if gone in self._held:
                    agent_id, channel = self._held.pop(gone)
                    self._bump(agent_id, channel, -1)
            self._swept_at = now

    def _refresh_agents(self, session: Session, agent_ids: Iterable[int] | None) -> None:
        ids = None if agent_ids is None else list(agent_ids)
        records = repo.load_agents(session, self.workspace_id, ids)
        flipped = {r.id for r in records if r.waiting_holds_slot != (r.id in self._waiting)}
        if flipped:  # their team's setting changed: their waiting items hold slots, or not
            self._waiting ^= flipped
            for task_id, (agent_id, _) in list(self._held.items()):
                if agent_id in flipped:
                    del self._held[task_id]
            for row in repo.assigned_tasks(
                session, self.workspace_id, flipped, waiting_for=self._waiting & flipped
            ):
                self._held[row.id] = (int(row.assignee_id), row.channel)
        loads = self._loads_from_held()
        seen = set()
        for record in records:
            seen.add(record.id)
            if record.id in self.agents:
                self._drop_agent(record.id)
            self._put_agent(agent_view(record, loads.get(record.id, {})))
        for agent_id in set(self.agents if ids is None else ids) - seen:
            self._drop_agent(agent_id)

    def _reconcile_held(self, session: Session, agent_ids: set[int]) -> None:
        """Take the agents' assigned tasks from the database, then rebuild their views."""
        for task_id, (agent_id, _) in list(self._held.items()):
            if agent_id in agent_ids:
                del self._held[task_id]
        for row in repo.assigned_tasks(
            session, self.workspace_id, agent_ids, waiting_for=self._waiting & agent_ids
        ):
            self._held[row.id] = (int(row.assignee_id), row.channel)
            self.worklist.remove(row.id)
        self._refresh_agents(session, agent_ids)

    # -- triggers ---------------------------------------------------------------------------

    def on_tasks(self, task_ids: Sequence[int]) -> list[Claim]:
        """New, reopened, re-scored or taken-back tasks: update the views, then distribute."""
        with self._lock:
            self._ensure_loaded()
            now = self.clock()
            with self.session_factory() as session:
                for row in repo.tasks_by_id(session, self.workspace_id, task_ids):
                    self._apply_task_row(row, now)
            return self.distribute()

    def on_agents(self, agent_ids: Sequence[int]) -> list[Claim]:
        """A presence change, new skills or capacity, a freed slot: refresh and distribute."""
        with self._lock:
            self._ensure_loaded()
            with self.session_factory() as session:
                # A freed slot shows as a task that changed: re-read the agents' tasks too.
                now = self.clock()
                self._pull_changes(session, (self._synced_at or now) - self.sync_margin, now)
                self._refresh_agents(session, agent_ids)
            return self.distribute()

    # -- deciding and writing ---------------------------------------------------------------

    def _pool(self, key: BucketKey) -> set[int]:
        if key.team_id is not None:
            return self._free_team.get((key.team_id, key.channel), set())
        return self._free.get((key.queue, key.channel), set())

    def plan(self, now: datetime, limit: int) -> list[Claim]:
        """Choose up to ``limit`` task/agent pairs, best first, updating the views."""
        # A decision's time includes everything since the previous one (here: the round's
        # set-up), so the measured latencies add up to the whole planning time.
        mark = time.perf_counter()
        wl = self.worklist
        wl.promote_overflowed(now)
        seq = itertools.count()
        heap: list[tuple[tuple[float, float, int], int, BucketKey]] = []
        for key in wl.bucket_keys():
            if self._pool(key):
                top = wl.top(key, now)
                if top is not None:
                    heap.append((wl.key_of(top.id, now), next(seq), key))
        heapq.heapify(heap)
        claims: list[Claim] = []
        record = self.stats.record_decisions
        while heap and len(claims) < limit:
            _, _, key = heapq.heappop(heap)
            pool = self._pool(key)
            task = wl.top(key, now)
            if task is None or not pool:
                continue
            selection = choose_agent(task, self._candidates(key, task), now, self.policy)
            self.stats.decisions += 1
            if selection is None:
                if record:
                    self.stats.decision_seconds.append(time.perf_counter() - mark)
                    mark = time.perf_counter()
                continue  # nobody free may take this bucket now
            agent = self.agents[selection.agent_id]
            wl.remove(task.id)
            self._held[task.id] = (agent.id, task.channel)
            load = dict(agent.load)
            load[task.channel] = load.get(task.channel, 0) + 1
            self._put_agent(replace(agent, load=MappingProxyType(load), idle_since=now))
            claims.append(
                Claim(
                    task_id=task.id,
                    user_id=agent.id,
                    channel=task.channel,
                    capacity=agent.capacity.get(task.channel, 0),
                    customer_id=self._customers.pop(task.id, None),
                    waiting_holds_slot=agent.id in self._waiting,
                )
            )
            nxt = wl.top(key, now)
            if nxt is not None and self._pool(key):
                heapq.heappush(heap, (wl.key_of(nxt.id, now), next(seq), key))
            if record:
                self.stats.decision_seconds.append(time.perf_counter() - mark)
                mark = time.perf_counter()
        return claims

    def _write(self, claims: list[Claim], now: datetime) -> list[Claim]:
        with unit_of_work(self.session_factory) as session:
            done = assignments.assign_batch(session, self.workspace_id, claims, now)
        took = set(done)
        moment = time.monotonic()
        for claim in done:
            entered = self._entered.pop(claim.task_id, None)
            if entered is not None:
                DISTRIBUTION_SECONDS.observe(moment - entered)
        lost = [c for c in claims if c not in took]
        if lost:
            self.stats.lost_races += len(lost)
            # Our view was stale: undo what we assumed and re-read the truth.
            for claim in lost:
                if self._held.get(claim.task_id) == (claim.user_id, claim.channel):
                    del self._held[claim.task_id]
                    self._bump(claim.user_id, claim.channel, -1)
            with self.session_factory() as session:
                for row in repo.tasks_by_id(session, self.workspace_id, [c.task_id for c in lost]):
                    self._apply_task_row(row, now)
                self._reconcile_held(session, {c.user_id for c in lost})
        self.stats.assigned += len(done)
        return done

    def distribute(self) -> list[Claim]:
        """Assign every task that can be assigned now; returns the claims that took."""
        assigned: list[Claim] = []
        with self._lock:
            self._ensure_loaded()
            fruitless = 0
            while fruitless < 3:  # rounds lost entirely to other writers: stop, sync later
                now = self.clock()
                claims = self.plan(now, self.batch_size)
                if not claims:
                    break
                done = self._write(claims, now)
                assigned.extend(done)
                fruitless = 0 if done else fruitless + 1
                if len(claims) < self.batch_size and len(done) == len(claims):
                    break
        if assigned:
            log.info(
                "assigned %d tasks",
                len(assigned),
                extra=log_fields(
                    "task.assigned",
                    workspace_id=self.workspace_id,
                    task_ids=[c.task_id for c in assigned],
                    user_ids=[c.user_id for c in assigned],
                ),
            )
        if assigned and self.on_assigned is not None:
            self.on_assigned(self.workspace_id, assigned)
        return assigned

    def view_sizes(self) -> dict[str, int]:
        """Entries in each in-memory view: a soak watches these follow the open work (and
        the agents), never the traffic that went through."""
        with self._lock:
            return {
                "open_tasks": len(self.worklist),
                "widening_moments": self.worklist.overflow_entries(),
                "held_tasks": len(self._held),
                "seen_updates": len(self._seen_update),
                "entered": len(self._entered),
                "customers": len(self._customers),
                "agents": len(self.agents),
                "agent_heap_entries": sum(len(h) for h in self._heaps.values()),
                "decision_times": len(self.stats.decision_seconds),
            }

    def free_agents(self) -> list[int]:
        with self._lock:
            return sorted({i for pool in self._free.values() for i in pool})
