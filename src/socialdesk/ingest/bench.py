"""The ingest benchmark: accept + process + persist of generated traffic, timed per batch."""

from __future__ import annotations

import itertools
import platform
import resource
import tempfile
import time
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from rich.progress import Progress

from socialdesk.config import Settings
from socialdesk.core.db import make_engine, make_session_factory, unit_of_work
from socialdesk.core.migrate import upgrade
from socialdesk.core.processing import PipelineHooks
from socialdesk.core.workspaces import ensure_workspace
from socialdesk.ingest.pipeline import BULK_BATCH_SIZE
from socialdesk.ingest.wiring import build_pipeline


class IngestStages(StrEnum):
    """What a benchmark run processes after accepting each event."""

    # Normalizing, threading, identity resolution and task opening: the "process" of
    # accept + process + persist, and so the default.
    FOUNDATION = "foundation"
    # Every hook production runs besides: triage, scoring and distribution.
    FULL = "full"


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ingest_benchmark(
    *,
    messages: int,
    batch_size: int = BULK_BATCH_SIZE,
    database_url: str | None = None,
    seed: int = 11,
    stages: IngestStages = IngestStages.FOUNDATION,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Ingests ``messages`` generated events into a fresh database, ``batch_size`` a
    transaction, and reports the speed of ``pipeline.ingest`` alone (generating the events
    is not timed) and the process's peak memory."""
    stages = IngestStages(stages)
    from socialdesk.simulation.traffic import BrandProfile, generate

    with tempfile.TemporaryDirectory(prefix="socialdesk-bench-") as scratch:
        url = database_url or f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        session_factory = make_session_factory(engine)
        with unit_of_work(session_factory) as session:
            workspace_id = ensure_workspace(session, "bench").id
        pipeline = build_pipeline(Settings(database_url=url), session_factory)
        if stages is IngestStages.FOUNDATION:
            pipeline.hooks = PipelineHooks()
        events = generate(
            BrandProfile(), datetime(2026, 1, 5, tzinfo=UTC), None, 20_000.0, seed, limit=messages
        )
        task = progress.add_task("ingest", total=messages) if progress else None
        from socialdesk.triage.memo import MEMO

        memo_before = (MEMO.triaged, MEMO.misses)
        busy = 0.0
        cpu = 0.0
        accepted = processed = 0
        batch_seconds: list[float] = []
        while True:
            batch = list(itertools.islice(events, batch_size))
            if not batch:
                break
            started, cpu_started = time.perf_counter(), time.process_time()
            accept, process = pipeline.ingest(
                workspace_id, batch, source="bench", batch_size=batch_size
            )
            elapsed = time.perf_counter() - started
            cpu += time.process_time() - cpu_started
            busy += elapsed
            batch_seconds.append(elapsed)
            accepted += len(accept.accepted)
            processed += process.processed
            if progress is not None and task is not None:
                progress.advance(task, len(batch))
        engine.dispose()
    # Triage reads a batch's texts ahead of its locks, then answers them from memory: a
    # text triaged counts as read if the run read it at all, else as remembered.
    texts_read = MEMO.misses - memo_before[1]
    texts_remembered = max(0, MEMO.triaged - memo_before[0] - texts_read)
    batch_seconds.sort()
    return {
        "benchmark": "ingest",
        "database": "sqlite (embedded)" if database_url is None else engine.url.get_backend_name(),
        "messages": messages,
        "accepted": accepted,
        "processed": processed,
        "batch_size": batch_size,
        "stages": stages.value,
        "seconds": round(busy, 3),
        "messages_per_second": round(processed / busy, 1) if busy else None,
        # The process's CPU time over the same spans: on a loaded machine, wall time counts
        # the waits for a core too, CPU time only the work.
        "cpu_seconds": round(cpu, 3),
        "messages_per_cpu_second": round(processed / cpu, 1) if cpu else None,
        "batch_p50_ms": round(batch_seconds[len(batch_seconds) // 2] * 1000, 2),
        "batch_max_ms": round(batch_seconds[-1] * 1000, 2),
        "peak_memory_mb": round(_peak_rss_mb(), 1),
        # Texts triage read (the others were answered from its memory; 0 without triage).
        "triage_texts_read": texts_read,
        "triage_texts_remembered": texts_remembered,
        "targets": {"messages_per_second": 10_000, "peak_memory_mb": 500},
        "python": platform.python_version(),
        "machine": platform.machine(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
