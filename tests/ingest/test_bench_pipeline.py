"""The pipeline benchmark runs end to end and reports accept-to-assigned figures."""

from __future__ import annotations

import pytest

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
