"""The soak benchmark samples memory, latency and errors over time while agents answer."""

from __future__ import annotations

from socialdesk.ingest.bench_soak import run_soak


def test_a_short_soak_reports_samples_over_time_without_errors() -> None:
    report = run_soak(minutes=0.2, rate=10.0, sample_every=1.0)
    samples = report["samples"]
    assert samples  # one a second once the first batch (which loads triage) is through
    assert [s["seconds"] for s in samples] == sorted(s["seconds"] for s in samples)
    assert all(s["rss_mb"] > 0 and s["errors"] == 0 and s["failed_events"] == 0 for s in samples)
    assert samples[-1]["messages"] >= samples[0]["messages"] > 0
    assert report["messages"] == samples[-1]["messages"] or report["messages"] > 0
