"""Read API for customers, and explicit merge, scoped to the caller's workspace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from socialdesk.core.errors import NotFound
from socialdesk.core.http import current_workspace, db_session, require_role
from socialdesk.core.models import Workspace
from socialdesk.core.pagination import Page
from socialdesk.customers import repository as repo
from socialdesk.customers.schemas import CustomerDetail, CustomerOut, IdentityOut, MergeRequest
from socialdesk.customers.service import merge_customers
from socialdesk.people.models import Role

router = APIRouter(prefix="/api/v1", tags=["customers"])


def _detail(session: Session, workspace_id: int, customer_id: int) -> CustomerDetail:
    customer = repo.get_customer(session, workspace_id, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    identities = [IdentityOut.model_validate(i) for i in repo.identities_of(session, customer.id)]
    return CustomerDetail(
        **CustomerOut.model_validate(customer).model_dump(), identities=identities
    )


@router.get("/customers", response_model=Page[CustomerOut])
def list_customers(
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    q: Annotated[str | None, Query(max_length=200, description="Name, email or handle")] = None,
    tier: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[CustomerOut]:
    rows, total = repo.list_customers(
        session, workspace.id, query=q, tier=tier, limit=limit, offset=offset
    )
    return Page(
        items=[CustomerOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/customers/{customer_id}", response_model=CustomerDetail)
def get_customer(
    customer_id: int,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> CustomerDetail:
    return _detail(session, workspace.id, customer_id)


@router.post(
    "/customers/{customer_id}/merge",
    response_model=CustomerDetail,
    dependencies=[Depends(require_role(Role.SUPERVISOR))],
)
def merge_customer(
    customer_id: int,
    body: MergeRequest,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> CustomerDetail:
    """Fold this customer into another one (the same person on several channels)."""
    merge_customers(session, workspace.id, customer_id, body.into_customer_id)
    return _detail(session, workspace.id, body.into_customer_id)
