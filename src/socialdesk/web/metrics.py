"""``/metrics`` (Prometheus text format) and ``/ready`` (can this process serve?).

``/metrics`` gives this process's counters and histograms (``socialdesk.core.metrics``) and,
read at scrape time, the shared state: per stage of the pipeline the stream's lag (entries
not yet delivered to a worker), its pending entries (delivered, not acknowledged) and the age
of the oldest one, the age of the oldest stored event still waiting for processing, and the
outbox's queue and failures per channel. It holds counts only, no customer data; expose it
to the monitoring network, not the internet.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text

from socialdesk.channels.repository import outbox_counts
from socialdesk.core.bus import INGEST_STREAM, RedisStreamsBus
from socialdesk.core.clock import utcnow
from socialdesk.core.migrate import current_heads, head_revisions
from socialdesk.ingest.repository import oldest_pending_received_at

STAGES = (INGEST_STREAM,)


class SharedStateCollector(Collector):
    """Gauges read from Redis and the database when scraped."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._streams()
        yield from self._database()

    def _streams(self) -> Iterator[GaugeMetricFamily]:
        bus: RedisStreamsBus | None = self.app.state.dispatcher.bus
        if bus is None:
            return
        lag = GaugeMetricFamily(
            "socialdesk_stream_lag", "Entries not yet delivered to any worker", labels=["stage"]
        )
        pending = GaugeMetricFamily(
            "socialdesk_stream_pending", "Entries delivered, not yet acknowledged", labels=["stage"]
        )
        oldest = GaugeMetricFamily(
            "socialdesk_stream_oldest_pending_seconds",
            "Age of the oldest entry delivered and not yet acknowledged",
            labels=["stage"],
        )
        for stage in STAGES:
            state = stream_state(bus, stage)
            lag.add_metric([stage], state["lag"])
            pending.add_metric([stage], state["pending"])
            oldest.add_metric([stage], state["oldest_pending_seconds"])
        yield from (lag, pending, oldest)

    def _database(self) -> Iterator[GaugeMetricFamily]:
        with self.app.state.session_factory() as session:
            oldest = oldest_pending_received_at(session)
            outbox = outbox_counts(session)
        waiting = GaugeMetricFamily(
            "socialdesk_ingest_oldest_pending_seconds",
            "Age of the oldest stored event still waiting for processing",
        )
        waiting.add_metric([], 0.0 if oldest is None else (utcnow() - oldest).total_seconds())
        yield waiting
        queued = GaugeMetricFamily(
            "socialdesk_outbox_queued", "Replies waiting to be sent", labels=["channel"]
        )
        failed = GaugeMetricFamily(
            "socialdesk_outbox_failed", "Replies that failed for good", labels=["channel"]
        )
        for (channel, status), n in sorted(outbox.items()):
            (failed if status == "failed" else queued).add_metric([channel], n)
        yield from (queued, failed)


def stream_state(bus: RedisStreamsBus, stage: str) -> dict[str, float]:
    key = bus.key(stage)
    state = {"lag": 0.0, "pending": 0.0, "oldest_pending_seconds": 0.0}
    if not bus.client.exists(key):
        return state
    groups: Any = bus.client.xinfo_groups(key)
    for group in groups:
        if group.get("name") in (bus.group, bus.group.encode()):
            state["lag"] = float(group.get("lag") or 0)
            state["pending"] = float(group.get("pending") or 0)
    first: Any = bus.client.xpending_range(key, bus.group, min="-", max="+", count=1)
    if first:
        entry_id = first[0]["message_id"]
        entry_id = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        announced_ms = int(entry_id.split("-", 1)[0])
        state["oldest_pending_seconds"] = max(0.0, time.time() - announced_ms / 1000)
    return state


def readiness(app: FastAPI) -> tuple[bool, dict[str, str]]:
    checks: dict[str, str] = {}
    try:
        with app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    if checks["database"] == "ok":
        current, heads = current_heads(app.state.engine), head_revisions()
        checks["migrations"] = (
            "ok" if current == heads else f"at {sorted(current)}, expected {sorted(heads)}"
        )
    bus: RedisStreamsBus | None = app.state.dispatcher.bus
    if bus is None:
        checks["redis"] = "not used (embedded mode)"
    else:
        try:
            bus.client.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"unreachable: {type(exc).__name__}"
    ok = all(v == "ok" or v.startswith("not used") for v in checks.values())
    return ok, checks


def install_metrics(app: FastAPI) -> None:
    registry = CollectorRegistry()
    registry.register(SharedStateCollector(app))

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    def metrics() -> Response:
        body = generate_latest(REGISTRY) + generate_latest(registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @app.get("/ready", tags=["health"])
    def ready(request: Request) -> JSONResponse:
        """Ready to serve: database reachable and migrated, Redis reachable (scale mode)."""
        ok, checks = readiness(request.app)
        return JSONResponse({"ready": ok, **checks}, status_code=200 if ok else 503)
