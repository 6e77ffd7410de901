"""Console and dashboard response times over a large workspace on embedded SQLite (JSON report).

    python benchmarks/bench_console.py --messages 20000 --json benchmarks/results/console.json

Generated traffic goes through the real pipeline (triage, scoring); then a signed-in
supervisor loads the inbox, a conversation, the dashboard and the live-update fingerprint,
each many times, in process (no network). Reports p50/p95/max milliseconds per screen.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from socialdesk.config import Settings
from socialdesk.core.db import make_engine, make_session_factory
from socialdesk.core.report_file import json_report
from socialdesk.core.work import Task
from socialdesk.core.workspaces import ensure_workspace
from socialdesk.priority import repository as priority_repository
from socialdesk.priority.service import ScoringHook
from socialdesk.routing.service import upsert_agent
from socialdesk.simulation.traffic import BrandProfile, generate_n
from socialdesk.web import console_repository
from socialdesk.web.app import create_app
from socialdesk.web.auth import create_user

PASSWORD = "benchmark-password"


def _timed(fn: Callable[[], Any], runs: int) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "runs": runs,
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2),
        "max_ms": round(samples[-1], 2),
    }


def run(messages: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(default_workspace="bench", data_dir=Path(tmp))
        engine = make_engine(settings.effective_database_url)
        app = create_app(settings, engine=engine)
        hooks = app.state.pipeline.hooks
        if not any(isinstance(h, ScoringHook) for h in hooks.on_tasks_changed):
            hooks.on_tasks_changed.append(ScoringHook())
        factory = make_session_factory(engine)
        with factory() as s:
            ws = ensure_workspace(s, "bench").id
            create_user(s, ws, "boss@bench.example", "Boss", PASSWORD, "supervisor")
            upsert_agent(s, ws, "boss@bench.example", "Boss", role="supervisor")
            s.commit()
        events = generate_n(
            BrandProfile(),
            messages,
            seed=11,
            start=datetime.now(UTC) - timedelta(hours=23),
            rate_per_hour=max(1.0, messages / 23),
        )
        started = time.perf_counter()
        for i in range(0, len(events), 2000):
            app.state.pipeline.ingest(ws, events[i : i + 2000], source="bench")
        ingest_seconds = time.perf_counter() - started
        with factory() as s:
            open_tasks = len(priority_repository.active_task_ids(s, ws))
            case = s.scalars(select(Task.conversation_id).limit(1)).one()

        with TestClient(app, base_url="https://bench") as client:
            form = client.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form)
            assert token is not None
            client.post(
                "/login",
                data={
                    "email": "boss@bench.example",
                    "password": PASSWORD,
                    "csrf_token": token.group(1),
                },
            )

            def get(url: str) -> Callable[[], Any]:
                def call() -> None:
                    response = client.get(url)
                    assert response.status_code == 200, (url, response.status_code)

                return call

            def dashboard() -> None:
                # Measure the build, not the per-change cache the live dashboards share.
                app.state.dashboard_cache.clear()
                get("/dashboard/live")()

            def fingerprint() -> None:
                with factory() as s:
                    console_repository.change_marker(s, ws)

            report = {
                "database": "embedded SQLite",
                "messages": messages,
                "open_tasks": open_tasks,
                "ingest_seconds": round(ingest_seconds, 1),
                "inbox_all": _timed(get("/console/inbox?scope=all"), runs),
                "inbox_team": _timed(get("/console/inbox?scope=team"), runs),
                "conversation": _timed(get(f"/console/c/{case}"), runs),
                "dashboard": _timed(dashboard, max(5, runs // 4)),
                "live_fingerprint": _timed(fingerprint, runs * 4),
            }
        engine.dispose()
        return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    report = run(args.messages, args.runs)
    print(json_report(report, args.json))


if __name__ == "__main__":
    main()
