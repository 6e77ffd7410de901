"""The soak benchmark samples memory, latency and errors over time while agents answer."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from socialdesk.ingest.bench_soak import agents_for, run_soak
from socialdesk.triage.features import CACHE_LIMIT, PAIR_CACHE_LIMIT
from socialdesk.triage.memo import MEMO_LIMIT


def test_a_short_soak_reports_samples_over_time_without_errors() -> None:
    seen: list[dict[str, object]] = []
    report = run_soak(
        minutes=0.2, rate=10.0, sample_every=1.0, warm_up=20_000, on_sample=seen.append
    )
    samples = report["samples"]
    assert seen == samples  # each as it was taken
    assert samples  # one a second once the first batch (which loads triage) is through
    assert [s["seconds"] for s in samples] == sorted(s["seconds"] for s in samples)
    assert all(s["rss_mb"] > 0 and s["errors"] == 0 and s["failed_events"] == 0 for s in samples)
    assert samples[-1]["messages"] >= samples[0]["messages"] > 0
    assert report["messages"] == samples[-1]["messages"]
    assert report["errors"] == 0 and report["mode"] == "embedded"
    # What must stay bounded is reported, within its bound.
    bounded = samples[-1]["bounded"]
    assert 0 < bounded["triage_memo"] <= MEMO_LIMIT
    assert 0 < bounded["hashed_chunks"] <= CACHE_LIMIT
    assert bounded["word_pairs"] <= PAIR_CACHE_LIMIT
    assert bounded["agents"] == report["agents"] == 30
    assert bounded["widening_moments"] <= 2 * (bounded["open_tasks"] + 10) + 64
    assert samples[-1]["native"]["heap_in_use_mb"] > 0  # Linux: glibc's heap, beside RSS


def test_the_simulated_team_keeps_up_with_the_rate() -> None:
    # Each agent holds 5 cases for 3 s: the team must serve a task per message.
    assert agents_for(10) == 30  # never fewer
    assert agents_for(500) == 300
    assert agents_for(500) * 5 / 3 >= 500
    assert agents_for(2_000) * 5 / 3 >= 2_000


def test_scale_mode_needs_postgresql_and_redis() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        run_soak(minutes=0.1, rate=5.0, mode="scale")
    with pytest.raises(ValueError, match="embedded or scale"):
        run_soak(minutes=0.1, rate=5.0, mode="sideways")


def test_a_scale_mode_soak_runs_workers_and_reports_each_ones_memory(
    test_db_backend: str, pg_engine: Engine, redis_url: str
) -> None:
    if test_db_backend != "postgresql":
        pytest.skip("scale mode's soak runs in the PostgreSQL pass of the suite")
    url = pg_engine.url.render_as_string(hide_password=False)
    report = run_soak(
        minutes=0.5,
        rate=10.0,
        sample_every=2.0,
        mode="scale",
        workers=1,
        database_url=url,
        redis_url=redis_url,
        warm_up=20_000,
    )
    samples = report["samples"]
    assert report["mode"] == "scale, 1 worker(s)" and report["database"] == "postgresql"
    assert samples and report["errors"] == 0
    assert all(s["failed_events"] == 0 and s["worker_errors"] == 0 for s in samples)
    assert all(s["logged_errors"] == 0 for s in samples)  # no failed routing round
    assert all(len(s["worker_rss_mb"]) == 1 for s in samples)
    assert samples[-1]["worker_rss_mb"][0] > 0  # the worker is alive and measured
    assert samples[-1]["worker_exits"] == [None]
    assert samples[-1]["messages"] > 0
    # The worker processed what was accepted, and agents were assigned work.
    assert any(s["p99_accept_to_assigned_s"] is not None for s in samples)
    assert len(report["worker_rss_growth_second_half_percent"]) == 1


def test_the_command_refuses_scale_mode_without_postgresql_and_redis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from socialdesk.cli import app
    from socialdesk.config import get_settings

    monkeypatch.setenv("SOCIALDESK_DATABASE_URL", "sqlite:///nowhere.sqlite3")
    monkeypatch.delenv("SOCIALDESK_REDIS_URL", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["bench", "soak", "--mode", "scale", "--minutes", "0.1"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "PostgreSQL" in result.output and "redis" in result.output
