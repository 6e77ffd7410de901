"""Business reports and streamed exports: supervisors and admins, one workspace."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.analytics import exports
from socialdesk.analytics.report_metrics import ReportRange, range_from_params
from socialdesk.analytics.reports import REPORT_COLUMNS, build_report
from socialdesk.core.clock import utcnow
from socialdesk.core.http import (
    ERROR_RESPONSES,
    Principal,
    current_workspace,
    db_session,
    require_role,
)
from socialdesk.core.models import Workspace
from socialdesk.people.models import Role

router = APIRouter(prefix="/api/v1", tags=["reports"])
ERRORS: dict[int | str, dict[str, Any]] = {
    status: ERROR_RESPONSES[status] for status in (400, 401, 403)
}
Supervisor = Annotated[Principal, Depends(require_role(Role.SUPERVISOR))]
First = Annotated[
    str | None,
    Query(
        alias="from",
        max_length=10,
        description="First day (YYYY-MM-DD) in `tz`; default: six days before `to`",
        examples=["2026-11-01"],
    ),
]
Last = Annotated[
    str | None,
    Query(
        alias="to",
        max_length=10,
        description="Last day, included (YYYY-MM-DD) in `tz`; default: today",
        examples=["2026-11-30"],
    ),
]
Tz = Annotated[
    str,
    Query(max_length=64, description="IANA timezone of the days", examples=["Europe/Paris"]),
]


def _filename(stem: str, span: ReportRange, fmt: str) -> str:
    return f"{stem}-{span.first.isoformat()}-{span.last.isoformat()}.{fmt}"


def _streamed(
    factory: sessionmaker[Session], produce: Any, media: str, filename: str
) -> StreamingResponse:
    """Streams from a session of its own, held until the last chunk has gone."""

    def chunks() -> Iterator[str]:
        with factory() as session:
            yield from produce(session)

    return StreamingResponse(
        chunks(),
        media_type=f"{media}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


REPORT_EXAMPLE = {
    "range": {
        "from": "2026-11-01",
        "to": "2026-11-30",
        "timezone": "Europe/Paris",
        "start": "2026-10-31T23:00:00+00:00",
        "end": "2026-11-30T23:00:00+00:00",
        "bucket": "day",
    },
    "generated_at": "2026-12-01T08:00:00+00:00",
    "total": {
        "inbound": 1520,
        "outbound": 1210,
        "conversations": 980,
        "needing_response": 760,
        "answered": 731,
        "response_rate": 0.9618,
        "first_response_p50": 840.0,
        "first_response_p90": 3960.0,
        "sla_attainment": 0.912,
    },
    "breakdowns": {"channel": {"x": {"inbound": 900}, "email": {"inbound": 620}}},
    "buckets": [{"bucket": "2026-11-01", "inbound": 48}],
}


@router.get(
    "/reports",
    summary="A business report over a range of days",
    responses={
        **ERRORS,
        200: {
            "content": {"application/json": {"example": REPORT_EXAMPLE}, "text/csv": {}},
            "description": "The report (JSON, or CSV with format=csv)",
        },
    },
)
def get_report(
    _who: Supervisor,
    first: First = None,
    last: Last = None,
    tz: Tz = "UTC",
    bucket: Literal["day", "hour"] = "day",
    format: Literal["json", "csv"] = "json",
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> Any:
    """Volume in and out, response rate, first-, next-response and resolution times
    (p50/p90, seconds), service-level attainment: for the whole range, per channel, team,
    agent, topic and kind, and per day or hour in `tz`."""
    now = utcnow()
    span = range_from_params(first, last, tz, now)
    report = build_report(session, workspace.id, span, bucket=bucket, now=now)
    if format == "json":
        return report.as_dict()
    return StreamingResponse(
        exports.csv_chunks(REPORT_COLUMNS, report.rows()),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{_filename("report", span, "csv")}"'
        },
    )


@router.get(
    "/exports/{kind}",
    summary="Conversations, messages or tasks of a range, streamed",
    responses={
        **ERRORS,
        200: {
            "content": {"text/csv": {}, "application/x-ndjson": {}},
            "description": "One row per conversation, message or task, streamed",
        },
    },
)
def export_rows(
    kind: Literal["conversations", "messages", "tasks"],
    request: Request,
    _who: Supervisor,
    first: First = None,
    last: Last = None,
    tz: Tz = "UTC",
    format: Literal["csv", "jsonl"] = "csv",
    workspace: Workspace = Depends(current_workspace),
) -> StreamingResponse:
    """Conversations (started in the range), their tasks, or messages (written in the
    range), with service-level outcomes; streamed, so a year goes out in flat memory.
    Erased customers' messages are exported without their text, as stored."""
    now = utcnow()
    span = range_from_params(first, last, tz, now)
    exports.check(kind, format)
    ws = workspace.id
    media = "text/csv" if format == "csv" else "application/x-ndjson"
    return _streamed(
        request.app.state.session_factory,
        lambda s: exports.export_chunks(s, ws, kind, span, format, now),
        media,
        _filename(kind, span, format),
    )
