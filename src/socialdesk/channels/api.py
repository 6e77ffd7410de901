"""The channels domain's HTTP surface: platform webhooks, the tracked-link redirect, and a
read API for deliveries, accounts, dead letters, callbacks and channel statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from socialdesk.channels import deadletters, outbox, repository
from socialdesk.channels.accounts import list_accounts, public_view
from socialdesk.channels.registry import default_connectors
from socialdesk.channels.schemas import (
    AccountOut,
    CallbackOut,
    ChannelStats,
    DeadLetterDetail,
    DeadLetterOut,
    DeliveryOut,
    ReplayIn,
    ReplayOut,
    ShiftStat,
)
from socialdesk.channels.webhooks import router as webhooks_router
from socialdesk.conversations.shift import deflection_counts, record_kb_click, shift_counts
from socialdesk.core.clock import utcnow
from socialdesk.core.db import unit_of_work
from socialdesk.core.errors import InvalidInput, NotFound
from socialdesk.core.http import Principal, current_workspace, db_session, require_role
from socialdesk.core.models import Workspace
from socialdesk.people.models import Role

router = APIRouter()
router.include_router(webhooks_router)
api = APIRouter(prefix="/api/v1", tags=["channels"])

Agent = Depends(require_role(Role.AGENT))
Supervisor = Depends(require_role(Role.SUPERVISOR))
Admin = Depends(require_role(Role.ADMIN))


@api.get("/conversations/{conversation_id}/deliveries", response_model=list[DeliveryOut])
def conversation_deliveries(
    conversation_id: int,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    _: Principal = Agent,
) -> list[DeliveryOut]:
    """Every outbound action of a case: sent, waiting (and why), or failed with the reason."""
    if repository.get_conversation(session, workspace.id, conversation_id) is None:
        raise NotFound(f"conversation {conversation_id} not found")
    items = outbox.deliveries(session, workspace.id, conversation_id)
    return [DeliveryOut.model_validate(item) for item in items]


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


@api.get("/channel-stats", response_model=ChannelStats)
def channel_stats(
    since: datetime,
    until: datetime,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    _: Principal = Supervisor,
) -> ChannelStats:
    """Channel shifts by kind and reason, and knowledge-base links sent and used."""
    if since.tzinfo is None or until.tzinfo is None:
        raise InvalidInput("since and until need a timezone, e.g. 2026-11-01T00:00:00Z")
    counts = shift_counts(session, workspace.id, since, until)
    sent, used = deflection_counts(session, workspace.id, since, until)
    return ChannelStats(
        since=since,
        until=until,
        shifts=[ShiftStat(kind=k, reason=r, count=n) for (k, r), n in sorted(counts.items())],
        kb_links_sent=sent,
        kb_links_used=used,
    )


router.include_router(api)


def _click(request: Request, token: str) -> str:
    with unit_of_work(request.app.state.session_factory) as session:
        return record_kb_click(session, token, utcnow())


@router.get("/l/{token}", include_in_schema=False)
async def knowledge_link(request: Request, token: str) -> RedirectResponse:
    """A knowledge-base link sent in a reply: count the visit, then go to the article."""
    if len(token) > 64:
        raise HTTPException(404, "unknown link")
    try:
        url = await run_in_threadpool(_click, request, token)
    except NotFound:
        raise HTTPException(404, "unknown link") from None
    return RedirectResponse(url, status_code=307)
