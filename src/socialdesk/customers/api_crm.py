"""Live CRM updates: the brand's CRM pushes changed customers as they change."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from socialdesk.core.clock import utcnow
from socialdesk.core.http import Principal, current_workspace, db_session, require_role
from socialdesk.core.models import Workspace
from socialdesk.customers.crm_import import CrmRecord, Problem, apply_records, parse_record
from socialdesk.people.models import Role
from socialdesk.priority.service import rescore_customers

router = APIRouter(prefix="/api/v1", tags=["customers"])


class CrmUpdate(BaseModel):
    records: list[dict[str, Any]] = Field(
        max_length=5000,
        description="CRM records: handle (and channel), email or phone to match on; tier, "
        "lifetime_value, name; any other field is kept as demographics.",
    )


class CrmProblem(BaseModel):
    index: int
    reason: str


class CrmResult(BaseModel):
    read: int
    updated: int
    rescored_tasks: int
    unmatched: list[CrmProblem]
    ambiguous: list[CrmProblem]
    rejected: list[CrmProblem]


def _problems(items: list[Problem]) -> list[CrmProblem]:
    return [CrmProblem(index=p.line, reason=p.reason) for p in items]


@router.post("/crm/customers", response_model=CrmResult)
def update_customers(
    body: CrmUpdate,
    request: Request,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    _: Principal = Depends(require_role(Role.SUPERVISOR)),
) -> CrmResult:
    """Apply CRM records (index = position in ``records``, from 0)."""
    now = utcnow()
    items: list[CrmRecord | Problem] = []
    for index, raw in enumerate(body.records):
        try:
            items.append(parse_record(index, raw))
        except ValueError as exc:
            items.append(Problem(index, str(exc)))
    report = apply_records(session, workspace.id, items, now)
    rescored = rescore_customers(session, workspace.id, report.customer_ids, now)
    session.commit()
    engine = getattr(request.app.state, "routing_engine", None)
    if engine is not None and rescored:
        engine.on_tasks(workspace.id, rescored)
    return CrmResult(
        read=report.read,
        updated=report.updated,
        rescored_tasks=len(rescored),
        unmatched=_problems(report.unmatched),
        ambiguous=_problems(report.ambiguous),
        rejected=_problems(report.rejected),
    )
