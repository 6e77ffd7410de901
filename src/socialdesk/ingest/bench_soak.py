"""The soak benchmark: steady traffic for minutes, agents answering, memory watched.

Generated traffic is offered at ``rate`` messages/s while simulated agents resolve each case
a few seconds after it was assigned to them (the product's own ``resolve``), which frees
their slots. Embedded mode stores each chunk (as an API push does before its 202) and hands
it to the embedded drain, which processes what waits in rounds and distributes after each
commit (``ingest.drain``). Scale mode (PostgreSQL and Redis) is laid out as in production:
this process plays the web process (it accepts each chunk, announces it on the ingest
stream and runs a routing engine that hears the workers' routing events), and ``workers``
``socialdesk worker`` processes do the processing.

Every ``sample_every`` seconds the run records each process's resident memory, the
messages in, the p99 of accept-to-assigned of the tasks assigned in that interval, the
events that failed and the errors, and the size of every in-memory structure that must stay
bounded (triage's memories, the distributor's views), so growth shows as a trend and can
be told apart from a bounded cache that is still filling.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import platform
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text

from socialdesk.config import Settings
from socialdesk.core.clock import as_utc
from socialdesk.core.db import make_engine, make_session_factory, unit_of_work
from socialdesk.core.migrate import upgrade
from socialdesk.core.work import Task, TaskStatus
from socialdesk.core.workspaces import ensure_workspace
from socialdesk.ingest.soak_memory import native_memory
from socialdesk.ingest.wiring import build_pipeline
from socialdesk.people.models import User

ANSWER_AFTER = timedelta(seconds=3)  # a simulated agent's handling time
# The generator's memory is level after about 150,000 events: its population (20,000 past
# customers) is full after about 36,000, and the follow-ups and DMs it has scheduled (up to
# six simulated hours ahead, some 16,000 at a time) after six simulated hours.
WARM_UP_EVENTS = 200_000
AGENTS = 30  # at the least
CAPACITY = 5  # each agent's cases at once, per channel


def agents_for(rate: float) -> int:
    """Enough simulated agents to keep up with ``rate`` messages/s even if every message
    opened a task: each holds CAPACITY cases for ANSWER_AFTER. With fewer (30 served about
    50 tasks/s), the open work piles up at a high rate, and with it the distributor's views
    and the database: growth of the backlog, not of the product's memory."""
    return max(AGENTS, math.ceil(rate * ANSWER_AFTER.total_seconds() / CAPACITY))


class SoakMode(StrEnum):
    EMBEDDED = "embedded"  # one process on SQLite
    SCALE = "scale"  # PostgreSQL, Redis Streams and ``socialdesk worker`` processes


def rss_mb(pid: int | None = None) -> float:
    """Resident memory now (not the peak) of this process or ``pid``, from /proc on Linux."""
    try:
        status = Path(f"/proc/{pid or 'self'}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        if pid is not None:
            return 0.0  # the process is gone
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bounded_sizes(routing: Any, workspace_id: int) -> dict[str, int]:
    """Entries in each in-memory structure of this process that must stay bounded."""
    from socialdesk.triage.features import cache_sizes
    from socialdesk.triage.memo import MEMO

    return {
        "triage_memo": len(MEMO),
        **cache_sizes(),
        **routing.distributor(workspace_id).view_sizes(),
    }


def _interval_p99(engine: Engine, workspace_id: int, since: datetime) -> float | None:
    from socialdesk.core.bulk import utc_from_db

    # From the first message that came in after the case's previous assignment (the one
    # that reopened the task) to this assignment; not from the case's first message ever,
    # which would count a regular customer's whole history as waiting. (The previous
    # assignment's start, not its end: an answered case can wait on the customer while
    # still held.) Nor before the task was created: a message that opened no task (a
    # thank-you) does not start a wait. A task reopened after such a message still counts from it.
    postgres = engine.dialect.name == "postgresql"
    larger = "greatest" if postgres else "max"  # SQLite's max() of two values
    sql = text(
        f"""
        SELECT a.assigned_at, {larger}(min(r.received_at), max(t.created_at))
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
    epoch: Any = datetime(1, 1, 1, tzinfo=UTC) if postgres else "0001-01-01 00:00:00"
    with engine.connect() as conn:
        rows = conn.execute(sql, {"ws": workspace_id, "since": since, "epoch": epoch}).all()
    waits = sorted(
        max(0.0, (as_utc(a) - as_utc(r)).total_seconds())
        for a, r in ((utc_from_db(x), utc_from_db(y)) for x, y in rows)
        if a is not None and r is not None
    )
    if not waits:
        return None
    return round(waits[min(len(waits) - 1, int(0.99 * len(waits)))], 3)


def _event_counts(engine: Engine, workspace_id: int) -> tuple[int, int]:
    """(events still pending, events failed) as stored: in scale mode the workers fail them."""
    with engine.connect() as conn:
        pending, failed = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE status = 'pending'),"
                " count(*) FILTER (WHERE status = 'failed')"
                " FROM raw_events WHERE workspace_id = :ws"
            ),
            {"ws": workspace_id},
        ).one()
    return int(pending), int(failed)


def _worker_errors(log_dir: Path) -> int:
    """Tracebacks the workers logged (each failed round logs one)."""
    return sum(
        path.read_bytes().count(b"Traceback (most recent call last)")
        for path in sorted(log_dir.glob("worker-*.log"))
    )


class _ErrorCount(logging.Handler):
    """Errors this process logged (a routing round that failed and was retried, say):
    they are caught and the run goes on, so only the log shows them."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def _growth(values: list[float]) -> float | None:
    """Percent change over the second half of the samples."""
    half = values[len(values) // 2 :]
    if len(half) < 2 or half[0] <= 0:
        return None
    return round(100 * (half[-1] - half[0]) / half[0], 2)


def run_soak(
    *,
    minutes: float,
    rate: float,
    sample_every: float = 10.0,
    seed: int = 11,
    mode: SoakMode | str = SoakMode.EMBEDDED,
    workers: int = 2,
    database_url: str | None = None,
    redis_url: str | None = None,
    agents: int | None = None,
    warm_up: int = WARM_UP_EVENTS,
    on_sample: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """One soak; ``mode`` "scale" needs a PostgreSQL ``database_url`` and ``redis_url``.
    ``agents`` defaults to ``agents_for(rate)``; ``warm_up`` events are drawn from the
    generator before the clock starts. ``on_sample`` gets each sample as it is taken (a
    long run shows its trend meanwhile)."""
    from socialdesk.core.bus import INGEST_STREAM, ROUTING_STREAM, RedisStreamsBus
    from socialdesk.ingest.bench_pipeline import (
        READ_EVENTS,
        _add_agents,
        start_workers,
        stop_workers,
    )
    from socialdesk.ingest.dispatch import ProcessingDispatcher
    from socialdesk.ingest.drain import EmbeddedDrain
    from socialdesk.routing.engine import RoutingEngine

    if mode not in tuple(SoakMode):
        raise ValueError(f"mode must be embedded or scale, not {mode!r}")
    scale = mode == SoakMode.SCALE
    if scale and (not redis_url or not database_url or not database_url.startswith("postgres")):
        raise ValueError("scale mode needs a PostgreSQL --database-url and a --redis-url")
    samples: list[dict[str, Any]] = []
    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="socialdesk-soak-") as scratch_dir:
        scratch = Path(scratch_dir)
        url = database_url if scale and database_url else f"sqlite:///{scratch / 'soak.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        session_factory = make_session_factory(engine)
        with unit_of_work(session_factory) as session:
            workspace_id = ensure_workspace(session, f"soak-{uuid.uuid4().hex[:8]}").id
        agents = agents or agents_for(rate)
        _add_agents(session_factory, workspace_id, count=agents, capacity=CAPACITY)
        prefix = f"soak-{uuid.uuid4().hex[:8]}:"
        bus = RedisStreamsBus(redis_url, prefix=prefix) if scale and redis_url else None
        pipeline = build_pipeline(Settings(database_url=url), session_factory)
        routing = RoutingEngine(session_factory, bus=bus)
        drain = None if scale else EmbeddedDrain(pipeline)
        dispatcher = ProcessingDispatcher(pipeline, bus, drain)
        processes: list[Any] = []
        if bus is not None:
            bus.ensure_group(INGEST_STREAM)
            chunk_events = max(1, int(rate * 0.1))
            processes, _ = start_workers(
                workers, url, redis_url or "", prefix, scratch, max(1, READ_EVENTS // chunk_events)
            )
        else:
            pipeline.hooks.after_commit.append(routing.after_commit)
        logged = _ErrorCount()
        logging.getLogger().addHandler(logged)
        routing.start()
        events = _warmed_up_traffic(seed, warm_up)
        try:
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
                    accepted = pipeline.accept(workspace_id, part, source="soak")
                    dispatcher.dispatch(workspace_id, accepted.accepted)
                    if drain is None:
                        ingested += len(accepted.accepted)
                    else:
                        ingested, failed = drain.stats.processed, drain.stats.failed
                    _answer(session_factory, routing, workspace_id)
                except Exception:  # counted, and the run goes on: a soak reports its errors
                    errors += 1
                ahead = started + offered / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
                if time.monotonic() < next_sample:
                    continue
                now = datetime.now(UTC)
                sample: dict[str, Any] = {
                    "seconds": round(time.monotonic() - started, 1),
                    "rss_mb": round(rss_mb(), 1),
                    "messages": ingested,
                    "p99_accept_to_assigned_s": _interval_p99(engine, workspace_id, interval_start),
                    "failed_events": failed,
                    "errors": errors,
                    "logged_errors": logged.count,
                    "offered": offered,
                    "bounded": bounded_sizes(routing, workspace_id),
                    "native": native_memory(),
                }
                if drain is not None:
                    sample["waiting_events"] = drain.waiting()
                    sample["rounds"] = {"count": drain.stats.rounds, "max": drain.stats.largest}
                if processes:
                    # The workers fail events, and fall behind: both as stored.
                    sample["pending_events"], sample["failed_events"] = _event_counts(
                        engine, workspace_id
                    )
                    sample["worker_rss_mb"] = [round(rss_mb(p.pid), 1) for p in processes]
                    sample["worker_errors"] = _worker_errors(scratch)
                    sample["worker_exits"] = [p.poll() for p in processes]
                samples.append(sample)
                if on_sample is not None:
                    on_sample(sample)
                interval_start = now
                next_sample += sample_every
        finally:
            logging.getLogger().removeHandler(logged)
            if drain is not None:  # a backlog left at the end stays pending
                drain.stop(finish=False)
            routing.stop()
            stop_workers(processes)
            if bus is not None:
                bus.client.delete(bus.key(INGEST_STREAM), bus.key(ROUTING_STREAM))
                bus.close()
            backend = engine.url.get_backend_name()
            engine.dispose()
    report: dict[str, Any] = {
        "benchmark": "soak",
        "mode": f"scale, {workers} worker(s)" if scale else "embedded",
        "database": backend,
        "minutes": minutes,
        "offered_rate_per_second": rate,
        "messages": ingested,
        # Processed within the run's minutes, per second: the rate sustained.
        "sustained_per_second": round(ingested / (minutes * 60), 1) if minutes else None,
        "agents": agents,
        "rss_growth_second_half_percent": _growth([s["rss_mb"] for s in samples]),
        "errors": errors + logged.count + (samples[-1].get("worker_errors", 0) if samples else 0),
        "samples": samples,
        "generator_warm_up_events": warm_up,
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "targets": {"rss_growth_second_half_percent": 5, "errors": 0},
        "python": platform.python_version(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if drain is not None:
        stats = drain.stats
        report["embedded_rounds"] = {
            "count": stats.rounds,
            "mean_events": stats.mean,
            "max_events": stats.largest,
            "failed_rounds": stats.errors,
        }
    if processes:
        report["worker_rss_growth_second_half_percent"] = [
            _growth([s["worker_rss_mb"][i] for s in samples]) for i in range(len(processes))
        ]
    return report


def _warmed_up_traffic(seed: int, warm_up: int) -> Iterator[Any]:
    from socialdesk.simulation.traffic import BrandProfile, generate

    # Steady: the same rate every simulated hour. With the default daily pattern, the
    # follow-ups the generator holds rise and fall with the simulated day (at 500 messages/s
    # one every 16 minutes), and so does its memory.
    profile = BrandProfile(daily_pattern=(1.0,) * 24)
    events = generate(profile, datetime(2026, 1, 5, tzinfo=UTC), None, 20_000.0, seed)
    # The generator remembers up to MAX_REMEMBERED past customers (so that regulars write
    # again), about 50 MB once full, and the follow-ups it has scheduled; drawn before the
    # clock starts, that memory is level during the run instead of passing for the
    # product's growth.
    for _ in itertools.islice(events, warm_up):
        pass
    return events


def _answer(session_factory: Any, routing: Any, workspace_id: int) -> None:
    """Agents resolve the cases assigned to them at least ANSWER_AFTER ago, each case in a
    transaction of its own, as an agent's request does. (All of them in one transaction, in
    no particular order, deadlocked on PostgreSQL with a worker's batch, which updates its
    cases' conversations and then their tasks: 49 deadlocks in six minutes at 300 agents.)"""
    from socialdesk.conversations.actions import resolve

    cutoff = datetime.now(UTC) - ANSWER_AFTER
    freed: set[int] = set()
    with unit_of_work(session_factory) as session:
        tasks = session.execute(
            select(Task.conversation_id, Task.assignee_id)
            .where(
                Task.workspace_id == workspace_id,
                Task.status == TaskStatus.ASSIGNED,
                Task.updated_at <= cutoff,
            )
            .order_by(Task.id)
        ).all()
    for conversation_id, assignee_id in tasks:
        if assignee_id is None:
            continue
        with unit_of_work(session_factory) as session:
            actor = session.get(User, assignee_id)
            if actor is None:
                continue
            resolve(
                session, workspace_id=workspace_id, conversation_id=conversation_id, actor=actor
            )
        freed.add(int(assignee_id))
    if freed:
        routing.on_agents(workspace_id, sorted(freed))
