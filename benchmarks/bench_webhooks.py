"""Webhook answer time: a real server on loopback receives signed X Account Activity events.

    python benchmarks/bench_webhooks.py --events 500 --json benchmarks/results/webhooks.json

Each POST is verified, stored and answered; processing (threading, customers, tasks) runs
after the answer. Reports the answer latency (p50/p95/p99/max; the target is under 200 ms)
and how long processing of everything took. Embedded SQLite in a temporary directory
unless --database-url is given.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import socket
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import func, select

from socialdesk.channels.accounts import create_account
from socialdesk.channels.base import AccountRef
from socialdesk.channels.inbox import RawEvent, RawEventStatus
from socialdesk.channels.x import XConnector
from socialdesk.config import Settings
from socialdesk.core.db import make_engine, unit_of_work
from socialdesk.core.report_file import json_report
from socialdesk.core.workspaces import ensure_workspace
from socialdesk.web.app import create_app

SECRET = "bench-consumer-secret"


def _event(n: int, start: datetime) -> bytes:
    at = start + timedelta(seconds=n)
    return json.dumps(
        {
            "for_user_id": "900",
            "tweet_create_events": [
                {
                    "id_str": str(1_900_000_000_000_000_001 + n),
                    "text": f"@AcmeCare order {n} has not arrived, any news?",
                    "created_at": at.strftime("%a %b %d %H:%M:%S +0000 %Y"),
                    "timestamp_ms": str(int(at.timestamp() * 1000)),
                    "in_reply_to_status_id_str": None,
                    "user": {
                        "id_str": str(10_000 + n % 300),
                        "screen_name": f"user{n % 300}",
                        "name": "Customer",
                        "followers_count": n % 5000,
                        "verified": False,
                    },
                }
            ],
        }
    ).encode()


def _sign(body: bytes) -> str:
    return (
        "sha256="
        + base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(events: int, database_url: str | None, store_only: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=database_url, secret_key="bench")
        engine = make_engine(settings.effective_database_url)
        app = create_app(settings, engine=engine)
        if store_only:
            # Measures the answer alone: events are stored but nothing processes them.
            import socialdesk.channels.webhooks as webhooks

            webhooks.process_soon = lambda pipeline, workspace_id: None
        with unit_of_work(app.state.session_factory) as session:
            workspace_id = ensure_workspace(session, "bench").id
            account_id = create_account(
                session,
                workspace_id=workspace_id,
                channel="x",
                external_id="900",
                secret_key=settings.secret_key,
                credentials={"consumer_secret": SECRET},
            ).id
        # The first processed batch loads the triage models; measured apart, so that the
        # figures below are the steady state of a running server.
        warm = time.perf_counter()
        warm_events = XConnector().parse(
            _event(-1, datetime.now(UTC) - timedelta(days=1)),
            AccountRef(account_id, workspace_id, "x", "900"),
        )
        app.state.pipeline.ingest(workspace_id, warm_events)
        warmup_s = time.perf_counter() - warm
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        start = datetime.now(UTC) - timedelta(hours=1)
        bodies = [_event(n, start) for n in range(events)]
        latencies: list[float] = []
        began = time.perf_counter()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            for body in bodies:
                t0 = time.perf_counter()
                response = client.post(
                    f"/webhooks/x/{account_id}",
                    content=body,
                    headers={"x-twitter-webhooks-signature": _sign(body)},
                )
                latencies.append((time.perf_counter() - t0) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"unexpected answer {response.status_code}: {response.text}")
        answered = time.perf_counter() - began
        deadline = time.perf_counter() + (0 if store_only else 300)
        pending = events
        while time.perf_counter() < deadline:
            with app.state.session_factory() as session:
                pending = (
                    session.scalar(
                        select(func.count())
                        .select_from(RawEvent)
                        .where(RawEvent.status == RawEventStatus.PENDING)
                    )
                    or 0
                )
            if pending == 0:
                break
            time.sleep(0.1)
        processed = time.perf_counter() - began
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)

    return {
        "benchmark": "webhooks",
        "database": "sqlite" if database_url is None else engine.dialect.name,
        "events": events,
        "answer_ms": {
            "p50": pct(0.50),
            "p95": pct(0.95),
            "p99": pct(0.99),
            "max": round(ordered[-1], 2),
            "mean": round(statistics.fmean(latencies), 2),
        },
        "answered_per_s": round(events / answered, 1),
        "all_processed_s": round(processed, 2),
        "left_pending": pending,
        "warmup_s": round(warmup_s, 2),
        "processing": "skipped" if store_only else "in the background",
        "target_answer_ms": 200,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--store-only", action="store_true", help="do not process events")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    report = run(args.events, args.database_url, args.store_only)
    print(json_report(report, args.json))


if __name__ == "__main__":
    main()
