"""The channels domain's HTTP surface: platform webhooks, and a read API for deliveries,
accounts, dead letters and callbacks."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from socialdesk.channels import deadletters, outbox, repository
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
from socialdesk.core.http import Principal, current_workspace, db_session, require_role
from socialdesk.core.models import Workspace
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


@api.get("/channel-accounts", response_model=list[AccountOut])
def channel_accounts(
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    _: Principal = Admin,
) -> list[AccountOut]:
    return [AccountOut(**public_view(a)) for a in list_accounts(session, workspace.id)]


@api.get("/dead-letters", response_model=list[DeadLetterOut])
def dead_letters(
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    status: Literal["new", "replayed", "discarded"] | None = "new",
    _: Principal = Admin,
) -> list[DeadLetterOut]:
    letters = deadletters.list_letters(session, workspace.id, status)
    return [DeadLetterOut.model_validate(letter) for letter in letters]


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


@api.get("/callbacks", response_model=list[CallbackOut])
def callbacks(
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    _: Principal = Agent,
) -> list[CallbackOut]:
    """Open phone callbacks, earliest window first."""
    return [CallbackOut.model_validate(c) for c in repository.open_callbacks(session, workspace.id)]


router.include_router(api)
