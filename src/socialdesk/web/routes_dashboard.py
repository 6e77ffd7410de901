"""The supervisor dashboard, re-rendered live when the workspace changes."""

from __future__ import annotations

import threading
import time

from fastapi import APIRouter, Request
from fastapi.responses import Response

from socialdesk.analytics import charts
from socialdesk.analytics.service import Dashboard, build_dashboard
from socialdesk.listening import alerts as alert_service
from socialdesk.web import console_repository, integrations
from socialdesk.web.date_range import PRESETS, DateRange, parse_range
from socialdesk.web.guard import DbSession, SupervisorViewer, Viewer, get_clock
from socialdesk.web.live import LiveHub
from socialdesk.web.templating import render

router = APIRouter(prefix="/dashboard", tags=["dashboard"], include_in_schema=False)


# Every supervisor of a workspace sees the same figures: build them once while nothing
# changed (the live stream asks every open dashboard to refresh at the same moment), and at
# least every few seconds so that waiting times keep moving.
CACHE_SECONDS = 5.0
_cache_lock = threading.Lock()


def _context(request: Request, viewer: Viewer, db: DbSession) -> dict[str, object]:
    ws = viewer.workspace_id
    span = parse_range(request.query_params, get_clock(request)())
    hub: LiveHub = request.app.state.live_hub
    factory = request.app.state.session_factory

    def compute() -> object:
        with factory() as session:
            return console_repository.change_marker(session, ws)

    # This process's own actions bump the hub's version, so they show at once; changes
    # committed elsewhere show once the shared fingerprint (at most a second old) sees them.
    marker = (hub.version(ws), hub.marker(ws, compute))
    cache: dict[tuple[int, str], tuple[float, object, dict[str, object]]] = (
        request.app.state.dashboard_cache
    )
    now = time.monotonic()
    with _cache_lock:
        hit = cache.get((ws, span.key))
    if hit is not None and hit[1] == marker and now - hit[0] < CACHE_SECONDS:
        return hit[2]
    context = _build(request, viewer, db, span)
    with _cache_lock:
        cache[(ws, span.key)] = (now, marker, context)
    return context


def _build(request: Request, viewer: Viewer, db: DbSession, span: DateRange) -> dict[str, object]:
    ws = viewer.workspace_id
    now = get_clock(request)()
    board = build_dashboard(
        db,
        ws,
        clock=lambda: now,
        presence=integrations.presence_of(db, ws),
        capacity=integrations.capacity_of(db, ws),
        sentiment_trend=integrations.sentiment_trend(db, ws, now, span.window),
        topic_counts=integrations.topic_counts(db, ws, now, span.window),
        window=span.window,
    )
    alerts = alert_service.bell(db, ws, unacknowledged=True, limit=10)
    return {
        "board": board,
        "charts": _charts(board, span),
        "volume_rows": _volume_rows(board),
        "span": span,
        "presets": PRESETS,
        "alerts": alerts,
    }


def _volume_rows(board: Dashboard) -> list[tuple[object, list[int]]]:
    """The volume chart's data as table rows: hours with any message, newest first."""
    volume = board.volume
    rows = [
        (hour, [volume.counts[ch][i] for ch in volume.channels])
        for i, hour in enumerate(volume.hours)
    ]
    return [row for row in reversed(rows) if sum(row[1])]


def _charts(board: Dashboard, span: DateRange) -> dict[str, object]:
    hour_format = "%H" if len(board.volume.hours) <= 24 else "%d %b %H:00"
    hours = [h.strftime(hour_format) for h in board.volume.hours]
    out: dict[str, object] = {
        "volume": charts.stacked_bars(
            hours,
            board.volume.counts,
            title="Inbound messages per channel per hour (UTC)",
            width=1200,
            height=240,
        ),
        "first_response": charts.bars(
            board.first_response.labels,
            board.first_response.counts,
            title=f"First-response time, {span.label}",
        ),
        "attainment": charts.hbars(
            [s.group for s in board.sla_by_channel],
            [round((s.attainment or 0) * 100) for s in board.sla_by_channel],
            title="Answered within the service level, % per channel",
        ),
        "load": charts.hbars(
            [a.name for a in board.agents],
            [a.load for a in board.agents],
            capacity=[a.capacity for a in board.agents],
            title="Agent load (red mark: capacity)",
        ),
    }
    if board.sentiment:
        out["sentiment"] = charts.line(
            [p.hour.strftime("%d %b %H:00") for p in board.sentiment],
            [p.mean for p in board.sentiment],
            title="Mean sentiment per hour",
        )
    if board.topics:
        out["topics"] = charts.hbars(
            [t for t, _ in board.topics],
            [n for _, n in board.topics],
            title=f"Top topics, {span.label}",
        )
    return out


@router.get("")
def dashboard_page(request: Request, viewer: SupervisorViewer, db: DbSession) -> Response:
    return render(request, "dashboard.html", _context(request, viewer, db))


@router.get("/live")
def dashboard_fragment(request: Request, viewer: SupervisorViewer, db: DbSession) -> Response:
    return render(request, "_dashboard_body.html", _context(request, viewer, db))
