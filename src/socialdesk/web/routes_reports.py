"""Business reports on the dashboard: any range of days in a chosen timezone, with links to
the same report and the exports as files."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from socialdesk.analytics import charts
from socialdesk.analytics.report_metrics import DIMENSIONS, range_from_params
from socialdesk.analytics.reports import build_report
from socialdesk.web.guard import DbSession, SupervisorViewer, get_clock
from socialdesk.web.templating import render

router = APIRouter(prefix="/dashboard", tags=["dashboard"], include_in_schema=False)
COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)


@router.get("/reports")
def reports_page(
    request: Request,
    viewer: SupervisorViewer,
    db: DbSession,
    first: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    last: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    tz: Annotated[str, Query(max_length=64)] = "UTC",
    bucket: Literal["day", "hour"] = "day",
) -> Response:
    now = get_clock(request)()
    span = range_from_params(first or None, last or None, tz, now)
    report = build_report(db, viewer.workspace_id, span, bucket=bucket, now=now)
    query = urlencode(
        {"from": span.first.isoformat(), "to": span.last.isoformat(), "tz": span.tz_name}
    )
    labels = list(report.buckets)
    short = [key[5:10] if bucket == "day" else key[11:13] for key in labels]
    volume = charts.stacked_bars(
        short,
        {
            "inbound": [f.inbound for f in report.buckets.values()],
            "outbound": [f.outbound for f in report.buckets.values()],
        },
        title=f"Messages in and out per {bucket} ({span.tz_name})",
        width=1200,
        height=240,
    )
    context = {
        "report": report,
        "total": report.total.summary(),
        "span": span,
        "bucket": bucket,
        "query": query,
        "volume_chart": volume,
        "dimensions": DIMENSIONS,
        "zones": COMMON_ZONES,
    }
    return render(request, "reports.html", context)
