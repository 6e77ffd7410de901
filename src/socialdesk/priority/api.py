"""Per-workspace value weights, service levels, routing options and business hours."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from socialdesk.core.http import Principal, current_workspace, db_session, require_role
from socialdesk.core.models import Workspace
from socialdesk.people.models import Role
from socialdesk.priority import service

router = APIRouter(prefix="/api/v1", tags=["priority"])


class PoliciesIn(BaseModel):
    """Each part given replaces the stored one; a part left out stays as it is."""

    value: dict[str, Any] | None = None
    sla: dict[str, Any] | None = None
    routing: dict[str, Any] | None = None
    business_hours: dict[str, Any] | None = None


@router.get("/policies")
def get_policies(
    session: Session = Depends(db_session), workspace: Workspace = Depends(current_workspace)
) -> dict[str, Any]:
    return service.policies_to_dict(service.load_policies(session, workspace.id))


@router.put("/policies")
def put_policies(
    body: PoliciesIn,
    request: Request,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    _: Principal = Depends(require_role(Role.ADMIN)),
) -> dict[str, Any]:
    policies = service.update_policies(
        session,
        workspace.id,
        value=body.value,
        sla=body.sla,
        routing=body.routing,
        business_hours=body.business_hours,
    )
    session.commit()
    engine = getattr(request.app.state, "routing_engine", None)
    if engine is not None:
        engine.policies_changed(workspace.id)
    return service.policies_to_dict(policies)
