"""The channels domain's HTTP surface: platform webhooks, and a read API for deliveries,
accounts, dead letters and callbacks."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from socialdesk.channels import accounts, deadletters, outbox, repository
from socialdesk.channels.accounts import list_accounts, public_view
from socialdesk.channels.registry import default_connectors
from socialdesk.channels.schemas import (
    AccountOut,
    CallbackOut,
    DeadLetterDetail,
    DeadLetterOut,
    DeliveryOut,
    ReplayIn,
    ReplayOut,
)
from socialdesk.channels.webhooks import router as webhooks_router
from socialdesk.core.clock import utcnow
from socialdesk.core.errors import InvalidInput
from socialdesk.core.http import (
    ERROR_RESPONSES,
    Principal,
    current_workspace,
    db_session,
    require_role,
)
from socialdesk.core.limits import MAX_DB_INT
from socialdesk.core.models import Workspace
from socialdesk.core.pagination import (
    NEXT_CURSOR_RESPONSE,
    CursorParam,
    examples,
    keyset_list,
    list_by_id,
    read_on,
    time_and_id,
)
from socialdesk.people.models import Role

router = APIRouter()
router.include_router(webhooks_router)
api = APIRouter(prefix="/api/v1", tags=["channels"])

Agent = Depends(require_role(Role.AGENT))
Supervisor = Depends(require_role(Role.SUPERVISOR))
Admin = Depends(require_role(Role.ADMIN))


@api.post("/deliveries/{item_id}/retry", response_model=DeliveryOut)
def retry_delivery(
    item_id: int,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    _: Principal = Agent,
) -> DeliveryOut:
    """Try a failed delivery again (after the token was renewed, say)."""
    item = outbox.retry(session, workspace_id=workspace.id, item_id=item_id, now=utcnow())
    return DeliveryOut.model_validate(item)


@api.post("/deliveries/{item_id}/cancel", response_model=DeliveryOut)
def cancel_delivery(
    item_id: int,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    _: Principal = Agent,
) -> DeliveryOut:
    """Give up on a delivery, to answer on another channel instead."""
    item = outbox.cancel(session, workspace_id=workspace.id, item_id=item_id, now=utcnow())
    return DeliveryOut.model_validate(item)


@api.get("/channel-accounts", response_model=list[AccountOut], responses=NEXT_CURSOR_RESPONSE)
def channel_accounts(
    response: Response,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    _: Principal = Admin,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    cursor: CursorParam = None,
) -> list[AccountOut]:
    """In id order; the next page's cursor is in the X-Next-Cursor header."""
    return list_by_id(
        response,
        list_accounts(session, workspace.id),
        cursor=cursor,
        limit=limit,
        id_of=lambda a: a.id,
        out=lambda a: AccountOut(**public_view(a)),
    )


class AccountActiveIn(BaseModel):
    model_config = examples({"active": False})

    active: bool


@api.put(
    "/channel-accounts/{account_id}",
    response_model=AccountOut,
    summary="Turn a channel account on or off (admins; audited)",
    responses=ERROR_RESPONSES,
)
def set_account_active(
    account_id: Annotated[int, Path(ge=1, le=MAX_DB_INT)],
    body: AccountActiveIn,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    _: Principal = Admin,
) -> AccountOut:
    account = accounts.set_active(session, workspace.id, account_id, body.active)
    session.commit()
    return AccountOut(**public_view(account))


@api.get("/dead-letters", response_model=list[DeadLetterOut], responses=NEXT_CURSOR_RESPONSE)
def dead_letters(
    response: Response,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    status: Literal["new", "replayed", "discarded"] | None = "new",
    _: Principal = Admin,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: CursorParam = None,
) -> list[DeadLetterOut]:
    """Newest first; the next page's cursor is in the X-Next-Cursor header."""
    before = read_on(cursor, 0, 1)
    if before is not None and not isinstance(before[0], int):
        raise InvalidInput("the cursor is not one this list gave (start without it)")
    letters = deadletters.list_letters(
        session,
        workspace.id,
        status,
        limit=limit + 1,
        before_id=None if before is None else before[0],
    )
    return keyset_list(
        response, letters, limit=limit, key=lambda d: (d.id,), out=DeadLetterOut.model_validate
    )


@api.get("/dead-letters/{letter_id}", response_model=DeadLetterDetail)
def dead_letter(
    letter_id: int,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    _: Principal = Admin,
) -> DeadLetterDetail:
    return DeadLetterDetail.model_validate(deadletters.get_letter(session, workspace.id, letter_id))


def _replay(request: Request, workspace_id: int, letter_id: int, body: str | None) -> ReplayOut:
    state = request.app.state
    connectors = getattr(state, "connectors", None) or default_connectors()
    outcome = deadletters.replay(
        state.session_factory,
        state.pipeline,
        connectors,
        workspace_id=workspace_id,
        letter_id=letter_id,
        corrected_body=body,
        secret_key=state.settings.secret_key,
    )
    return ReplayOut(accepted=outcome.accepted, error=outcome.error)


@api.post("/dead-letters/{letter_id}/replay", response_model=ReplayOut)
async def replay_dead_letter(
    letter_id: int,
    request: Request,
    replay_in: ReplayIn | None = None,
    principal: Principal = Admin,
) -> ReplayOut:
    """Parse a dead letter again, optionally with a corrected body, and accept it."""
    body = replay_in.corrected_body if replay_in else None
    return await run_in_threadpool(_replay, request, principal.workspace_id, letter_id, body)


@api.get("/callbacks", response_model=list[CallbackOut], responses=NEXT_CURSOR_RESPONSE)
def callbacks(
    response: Response,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    _: Principal = Agent,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    cursor: CursorParam = None,
) -> list[CallbackOut]:
    """Open phone callbacks, earliest window first; the next page's cursor is in the
    X-Next-Cursor header."""
    rows = repository.open_callbacks(
        session, workspace.id, limit=limit + 1, after=time_and_id(cursor)
    )
    return keyset_list(
        response,
        rows,
        limit=limit,
        key=lambda c: (c.window_start, c.id),
        out=CallbackOut.model_validate,
    )


router.include_router(api)
