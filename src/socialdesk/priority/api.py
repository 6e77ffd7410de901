"""Per-workspace value weights, service levels (SLA policies), routing options and business
hours. A change re-scores the open work at once (the console's screens take the same path)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field
from pydantic.config import JsonDict
from sqlalchemy.orm import Session

from socialdesk.core.http import (
    ERROR_RESPONSES,
    Principal,
    after_commit,
    current_workspace,
    db_session,
    request_clock,
    require_role,
)
from socialdesk.core.models import Workspace
from socialdesk.core.pagination import examples
from socialdesk.people.models import Role
from socialdesk.priority import service
from socialdesk.priority.scoring import FACTORS, ValuePolicy
from socialdesk.priority.sla import BusinessHours, SlaPolicy
from socialdesk.routing.selection import RoutingPolicy

router = APIRouter(prefix="/api/v1", tags=["priority"], responses=ERROR_RESPONSES)
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
Supervisor = Annotated[Principal, Depends(require_role(Role.SUPERVISOR))]
Agent = Annotated[Principal, Depends(require_role(Role.AGENT))]

SLA_EXAMPLE: JsonDict = {
    "rules": [
        {
            "channel": "x",
            "kind": None,
            "min_priority": None,
            "first_response_minutes": 30.0,
            "next_response_minutes": 60.0,
        },
        {
            "channel": "facebook",
            "kind": "complaint",
            "min_priority": None,
            "first_response_minutes": 60.0,
            "next_response_minutes": 120.0,
        },
    ],
    "default_first_response_minutes": 1440.0,
    "default_next_response_minutes": 1440.0,
    "warning_fractions": [0.5, 0.8],
    "pressure_weight": 10.0,
    "rescue_after_minutes": 720.0,
    "breach_boost": 0.0,
    "reassign_on_breach": False,
}
WEIGHTS_EXAMPLE: JsonDict = {
    "customer_value": 20.0,
    "influence": 15.0,
    "sentiment": 15.0,
    "kind": 15.0,
    "urgency": 10.0,
    "visibility": 5.0,
    "virality": 8.0,
    "sales_opportunity": 7.0,
    "repeat_contact": 5.0,
}


# What a workspace starts with (the example of the policies' answers).
POLICIES_EXAMPLE = service.policies_to_dict(
    service.Policies(ValuePolicy(), SlaPolicy(), RoutingPolicy(), BusinessHours())
)
POLICIES_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"example": POLICIES_EXAMPLE}}}
}


class PoliciesIn(BaseModel):
    """Each part given replaces the stored one; a part left out stays as it is."""

    model_config = examples(
        {"sla": SLA_EXAMPLE},
        {"routing": {"overflow_after_minutes": 15, "sticky": True}},
    )

    value: dict[str, Any] | None = None
    sla: dict[str, Any] | None = None
    routing: dict[str, Any] | None = None
    business_hours: dict[str, Any] | None = None


class WeightsOut(BaseModel):
    model_config = examples({"weights": WEIGHTS_EXAMPLE})

    weights: dict[str, float] = Field(description=f"One per factor: {', '.join(FACTORS)}")


class WeightsIn(BaseModel):
    """The weights given change; the others stay as they are."""

    model_config = examples({"weights": {"customer_value": 30.0, "influence": 10.0}})

    weights: dict[str, float] = Field(min_length=1)


def _changed(request: Request, workspace_id: int) -> None:
    after_commit(request, workspace_id, policies=True)


@router.get("/policies", summary="All of the workspace's policies", responses=POLICIES_RESPONSE)
def get_policies(
    _: Agent,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> dict[str, Any]:
    return service.policies_to_dict(service.load_policies(session, workspace.id))


@router.put(
    "/policies",
    summary="Replace some of the policies (admins); the work is re-scored",
    responses=POLICIES_RESPONSE,
)
def put_policies(
    body: PoliciesIn,
    request: Request,
    _: Admin,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> dict[str, Any]:
    policies = service.change_policies(
        session,
        workspace.id,
        value=body.value,
        sla=body.sla,
        routing=body.routing,
        business_hours=body.business_hours,
        now=request_clock(request)(),
    )
    session.commit()
    _changed(request, workspace.id)
    return service.policies_to_dict(policies)


@router.get(
    "/sla-policy",
    summary="The service levels: response times per channel, kind and priority",
    responses={200: {"content": {"application/json": {"example": SLA_EXAMPLE}}}},
)
def get_sla_policy(
    _: Agent,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> dict[str, Any]:
    return service.load_policies(session, workspace.id).sla.to_dict()


@router.put(
    "/sla-policy",
    summary="Replace the service levels (admins): validated whole, the work is re-scored",
    responses={200: {"content": {"application/json": {"example": SLA_EXAMPLE}}}},
)
def put_sla_policy(
    request: Request,
    _: Admin,
    body: Annotated[dict[str, Any], Body(examples=[SLA_EXAMPLE])],
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> dict[str, Any]:
    policies = service.change_policies(
        session, workspace.id, sla=body, now=request_clock(request)()
    )
    session.commit()
    _changed(request, workspace.id)
    return policies.sla.to_dict()


@router.get("/value-weights", response_model=WeightsOut, summary="The business-value weights")
def get_value_weights(
    _: Agent,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> WeightsOut:
    return WeightsOut(weights=service.load_policies(session, workspace.id).value.weights.as_dict())


@router.put(
    "/value-weights",
    response_model=WeightsOut,
    summary="Change some value weights (supervisors); the open work is re-scored at once",
)
def put_value_weights(
    body: WeightsIn,
    request: Request,
    _: Supervisor,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> WeightsOut:
    policies = service.set_value_weights(
        session, workspace.id, body.weights, request_clock(request)()
    )
    session.commit()
    _changed(request, workspace.id)
    return WeightsOut(weights=policies.value.weights.as_dict())
