"""/metrics speaks Prometheus and counts what happens; /ready says whether a process can serve."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.config import Settings
from socialdesk.core.bus import INGEST_STREAM
from socialdesk.core.models import Workspace
from socialdesk.web.app import create_app
from tests.web.test_read_api import bearer


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one series in Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    prefix = f"{name}{{{wanted}}} " if labels else f"{name} "
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def an_event(i: int) -> dict[str, object]:
    return {
        "channel": "x",
        "external_id": f"m{uuid.uuid4().hex}-{i}",
        "author": {"id": f"a{i}"},
        "text": "my router is down",
        "created_at": "2026-11-02T09:00:00Z",
    }


@pytest.fixture
def client(
    engine: Engine, session_factory: sessionmaker[Session], workspace: Workspace
) -> Iterator[TestClient]:
    app = create_app(Settings(default_workspace="acme"), engine=engine, migrate=False)
    with TestClient(app) as c:
        c.headers.update(bearer(session_factory, workspace.id, "admin"))
        yield c


def test_metrics_count_accepted_events_and_requests_by_route(client: TestClient) -> None:
    before = client.get("/metrics").text
    response = client.post("/api/v1/events", json=[an_event(i) for i in range(3)])
    assert response.status_code == 202
    after = client.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text
    accepted = "socialdesk_events_accepted_total"
    assert sample(text, accepted, source="api") - sample(before, accepted, source="api") == 3
    requests = "socialdesk_http_request_duration_seconds_count"
    labels = {"method": "POST", "route": "/api/v1/events", "status": "202"}
    assert sample(text, requests, **labels) - sample(before, requests, **labels) == 1
    for name in (
        "socialdesk_events_processed_total",
        "socialdesk_events_failed_total",
        "socialdesk_distribution_latency_seconds_bucket",
        "socialdesk_sla_breaches_total",
        "socialdesk_ingest_oldest_pending_seconds",
        "socialdesk_outbox_queued",
    ):
        assert name in text, name


def test_ready_checks_the_database_and_its_migrations(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {
        "ready": True,
        "database": "ok",
        "migrations": "ok",
        "redis": "not used (embedded mode)",
    }


def test_scale_mode_reports_stream_lag_and_is_not_ready_without_redis(
    engine: Engine, session_factory: sessionmaker[Session], workspace: Workspace, redis_url: str
) -> None:
    app = create_app(
        Settings(default_workspace="acme", mode="scale", redis_url=redis_url),
        engine=engine,
        migrate=False,
    )
    bus = app.state.dispatcher.bus
    bus.prefix = f"t{uuid.uuid4().hex[:8]}:"  # a stream of this test's own
    bus.ensure_group(INGEST_STREAM)
    try:
        with TestClient(app) as c:
            c.headers.update(bearer(session_factory, workspace.id, "admin"))
            assert c.post("/api/v1/events", json=[an_event(1)]).status_code == 202
            text = c.get("/metrics").text
            assert sample(text, "socialdesk_stream_lag", stage="ingest") == 1
            assert sample(text, "socialdesk_ingest_oldest_pending_seconds") >= 0
            assert c.get("/ready").json()["redis"] == "ok"
    finally:
        bus.client.delete(bus.key(INGEST_STREAM))
    unreachable = create_app(
        Settings(default_workspace="acme", mode="scale", redis_url="redis://127.0.0.1:1/0"),
        engine=engine,
        migrate=False,
    )
    response = TestClient(unreachable).get("/ready")
    assert response.status_code == 503
    assert response.json()["redis"].startswith("unreachable")


def test_made_up_methods_share_one_series(client: TestClient) -> None:
    for i in range(30):
        client.request(f"BREW{i}", "/health")
    text = client.get("/metrics").text
    series = "socialdesk_http_request_duration_seconds_count"
    assert "BREW" not in text  # not a series per method a client makes up
    assert sample(text, series, method="other", route="/health", status="405") >= 30
