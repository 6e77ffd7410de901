"""The routing engine of one process: distributors per workspace, and the real-time timer.

Wiring (done once where the app and the pipeline are built)::

    engine = RoutingEngine(session_factory, clock=clock)
    hooks.on_tasks_changed.append(ScoringHook(clock))   # scoring + SLA, in the transaction
    hooks.after_commit.append(engine.after_commit)      # distribution, after the commit
    engine.start()   # timer thread: SLA warnings and breaches, sync, distribution
    ...
    engine.stop()

Services that change agents or tasks (presence, picking, transfers, policies) are followed,
after their commit, by ``engine.on_agents`` / ``engine.on_tasks`` so distribution runs at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.bus import ROUTING_STREAM, RedisStreamsBus
from socialdesk.core.clock import Clock, as_utc, utcnow
from socialdesk.core.db import unit_of_work
from socialdesk.core.metrics import SLA_BREACHES, SLA_WARNINGS
from socialdesk.priority.service import load_routing_policy
from socialdesk.routing import repository as repo
from socialdesk.routing.assignment_repository import Claim
from socialdesk.routing.distributor import AssignedCallback, Distributor
from socialdesk.routing.events import RoutingAnnouncer
from socialdesk.routing.sla_monitor import SlaOutcome, check_due

log = logging.getLogger(__name__)


class RoutingEngine:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        clock: Clock = utcnow,
        tick_seconds: float = 1.0,
        on_assigned: AssignedCallback | None = None,
        on_sla: Callable[[int, SlaOutcome], None] | None = None,
        bus: RedisStreamsBus | None = None,
        workspaces: Collection[int] | None = None,
    ) -> None:
        self.session_factory = session_factory
        # The workspaces this engine serves (None: every workspace of the database). An engine
        # per group of workspaces lets several hosts share the routing of many tenants.
        self.workspaces = None if workspaces is None else frozenset(workspaces)
        self.clock = clock
        self.tick_seconds = tick_seconds
        self.on_assigned = on_assigned
        self.on_sla = on_sla
        self._distributors: dict[int, Distributor] = {}
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        # Scale mode: routing events to and from the other processes.
        self.announcer = None if bus is None else RoutingAnnouncer(bus)
        self._listener: threading.Thread | None = None
        self.listening = threading.Event()  # set once events are being read

    def distributor(self, workspace_id: int) -> Distributor:
        with self._guard:
            found = self._distributors.get(workspace_id)
            if found is None:
                found = self._distributors[workspace_id] = Distributor(
                    self.session_factory,
                    workspace_id,
                    clock=self.clock,
                    on_assigned=self.on_assigned,
                    policy_loader=load_routing_policy,
                )
            return found

    # -- triggers (each distributes at once) ---------------------------------------------------

    def after_commit(self, workspace_id: int, task_ids: Sequence[int]) -> None:
        """The pipeline's after-commit hook: new or reopened tasks."""
        if not task_ids:
            return
        try:
            self.on_tasks(workspace_id, task_ids)
        except Exception:
            # The messages are stored and committed; the timer distributes on its next round.
            log.exception("distribution after commit failed; the timer will retry")
        self._wake.set()  # their SLA moments may be sooner than the timer's next wake

    def on_tasks(self, workspace_id: int, task_ids: Sequence[int]) -> list[Claim]:
        """Tasks changed in this process: distribute, and tell the other engines."""
        if self.announcer is not None:
            self.announcer.announce(workspace_id, tasks=task_ids)
        return self.distributor(workspace_id).on_tasks(task_ids)

    def on_agents(self, workspace_id: int, user_ids: Sequence[int]) -> list[Claim]:
        """Agents changed in this process (presence, a freed slot, skills): likewise."""
        if self.announcer is not None:
            self.announcer.announce(workspace_id, agents=user_ids)
        return self.distributor(workspace_id).on_agents(user_ids)

    def handle_event(self, payload: dict[str, Any]) -> None:
        """A routing event from another process."""
        if self.announcer is not None and payload.get("origin") == self.announcer.origin:
            return
        workspace_id = int(payload["workspace_id"])
        if self.workspaces is not None and workspace_id not in self.workspaces:
            return
        dist = self.distributor(workspace_id)
        if payload.get("tasks"):
            dist.on_tasks([int(t) for t in payload["tasks"]])
        if payload.get("agents"):
            dist.on_agents([int(a) for a in payload["agents"]])

    def policies_changed(self, workspace_id: int) -> list[Claim]:
        dist = self.distributor(workspace_id)
        dist.load()
        return dist.distribute()

    # -- the timer -----------------------------------------------------------------------------

    def check_sla(self, workspace_id: int) -> SlaOutcome:
        now = self.clock()
        with unit_of_work(self.session_factory) as session:
            outcome = check_due(session, workspace_id, now)
        SLA_WARNINGS.inc(outcome.warnings)
        SLA_BREACHES.inc(outcome.breaches)
        if outcome.changed:
            self.on_tasks(workspace_id, outcome.changed)
        if self.on_sla is not None and (outcome.warnings or outcome.breaches):
            self.on_sla(workspace_id, outcome)
        return outcome

    def tick(self) -> float:
        """One round for every workspace with work; returns seconds until the next is due."""
        if self.workspaces is None:
            with self.session_factory() as session:
                workspaces = set(repo.workspace_ids(session))
            workspaces |= set(self._distributors)
        else:
            workspaces = set(self.workspaces)
        soonest: datetime | None = None
        for workspace_id in sorted(workspaces):
            while self.check_sla(workspace_id).changed:
                pass  # more than one batch was due
            dist = self.distributor(workspace_id)
            dist.sync()
            dist.distribute()
            with self.session_factory() as session:
                due = repo.next_sla_check(session, workspace_id)
            if due is not None and (soonest is None or as_utc(due) < soonest):
                soonest = as_utc(due)
        if soonest is None:
            return self.tick_seconds
        wait = (soonest - self.clock()) / timedelta(seconds=1)
        return max(0.0, min(self.tick_seconds, wait))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self.tick()
            except Exception:  # the timer must outlive one bad round (a lost connection)
                log.exception("routing tick failed")
                wait = self.tick_seconds
            self._wake.wait(wait)
            self._wake.clear()

    def _listen(self) -> None:
        assert self.announcer is not None
        bus = self.announcer.bus
        after: str | None = None
        while not self._stop.is_set():
            try:
                if after is None:
                    after = bus.now_id()
                    self.listening.set()
                after, payloads = bus.read_new(ROUTING_STREAM, after, block_ms=500)
                for payload in payloads:
                    self.handle_event(payload)
            except Exception:  # Redis away, or one bad round: the sweep covers the gap
                log.exception("reading routing events failed; retrying")
                after = None
                self._stop.wait(1.0)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="socialdesk-routing", daemon=True)
        self._thread.start()
        if self.announcer is not None:
            self._listener = threading.Thread(
                target=self._listen, name="socialdesk-routing-events", daemon=True
            )
            self._listener.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        for thread in (self._thread, self._listener):
            if thread is not None:
                thread.join(timeout=10)
        self._thread = self._listener = None
