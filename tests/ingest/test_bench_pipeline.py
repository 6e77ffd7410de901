"""The pipeline benchmark runs end to end and reports accept-to-assigned figures."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from socialdesk.ingest.bench_pipeline import run_pipeline_benchmark


def test_an_embedded_run_assigns_every_task_and_reports_latencies() -> None:
    report = run_pipeline_benchmark(
        messages=60, workers=0, rate=0.0, database_url=None, redis_url=None, timeout=120
    )
    assert report["mode"] == "embedded" and report["messages"] == 60
    assert report["left_pending"] == 0 and report["left_open"] == 0
    assert report["tasks_assigned"] > 0
    assert report["accept_to_assigned_p50_s"] <= report["accept_to_assigned_p99_s"]
    assert report["messages_per_second"] > 0


def test_scale_mode_needs_postgresql_and_redis() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        run_pipeline_benchmark(messages=10, workers=2, rate=0.0, database_url=None, redis_url=None)


def test_a_scale_run_with_two_workers_reports_their_cpu_and_no_slow_path(
    test_db_backend: str, pg_engine: Engine, redis_url: str
) -> None:
    """Two `socialdesk worker` processes on PostgreSQL and Redis: every task assigned, the
    workers' CPU time measured, and no batch fell back to one-by-one processing."""
    if test_db_backend != "postgresql":
        pytest.skip("scale mode's benchmark runs in the PostgreSQL pass of the suite")
    report = run_pipeline_benchmark(
        messages=200,
        workers=2,
        rate=0.0,
        database_url=pg_engine.url.render_as_string(hide_password=False),
        redis_url=redis_url,
        timeout=180,
    )
    assert report["mode"] == "scale, 2 worker(s)" and report["database"] == "postgresql"
    assert report["left_pending"] == 0 and report["left_open"] == 0
    assert report["tasks_assigned"] > 0
    assert report["worker_cpu_seconds"] > 0 and report["messages_per_cpu_second"] > 0
    assert report["batches_retried_one_by_one"] == 0
