"""The pipeline benchmark: accept to assigned, embedded and in scale mode with N workers.

Generated traffic is offered as the web processes would take it: stored (``accept``) in
small chunks, at a steady rate or as fast as possible, then announced on the Redis Stream
(scale mode, to ``socialdesk worker`` processes) or handed to the embedded drain, which
processes what waits in rounds (``ingest.drain``).
A routing engine with enough online agents distributes the tasks as they open; in scale mode
it learns of them by the routing events the workers announce. Each task's latency runs from
the moment the message that opened it was stored to its assignment, both as written in the
database, and is split into stages (see ``_stages``).
"""

from __future__ import annotations

import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Engine, text

from socialdesk.channels.events import InboundEvent
from socialdesk.config import Settings
from socialdesk.core.bus import INGEST_STREAM, RedisStreamsBus
from socialdesk.core.db import make_engine, make_session_factory, unit_of_work
from socialdesk.core.migrate import upgrade
from socialdesk.core.workspaces import ensure_workspace
from socialdesk.ingest.dispatch import ProcessingDispatcher
from socialdesk.ingest.drain import EmbeddedDrain
from socialdesk.ingest.wiring import build_pipeline

CHUNK_SECONDS = 0.05  # the offered load arrives in chunks this far apart
AGENTS = 100
READ_EVENTS = 1000  # the most events a worker takes from the stream at a time (one transaction)
CHANNELS = ("x", "facebook", "instagram", "email", "webhook")
ALL_TEAMS = (("Care", "care"), ("Marketing", "marketing"), ("Sales", "sales"), ("Other", "other"))


def _events(messages: int, seed: int) -> list[InboundEvent]:
    from socialdesk.simulation.traffic import BrandProfile, generate

    return list(
        generate(
            BrandProfile(), datetime(2026, 1, 5, tzinfo=UTC), None, 20_000.0, seed, limit=messages
        )
    )


def arriving_now(events: Sequence[InboundEvent]) -> list[InboundEvent]:
    """The events as live traffic delivers them: written the moment they are offered (in
    their order, a microsecond apart). The generator's own clock starts on 2026-01-05, and
    the routing engine measured service levels by it: every task that waited was overdue on
    arrival, so the run's engine spent itself writing breaches (a notification and an
    update a task, two thirds of the tasks in a run of 5,000), holding those tasks' rows
    while the distributor skipped them, which no steady live traffic does."""
    now = datetime.now(UTC)
    return [
        event.model_copy(update={"created_at": now + timedelta(microseconds=i)})
        for i, event in enumerate(events)
    ]


def _add_agents(
    session_factory: Any, workspace_id: int, *, count: int = AGENTS, capacity: int = 1000
) -> None:
    from socialdesk.routing.service import set_presence, upsert_agent

    with unit_of_work(session_factory) as session:
        for i in range(count):
            user = upsert_agent(
                session,
                workspace_id,
                f"agent{i}@bench.example",
                f"Agent {i}",
                capacity={
                    ch: capacity for ch in ("x", "facebook", "instagram", "email", "webhook")
                },
                teams=ALL_TEAMS,
            )
            set_presence(session, workspace_id, user.id, "online", datetime.now(UTC))


class Moments(NamedTuple):
    """One task's path (epoch seconds): the message that opened it stored, taken by a worker,
    heard of by the routing engine (None when it learnt of the task otherwise), assigned; and
    when the first message of its conversation was stored (earlier, when the conversation
    began with messages that needed no answer)."""

    stored: float
    taken: float | None
    heard: float | None
    assigned: float
    conversation_began: float


def _moments(engine: Engine, workspace_id: int, heard: dict[int, float]) -> list[Moments]:
    """Each assigned task's moments, from the database and the engine's notes. The message
    that opened a task is the inbound one written at the moment the task waits since."""
    sql = text(
        """
        SELECT a.task_id, a.first_at, t.waiting_since, m.created_at, m.direction,
               r.received_at, r.processed_at
        FROM (SELECT task_id, min(assigned_at) AS first_at FROM task_assignments
              WHERE workspace_id = :ws GROUP BY task_id) a
        JOIN tasks t ON t.id = a.task_id
        JOIN messages m ON m.conversation_id = t.conversation_id
        JOIN raw_events r ON r.id = m.raw_event_id
        """
    )
    from socialdesk.core.bulk import utc_from_db

    with engine.connect() as conn:
        rows = conn.execute(sql, {"ws": workspace_id}).all()
    assigned: dict[int, float] = {}
    began: dict[int, float] = {}
    opened: dict[int, tuple[float, float | None]] = {}
    for task_id, assigned_at, waiting_since, created_at, direction, received_at, taken_at in rows:
        a, r = utc_from_db(assigned_at), utc_from_db(received_at)
        if a is None or r is None:
            continue
        assigned[task_id] = a.timestamp()
        stored = r.timestamp()
        began[task_id] = min(stored, began.get(task_id, stored))
        if direction == "inbound" and utc_from_db(created_at) == utc_from_db(waiting_since):
            p = utc_from_db(taken_at)
            if task_id not in opened or stored < opened[task_id][0]:
                opened[task_id] = (stored, None if p is None else p.timestamp())
    return [
        Moments(
            *opened.get(task_id, (began[task_id], None)),
            heard.get(task_id),
            assigned[task_id],
            began[task_id],
        )
        for task_id in assigned
    ]


def _stages(moments: list[Moments]) -> dict[str, dict[str, float | None]]:
    """p50/p99 of each stage of accept-to-assigned: stored until a worker took the batch (the
    accepting commit, the ingest stream, the wait for a worker), taken until the routing
    engine heard of the task (processing, its commit, the routing stream), heard until
    assigned (the engine's queue, decision and claim)."""
    spans: dict[str, list[float]] = {
        "stored_to_taken": [],
        "taken_to_heard": [],
        "heard_to_assigned": [],
    }
    for m in moments:
        if m.taken is not None:
            spans["stored_to_taken"].append(max(0.0, m.taken - m.stored))
            if m.heard is not None:
                spans["taken_to_heard"].append(max(0.0, m.heard - m.taken))
        if m.heard is not None:
            spans["heard_to_assigned"].append(max(0.0, m.assigned - m.heard))
    return {
        name: {
            "p50_s": _percentile(sorted(values), 0.50),
            "p99_s": _percentile(sorted(values), 0.99),
            "tasks": len(values),
        }
        for name, values in spans.items()
    }


def _hearing_engine(session_factory: Any, bus: RedisStreamsBus | None, workspace_id: int) -> Any:
    """The run's routing engine, serving only the run's workspace (earlier runs' workspaces in
    the same database, their agents online and their tasks coming due, are none of its
    business), that notes when it first heard of each task (a routing event from a
    worker, or the pipeline's after-commit hook in embedded mode), in ``heard``."""
    from socialdesk.routing.engine import RoutingEngine

    class HearingEngine(RoutingEngine):
        heard: dict[int, float]

        def _note(self, task_ids: Any) -> None:
            now = time.time()
            for task_id in task_ids or ():
                self.heard.setdefault(int(task_id), now)

        def handle_event(self, payload: dict[str, Any]) -> None:
            self._note(payload.get("tasks"))
            super().handle_event(payload)

        def after_commit(self, workspace_id: int, task_ids: Sequence[int]) -> None:
            self._note(task_ids)
            super().after_commit(workspace_id, task_ids)

    engine = HearingEngine(session_factory, bus=bus, workspaces=[workspace_id])
    engine.heard = {}
    return engine


def _state(engine: Engine, workspace_id: int) -> tuple[int, int, int]:
    """(events still pending, tasks still open, tasks assigned at least once)."""
    with engine.connect() as conn:
        pending = conn.execute(
            text("SELECT count(*) FROM raw_events WHERE workspace_id = :ws AND status = 'pending'"),
            {"ws": workspace_id},
        ).scalar_one()
        open_tasks = conn.execute(
            text("SELECT count(*) FROM tasks WHERE workspace_id = :ws AND status = 'open'"),
            {"ws": workspace_id},
        ).scalar_one()
        assigned = conn.execute(
            text("SELECT count(DISTINCT task_id) FROM task_assignments WHERE workspace_id = :ws"),
            {"ws": workspace_id},
        ).scalar_one()
    return int(pending), int(open_tasks), int(assigned)


def _cpu_seconds(processes: list[subprocess.Popen[bytes]]) -> float:
    """User + system CPU seconds of these (live) processes so far, from /proc (Linux)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for process in processes:
        try:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def _wait_until_consuming(
    logs: list[Path], processes: list[subprocess.Popen[bytes]], seconds: float = 180.0
) -> None:
    """Until every worker says it consumes (after loading the triage models)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all("consuming" in log.read_text(errors="replace") for log in logs):
            return
        if any(process.poll() is not None for process in processes):
            break
        time.sleep(0.2)
    tails = "\n".join(log.read_text(errors="replace")[-1500:] for log in logs)
    raise RuntimeError(f"workers did not start:\n{tails}")


def start_workers(
    count: int, database_url: str, redis_url: str, prefix: str, log_dir: Path, batch: int
) -> tuple[list[subprocess.Popen[bytes]], list[Path]]:
    """``count`` ``socialdesk worker`` processes on the streams under ``prefix``, each
    reading ``batch`` stream entries at a time and logging to ``log_dir/worker-N.log``;
    returns once every one consumes (imported, connected, models loaded)."""
    env = os.environ | {
        "SOCIALDESK_DATABASE_URL": database_url,
        "SOCIALDESK_REDIS_URL": redis_url,
        "SOCIALDESK_MODE": "scale",
    }
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    for n in range(count):
        logs.append(log_dir / f"worker-{n}.log")
        with logs[-1].open("wb") as log:  # the child keeps its own copy
            processes.append(
                subprocess.Popen(
                    [
                        *(sys.executable, "-m", "socialdesk.cli", "worker"),
                        *("--stream-prefix", prefix, "--batch", str(batch)),
                    ],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    _wait_until_consuming(logs, processes)
    return processes, logs


def stop_workers(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM (each finishes the batch in hand), then a kill after 30 s."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return round(values[min(len(values) - 1, int(q * len(values)))], 3)


def run_pipeline_benchmark(
    *,
    messages: int,
    workers: int,
    rate: float,
    database_url: str | None,
    redis_url: str | None,
    seed: int = 11,
    timeout: float = 600.0,
) -> dict[str, Any]:
    """One run: ``workers`` = 0 is embedded mode; ``rate`` = 0 offers everything at once."""
    scale = workers > 0
    if scale and (not redis_url or not database_url or database_url.startswith("sqlite")):
        raise ValueError("scale mode needs --database-url (PostgreSQL) and --redis-url")
    events = _events(messages, seed)
    with tempfile.TemporaryDirectory(prefix="socialdesk-bench-") as scratch:
        url = database_url or f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        session_factory = make_session_factory(engine)
        slug = f"bench-{uuid.uuid4().hex[:8]}"
        with unit_of_work(session_factory) as session:
            workspace_id = ensure_workspace(session, slug).id
        _add_agents(session_factory, workspace_id)
        prefix = f"bench-{uuid.uuid4().hex[:8]}:"
        bus = RedisStreamsBus(redis_url, prefix=prefix) if scale and redis_url else None
        pipeline = build_pipeline(Settings(database_url=url), session_factory)
        routing = _hearing_engine(session_factory, bus, workspace_id)
        chunk = max(1, int(rate * CHUNK_SECONDS)) if rate > 0 else 500
        processes: list[subprocess.Popen[bytes]] = []
        logs: list[Path] = []
        if bus is not None:
            bus.ensure_group(INGEST_STREAM)
            # The most stream entries a read takes (about READ_EVENTS events), so that one
            # worker does not take all that waits; reads follow the stream's length below it.
            processes, logs = start_workers(
                workers, url, redis_url or "", prefix, Path(scratch), max(1, READ_EVENTS // chunk)
            )
        else:
            pipeline.hooks.after_commit.append(routing.after_commit)
        routing.start()
        # Embedded: each offered chunk is accepted (stored and committed, where a web process
        # answers 202) and handed to the drain, which processes what waits in rounds.
        drain = None if scale else EmbeddedDrain(pipeline)
        dispatcher = ProcessingDispatcher(pipeline, bus, drain)
        load_before = os.getloadavg()
        cpu_before = _cpu_seconds(processes)
        own_cpu_before = time.process_time()
        started = time.monotonic()
        offered = 0
        for index in range(0, len(events), chunk):
            part = arriving_now(events[index : index + chunk])
            accepted = pipeline.accept(workspace_id, part, source="bench")
            dispatcher.dispatch(workspace_id, accepted.accepted)
            offered += len(part)
            if rate > 0:
                ahead = started + offered / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
        offered_seconds = time.monotonic() - started
        deadline = started + timeout
        while time.monotonic() < deadline:
            pending, open_tasks, _ = _state(engine, workspace_id)
            if pending == 0 and open_tasks == 0:
                break
            time.sleep(0.1)
        finished = time.monotonic() - started
        pending, open_tasks, assigned = _state(engine, workspace_id)
        worker_cpu = _cpu_seconds(processes) - cpu_before
        own_cpu = time.process_time() - own_cpu_before
        routing.stop()
        stop_workers(processes)
        if drain is not None:
            drain.stop()
        moments = _moments(engine, workspace_id, routing.heard)
        latencies = sorted(max(0.0, m.assigned - m.stored) for m in moments)
        since_began = sorted(max(0.0, m.assigned - m.conversation_began) for m in moments)
        # Batches that failed and were processed again event by event (a conflict between
        # workers, or a bad event): each is a slow path the figures include.
        fell_back = sum(log.read_text(errors="replace").count("one by one") for log in logs)
        again_whole = sum(
            log.read_text(errors="replace").count("trying it again whole") for log in logs
        )
        # What made batches fail, as the workers logged it (the exception lines, once each).
        errors = sorted(
            {
                line.strip()[:300]
                for log in logs
                for line in log.read_text(errors="replace").splitlines()
                if re.match(r"^[\w.]+(Error|Exception|Detected)\b", line.strip())
            }
        )[:10]
        batches = [
            int(size)
            for log in logs
            for size in re.findall(r"processed (\d+) events", log.read_text(errors="replace"))
        ]
        rounds = drain.stats if drain is not None else None
        if bus is not None:
            bus.client.delete(bus.key(INGEST_STREAM), bus.key("routing"))
            bus.close()
        backend = engine.url.get_backend_name()
        engine.dispose()
    return {
        "benchmark": "pipeline",
        "mode": f"scale, {workers} worker(s)" if scale else "embedded",
        "database": backend,
        "messages": messages,
        "offered_rate_per_second": rate or "as fast as possible",
        "offered_seconds": round(offered_seconds, 2),
        "seconds_to_all_assigned": round(finished, 2),
        "messages_per_second": round(messages / finished, 1) if finished else None,
        "tasks_assigned": assigned,
        "left_pending": pending,
        "left_open": open_tasks,
        "batches_retried_one_by_one": fell_back if scale else None,
        "batches_tried_again_whole": again_whole if scale else None,
        "worker_errors": errors if scale else None,
        # The transactions the workers processed in, and their events (from their logs).
        "worker_batches": (
            {
                "count": len(batches),
                "mean_events": round(sum(batches) / len(batches), 1) if batches else None,
                "max_events": max(batches, default=None),
            }
            if scale
            else None
        ),
        # Embedded: the drain's rounds (each a transaction and a distribution round).
        "embedded_rounds": (
            None
            if rounds is None
            else {
                "count": rounds.rounds,
                "mean_events": rounds.mean,
                "max_events": rounds.largest,
                "failed_events": rounds.failed,
                "failed_rounds": rounds.errors,
            }
        ),
        # CPU seconds the workers (scale) or this process (embedded: accept, process and
        # distribute; scale: accept, announce and distribute) spent while the clock ran. On
        # a shared machine these move less with the load than the wall clock does.
        "worker_cpu_seconds": round(worker_cpu, 2) if scale else None,
        "bench_process_cpu_seconds": round(own_cpu, 2),
        "messages_per_cpu_second": (
            round(messages / (worker_cpu if scale else own_cpu), 1)
            if (worker_cpu if scale else own_cpu) > 0
            else None
        ),
        "accept_to_assigned_p50_s": _percentile(latencies, 0.50),
        "accept_to_assigned_p99_s": _percentile(latencies, 0.99),
        # As measured before 2026-12-07 evening: from the first message of the task's
        # conversation, which counts the customer's own pauses when the conversation began
        # with messages that needed no answer (about 2% of the tasks).
        "conversation_began_to_assigned_p50_s": _percentile(since_began, 0.50),
        "conversation_began_to_assigned_p99_s": _percentile(since_began, 0.99),
        "stages": _stages(moments),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "targets": {"messages_per_second": 3_000, "p99_s_at_500_per_second": 1.0},
        "python": platform.python_version(),
        "machine": platform.machine(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
