"""Outgoing webhooks: subscriptions, their delivery log and redelivery (admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from socialdesk.core.clock import utcnow
from socialdesk.core.http import Principal, current_workspace, db_session, require_role
from socialdesk.core.limits import MAX_DB_INT
from socialdesk.core.models import Workspace
from socialdesk.core.pagination import NEXT_CURSOR_RESPONSE, CursorParam, list_by_id
from socialdesk.eventhooks import repository as repo
from socialdesk.eventhooks import service
from socialdesk.eventhooks.relay import EVENT_TYPES
from socialdesk.people.models import Role

router = APIRouter(prefix="/api/v1", tags=["webhooks"])
AdminOnly = Annotated[Principal, Depends(require_role(Role.ADMIN))]
Id = Annotated[int, Path(ge=1, le=MAX_DB_INT)]


class SubscriptionIn(BaseModel):
    url: str = Field(max_length=2000, examples=["https://crm.example/hooks/socialdesk"])
    events: list[str] = Field(examples=[["message.received", "conversation.resolved"]])
    description: str = Field(default="", max_length=200)


class SubscriptionPatch(BaseModel):
    url: str | None = Field(default=None, max_length=2000)
    events: list[str] | None = None
    active: bool | None = Field(default=None, description="true re-enables a disabled one")


class SubscriptionOut(BaseModel):
    id: int
    url: str
    events: list[str]
    description: str
    active: bool
    consecutive_failures: int
    disabled_reason: str | None
    created_at: datetime


class NewSubscriptionOut(SubscriptionOut):
    secret: str = Field(description="Shown this once: sign-checking key for the receiver")


class DeliveryOut(BaseModel):
    id: int
    event_type: str
    event_key: str
    status: str
    attempts: int
    response_code: int | None
    error: str | None
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    payload: dict[str, Any]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: int | None


def _out(sub: Any) -> SubscriptionOut:
    return SubscriptionOut.model_validate(sub, from_attributes=True)


@router.get("/webhooks/events", response_model=list[str])
def event_types(_admin: AdminOnly) -> list[str]:
    return list(EVENT_TYPES)


@router.get("/webhooks", response_model=list[SubscriptionOut], responses=NEXT_CURSOR_RESPONSE)
def list_subscriptions(
    _admin: AdminOnly,
    response: Response,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    cursor: CursorParam = None,
) -> list[SubscriptionOut]:
    """In id order; the next page's cursor is in the X-Next-Cursor header."""
    rows = repo.subscriptions(session, workspace.id)
    return list_by_id(response, rows, cursor=cursor, limit=limit, id_of=lambda s: s.id, out=_out)


@router.post("/webhooks", response_model=NewSubscriptionOut, status_code=201)
def create_subscription(
    body: SubscriptionIn,
    request: Request,
    _admin: AdminOnly,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> NewSubscriptionOut:
    """Subscribe an endpoint; the answer carries the signing secret, once."""
    made = service.subscribe(
        session,
        workspace.id,
        body.url,
        body.events,
        request.app.state.settings.secret_key,
        utcnow(),
        body.description,
    )
    return NewSubscriptionOut(**_out(made.subscription).model_dump(), secret=made.secret)


@router.patch("/webhooks/{subscription_id}", response_model=SubscriptionOut)
def change_subscription(
    subscription_id: Id,
    body: SubscriptionPatch,
    _admin: AdminOnly,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> SubscriptionOut:
    sub = service.update(
        session, workspace.id, subscription_id, url=body.url, events=body.events, active=body.active
    )
    return _out(sub)


@router.delete("/webhooks/{subscription_id}", status_code=204)
def delete_subscription(
    subscription_id: Id,
    _admin: AdminOnly,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> None:
    service.delete(session, workspace.id, subscription_id)


@router.get("/webhooks/{subscription_id}/deliveries", response_model=DeliveryPage)
def list_deliveries(
    subscription_id: Id,
    _admin: AdminOnly,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    cursor: Annotated[int | None, Query(ge=1, le=MAX_DB_INT)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> DeliveryPage:
    """The delivery log, newest first, with each response code and error."""
    service.get(session, workspace.id, subscription_id)
    rows = repo.deliveries_of(session, workspace.id, subscription_id, cursor, limit + 1)
    items = [DeliveryOut.model_validate(d, from_attributes=True) for d in rows[:limit]]
    return DeliveryPage(items=items, next_cursor=items[-1].id if len(rows) > limit else None)


@router.post("/webhooks/deliveries/{delivery_id}/redeliver", response_model=DeliveryOut)
def redeliver(
    delivery_id: Id,
    _admin: AdminOnly,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> DeliveryOut:
    delivery = service.redeliver(session, workspace.id, delivery_id, utcnow())
    return DeliveryOut.model_validate(delivery, from_attributes=True)
