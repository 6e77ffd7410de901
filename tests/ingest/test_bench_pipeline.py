"""The pipeline benchmark runs end to end and reports accept-to-assigned figures."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from socialdesk.ingest.bench_pipeline import Moments, _stages, run_pipeline_benchmark


def test_an_embedded_run_assigns_every_task_and_reports_latencies() -> None:
    report = run_pipeline_benchmark(
        messages=60, workers=0, rate=0.0, database_url=None, redis_url=None, timeout=120
    )
    assert report["mode"] == "embedded" and report["messages"] == 60
    assert report["left_pending"] == 0 and report["left_open"] == 0
    assert report["tasks_assigned"] > 0
    assert report["accept_to_assigned_p50_s"] <= report["accept_to_assigned_p99_s"]
    assert report["messages_per_second"] > 0
    # Measured from the message that opened each task, never before its conversation began.
    assert report["accept_to_assigned_p99_s"] <= report["conversation_began_to_assigned_p99_s"]
    # Embedded mode: the engine hears of every task from the pipeline, right after its commit.
    heard = report["stages"]["heard_to_assigned"]
    assert heard["tasks"] == report["tasks_assigned"]
    assert heard["p99_s"] <= report["accept_to_assigned_p99_s"]


def test_stages_split_each_task_path_where_its_moments_are_known() -> None:
    moments = [
        Moments(stored=0.0, taken=0.2, heard=0.5, assigned=0.6, conversation_began=0.0),
        Moments(stored=1.0, taken=1.1, heard=None, assigned=3.0, conversation_began=0.5),
        Moments(stored=2.0, taken=None, heard=None, assigned=2.5, conversation_began=2.0),
    ]
    stages = _stages(moments)
    assert stages["stored_to_taken"]["tasks"] == 2
    assert stages["stored_to_taken"]["p99_s"] == pytest.approx(0.2)
    assert stages["taken_to_heard"] == {"p50_s": 0.3, "p99_s": 0.3, "tasks": 1}
    assert stages["heard_to_assigned"]["p50_s"] == pytest.approx(0.1)


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
