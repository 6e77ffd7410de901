"""The soak benchmark: steady traffic for minutes, agents answering, memory watched.

Generated traffic is ingested at ``rate`` messages/s (embedded mode: stored and processed in
one call, distributed after the commit), while simulated agents resolve each case a few
seconds after it was assigned to them (the product's own ``resolve``), which frees their
slots. Every ``sample_every`` seconds the run records the process's resident memory, the
messages ingested, the p99 of accept-to-assigned of the tasks assigned in that interval and
the events that failed, so growth shows as a trend rather than a single figure.
"""

from __future__ import annotations

import itertools
import os
import platform
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from socialdesk.config import Settings
from socialdesk.core.clock import as_utc
from socialdesk.core.db import make_engine, make_session_factory, unit_of_work
from socialdesk.core.migrate import upgrade
from socialdesk.core.work import Task, TaskStatus
from socialdesk.core.workspaces import ensure_workspace
from socialdesk.ingest.wiring import build_pipeline
from socialdesk.people.models import User

ANSWER_AFTER = timedelta(seconds=3)  # a simulated agent's handling time
WARM_UP_EVENTS = 50_000  # the generator's population is at its bound after about 36,000
AGENTS = 30


def rss_mb() -> float:
    """Resident memory now (not the peak), from /proc on Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _interval_p99(engine: Any, workspace_id: int, since: datetime) -> float | None:
    from socialdesk.core.bulk import utc_from_db

    # From the first message that came in after the case's previous assignment (the one
    # that reopened the task) to this assignment; not from the case's first message ever,
    # which would count a regular customer's whole history as waiting. (The previous
    # assignment's start, not its end: resolving a case leaves released_at empty.) Nor
    # before the task was created: a message that opened no task (a thank-you) does not
    # start a wait. A task reopened after such a message still counts from it.
    sql = text(
        """
        SELECT a.assigned_at, max(min(r.received_at), max(t.created_at))
        FROM task_assignments a
        JOIN tasks t ON t.id = a.task_id
        JOIN messages m ON m.conversation_id = t.conversation_id
        JOIN raw_events r ON r.id = m.raw_event_id
        WHERE a.workspace_id = :ws AND a.assigned_at >= :since
          AND r.received_at <= a.assigned_at
          AND r.received_at > coalesce(
            (SELECT max(p.assigned_at) FROM task_assignments p
             WHERE p.task_id = a.task_id AND p.assigned_at < a.assigned_at),
            :epoch)
        GROUP BY a.id, a.assigned_at
        """
    )
    with engine.connect() as conn:
        rows = conn.execute(
            sql, {"ws": workspace_id, "since": since, "epoch": "0001-01-01 00:00:00"}
        ).all()
    waits = sorted(
        max(0.0, (as_utc(a) - as_utc(r)).total_seconds())
        for a, r in ((utc_from_db(x), utc_from_db(y)) for x, y in rows)
        if a is not None and r is not None
    )
    if not waits:
        return None
    return round(waits[min(len(waits) - 1, int(0.99 * len(waits)))], 3)


def run_soak(
    *, minutes: float, rate: float, sample_every: float = 10.0, seed: int = 11
) -> dict[str, Any]:
    from socialdesk.conversations.actions import resolve
    from socialdesk.ingest.bench_pipeline import _add_agents
    from socialdesk.routing.engine import RoutingEngine
    from socialdesk.simulation.traffic import BrandProfile, generate

    samples: list[dict[str, Any]] = []
    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="socialdesk-soak-") as scratch:
        url = f"sqlite:///{Path(scratch) / 'soak.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        session_factory = make_session_factory(engine)
        with unit_of_work(session_factory) as session:
            workspace_id = ensure_workspace(session, f"soak-{uuid.uuid4().hex[:8]}").id
        _add_agents(session_factory, workspace_id, count=AGENTS, capacity=5)
        pipeline = build_pipeline(Settings(database_url=url), session_factory)
        routing = RoutingEngine(session_factory)
        pipeline.hooks.after_commit.append(routing.after_commit)
        routing.start()
        events = generate(BrandProfile(), datetime(2026, 1, 5, tzinfo=UTC), None, 20_000.0, seed)
        # The generator remembers up to MAX_REMEMBERED past customers (so that regulars write
        # again), about 50 MB once full; drawn before the clock starts, that memory is level
        # during the run instead of passing for the product's growth.
        for _ in itertools.islice(events, WARM_UP_EVENTS):
            pass
        started = time.monotonic()
        ends = started + minutes * 60
        next_sample = started + sample_every
        interval_start = datetime.now(UTC)
        offered = ingested = failed = errors = 0
        chunk = max(1, int(rate * 0.1))
        while time.monotonic() < ends:
            part = [next(events) for _ in range(chunk)]
            offered += len(part)
            try:
                _, processed = pipeline.ingest(workspace_id, part, source="soak")
                ingested += processed.processed
                failed += processed.failed
            except Exception:  # counted, and the run goes on: a soak reports its errors
                errors += 1
            _answer(session_factory, routing, workspace_id, resolve)
            ahead = started + offered / rate - time.monotonic() if rate > 0 else 0
            if ahead > 0:
                time.sleep(ahead)
            if time.monotonic() >= next_sample:
                now = datetime.now(UTC)
                samples.append(
                    {
                        "seconds": round(time.monotonic() - started, 1),
                        "rss_mb": round(rss_mb(), 1),
                        "messages": ingested,
                        "p99_accept_to_assigned_s": _interval_p99(
                            engine, workspace_id, interval_start
                        ),
                        "failed_events": failed,
                        "errors": errors,
                    }
                )
                interval_start = now
                next_sample += sample_every
        routing.stop()
        engine.dispose()
    half = samples[len(samples) // 2 :] if samples else []
    growth = (
        round(100 * (half[-1]["rss_mb"] - half[0]["rss_mb"]) / half[0]["rss_mb"], 2)
        if len(half) >= 2
        else None
    )
    return {
        "benchmark": "soak",
        "mode": "embedded",
        "minutes": minutes,
        "offered_rate_per_second": rate,
        "messages": ingested,
        "rss_growth_second_half_percent": growth,
        "samples": samples,
        "generator_warm_up_events": WARM_UP_EVENTS,
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "targets": {"rss_growth_second_half_percent": 5, "errors": 0},
        "python": platform.python_version(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _answer(session_factory: Any, routing: Any, workspace_id: int, resolve: Any) -> None:
    """Agents resolve the cases assigned to them at least ANSWER_AFTER ago."""
    cutoff = datetime.now(UTC) - ANSWER_AFTER
    freed: set[int] = set()
    with unit_of_work(session_factory) as session:
        tasks = session.execute(
            select(Task.conversation_id, Task.assignee_id).where(
                Task.workspace_id == workspace_id,
                Task.status == TaskStatus.ASSIGNED,
                Task.updated_at <= cutoff,
            )
        ).all()
        users = {
            u.id: u for u in session.scalars(select(User).where(User.workspace_id == workspace_id))
        }
        for conversation_id, assignee_id in tasks:
            if assignee_id is None:
                continue
            resolve(
                session,
                workspace_id=workspace_id,
                conversation_id=conversation_id,
                actor=users[assignee_id],
            )
            freed.add(int(assignee_id))
    if freed:
        routing.on_agents(workspace_id, sorted(freed))
