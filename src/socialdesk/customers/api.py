"""Read API for customers, and explicit merge, scoped to the caller's workspace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.orm import Session

from socialdesk.core.errors import InvalidInput, NotFound
from socialdesk.core.http import current_workspace, db_session, require_role
from socialdesk.core.limits import MAX_DB_INT
from socialdesk.core.models import Workspace
from socialdesk.core.pagination import CursorParam, Page, keyset_page, read_on
from socialdesk.customers import repository as repo
from socialdesk.customers import service
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
    offset: Annotated[int, Query(ge=0, le=MAX_DB_INT)] = 0,
    cursor: CursorParam = None,
) -> Page[CustomerOut]:
    """In id order; read on with the page's ``next_cursor`` (``offset`` works too)."""
    after = read_on(cursor, offset, 1)
    if after is not None and not isinstance(after[0], int):
        raise InvalidInput("the cursor is not one this list gave (start without it)")
    rows, total = repo.list_customers(
        session,
        workspace.id,
        query=q,
        tier=tier,
        limit=limit + 1,
        offset=offset,
        after_id=None if after is None else after[0],
    )
    return keyset_page(
        rows,
        total=total,
        limit=limit,
        offset=offset,
        key=lambda r: (r.id,),
        out=CustomerOut.model_validate,
    )


@router.get("/customers/{customer_id}", response_model=CustomerDetail)
def get_customer(
    customer_id: int,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> CustomerDetail:
    return _detail(session, workspace.id, customer_id)


@router.post(
    "/customers/{customer_id}/identities/{identity_id}/unmerge",
    response_model=CustomerDetail,
    status_code=201,
    dependencies=[Depends(require_role(Role.SUPERVISOR))],
    summary="Undo a wrong merge: the identity becomes a customer of its own (supervisors)",
)
def unmerge_identity(
    customer_id: Annotated[int, Path(ge=1, le=MAX_DB_INT)],
    identity_id: Annotated[int, Path(ge=1, le=MAX_DB_INT)],
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> CustomerDetail:
    """Answers the new customer, with the identity and the cases only it wrote in."""
    fresh = service.unmerge_identity(session, workspace.id, customer_id, identity_id)
    session.commit()
    return _detail(session, workspace.id, fresh.id)


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
