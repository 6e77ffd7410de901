"""Retention on a schedule: the server prunes each workspace once a day by itself.

Every web process runs the schedule. The workspace's row is locked while its prune runs and
the time of the last run is kept in its settings, so several processes prune a workspace
once per period between them; pruning twice would remove nothing more anyway.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.compliance import retention
from socialdesk.core import audit
from socialdesk.core.clock import Clock, as_utc, utcnow
from socialdesk.core.db import unit_of_work
from socialdesk.core.models import Workspace

log = logging.getLogger(__name__)

LAST_RUN = "retention_last_run"
SCHEDULER = audit.Actor("system")


def is_due(last_run: datetime | None, now: datetime, every: timedelta) -> bool:
    return last_run is None or now - last_run >= every


def _last_run(workspace: Workspace) -> datetime | None:
    value = (workspace.settings or {}).get(LAST_RUN)
    return as_utc(datetime.fromisoformat(value)) if isinstance(value, str) else None


def _has_policy(workspace: Workspace) -> bool:
    policy = retention.policy_of(workspace)
    return policy.raw_payload_days is not None or policy.closed_case_days is not None


def prune_due(
    session_factory: sessionmaker[Session], now: datetime, every: timedelta
) -> dict[int, retention.PruneReport]:
    """Prune every workspace with a retention policy whose last run is a period old; one
    unit of work per workspace, so one that fails leaves the others pruned."""
    with session_factory() as session:
        candidates = [ws.id for ws in session.scalars(select(Workspace)) if _has_policy(ws)]
    reports: dict[int, retention.PruneReport] = {}
    for workspace_id in candidates:
        try:
            with unit_of_work(session_factory) as session:
                report = _prune_one(session, workspace_id, now, every)
        except Exception:
            log.exception("scheduled retention of workspace %d failed", workspace_id)
            continue
        if report is not None:
            reports[workspace_id] = report
    return reports


def _prune_one(
    session: Session, workspace_id: int, now: datetime, every: timedelta
) -> retention.PruneReport | None:
    audit.set_actor(session, SCHEDULER)
    stmt = select(Workspace).where(Workspace.id == workspace_id).with_for_update()
    workspace = session.scalars(stmt).one()
    if not _has_policy(workspace) or not is_due(_last_run(workspace), now, every):
        return None
    report = retention.prune(session, workspace, now, SCHEDULER)
    workspace.settings = {**(workspace.settings or {}), LAST_RUN: now.isoformat()}
    return report


class RetentionSchedule:
    """A daemon thread that looks every ``check_every`` for workspaces due a prune."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        every: timedelta = timedelta(days=1),
        check_every: timedelta = timedelta(minutes=10),
        clock: Clock = utcnow,
    ) -> None:
        self.session_factory = session_factory
        self.every = every
        self.check_every = check_every
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> dict[int, retention.PruneReport]:
        return prune_due(self.session_factory, self.clock(), self.every)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                for workspace_id, report in self.run_once().items():
                    log.info("retention pruned workspace %d: %s", workspace_id, report.as_dict())
            except Exception:  # the database away: try again at the next check
                log.exception("scheduled retention failed")
            self._stop.wait(self.check_every.total_seconds())

    def start(self) -> Callable[[], None]:
        self._thread = threading.Thread(target=self._loop, name="retention", daemon=True)
        self._thread.start()
        return self.stop

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
