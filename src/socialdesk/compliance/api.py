"""The audit log, a customer's data on request, and retention: admins only, one workspace."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from socialdesk.compliance import repository as repo
from socialdesk.compliance import retention
from socialdesk.compliance.erasure import erase_customer
from socialdesk.compliance.export import export_customer
from socialdesk.core import audit
from socialdesk.core.clock import utcnow
from socialdesk.core.errors import InvalidInput
from socialdesk.core.http import (
    Principal,
    current_workspace,
    db_session,
    request_actor,
    require_role,
)
from socialdesk.core.limits import MAX_DB_INT
from socialdesk.core.models import Workspace
from socialdesk.people.models import Role

router = APIRouter(prefix="/api/v1", tags=["compliance"])
AdminOnly = Annotated[Principal, Depends(require_role(Role.ADMIN))]
CustomerId = Annotated[int, Path(ge=1, le=MAX_DB_INT)]
AUDIT_COLUMNS = (
    "id",
    "created_at",
    "actor",
    "actor_user_id",
    "client",
    "action",
    "target_type",
    "target_id",
    "before",
    "after",
)


class AuditEventOut(BaseModel):
    id: int
    created_at: datetime
    actor: str
    actor_user_id: int | None
    client: str
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any]
    after: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next_cursor: int | None = Field(
        description="Pass as `cursor` for the next (older) page; null on the last page"
    )


@router.get("/audit", response_model=AuditPage)
def list_audit_events(
    _admin: AdminOnly,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    action: Annotated[str | None, Query(max_length=64, examples=["user"])] = None,
    actor: Annotated[str | None, Query(max_length=400)] = None,
    target_type: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: Annotated[int | None, Query(ge=1, le=MAX_DB_INT)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """Newest first. `action` matches one action (`user.updated`) or a family (`user`)."""
    rows = repo.audit_events(
        session,
        workspace.id,
        action=action,
        actor=actor,
        target_type=target_type,
        since=since,
        until=until,
        before_id=cursor,
        limit=limit + 1,
    )
    items = [AuditEventOut.model_validate(r, from_attributes=True) for r in rows[:limit]]
    return AuditPage(items=items, next_cursor=items[-1].id if len(rows) > limit else None)


@router.get("/audit/export")
def export_audit_events(
    _admin: AdminOnly,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    format: Literal["csv", "jsonl"] = "csv",
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> StreamingResponse:
    """The log (or a filtered part) as CSV or JSON lines, oldest last."""
    rows = repo.audit_events(session, workspace.id, action=action, since=since, until=until)
    events = [audit.event_as_dict(r) for r in rows]

    def lines() -> Iterator[str]:
        if format == "jsonl":
            for event in events:
                yield json.dumps(event, ensure_ascii=False) + "\n"
            return
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(AUDIT_COLUMNS)
        for event in events:
            writer.writerow(
                [
                    json.dumps(event[c], ensure_ascii=False)
                    if c in ("before", "after")
                    else event[c]
                    for c in AUDIT_COLUMNS
                ]
            )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    media = "text/csv" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(
        lines(),
        media_type=f"{media}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit.{format}"'},
    )


@router.get("/customers/{customer_id}/export")
def export_customer_data(
    customer_id: CustomerId,
    request: Request,
    _admin: AdminOnly,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> dict[str, Any]:
    """Everything held of one customer (GDPR access and portability), as JSON."""
    return export_customer(session, workspace.id, customer_id, request_actor(request), utcnow())


class ErasureIn(BaseModel):
    confirm: Literal["ERASE"] = Field(description="The word ERASE: erasure cannot be undone")
    reason: str = Field(default="", max_length=500, examples=["GDPR art. 17 request #1234"])


class ErasureOut(BaseModel):
    customer_ids: list[int]
    identities: int
    conversations: int
    messages: int
    raw_events: int
    dead_letters: int


@router.post("/customers/{customer_id}/erase", response_model=ErasureOut)
def erase_customer_data(
    customer_id: CustomerId,
    body: ErasureIn,
    request: Request,
    _admin: AdminOnly,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> ErasureOut:
    """Anonymise the customer in every table (raw events included); counts stay."""
    report = erase_customer(
        session,
        workspace.id,
        customer_id,
        request_actor(request),
        utcnow(),
        reason=body.reason,
    )
    return ErasureOut(**report.as_dict())


class RetentionIn(BaseModel):
    raw_payload_days: int | None = Field(default=None, ge=1, le=36_500, examples=[90])
    closed_case_days: int | None = Field(default=None, ge=1, le=36_500, examples=[730])


@router.get("/retention", response_model=RetentionIn)
def get_retention(
    _admin: AdminOnly, workspace: Workspace = Depends(current_workspace)
) -> RetentionIn:
    return RetentionIn(**retention.policy_of(workspace).as_dict())


@router.put("/retention", response_model=RetentionIn)
def put_retention(
    body: RetentionIn,
    request: Request,
    _admin: AdminOnly,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> RetentionIn:
    policy = retention.set_policy(session, workspace, body.model_dump(), request_actor(request))
    return RetentionIn(**policy.as_dict())


class PruneOut(BaseModel):
    raw_payloads: int
    closed_cases: int
    raw_events_of_cases: int


@router.post("/retention/prune", response_model=PruneOut)
def prune_now(
    request: Request,
    _admin: AdminOnly,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> PruneOut:
    if retention.policy_of(workspace) == retention.RetentionPolicy():
        raise InvalidInput("this workspace has no retention policy: PUT /api/v1/retention first")
    report = retention.prune(session, workspace, utcnow(), request_actor(request))
    return PruneOut(**report.as_dict())
