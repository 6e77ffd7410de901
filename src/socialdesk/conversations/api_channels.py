"""A case's channel side over HTTP: its deliveries, channel-shift statistics, and the
tracked-link redirect of knowledge-base links sent in replies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from socialdesk.channels import outbox
from socialdesk.channels.schemas import DeliveryOut
from socialdesk.conversations import repository
from socialdesk.conversations.schemas import ChannelStats, ShiftStat
from socialdesk.conversations.shift import deflection_counts, record_kb_click, shift_counts
from socialdesk.core.clock import utcnow
from socialdesk.core.db import unit_of_work
from socialdesk.core.errors import InvalidInput, NotFound
from socialdesk.core.http import Principal, current_workspace, db_session, require_role
from socialdesk.core.models import Workspace
from socialdesk.core.pagination import NEXT_CURSOR_RESPONSE, CursorParam, list_by_id
from socialdesk.people.models import Role

router = APIRouter()
api = APIRouter(prefix="/api/v1", tags=["channels"])

Agent = Depends(require_role(Role.AGENT))
Supervisor = Depends(require_role(Role.SUPERVISOR))


@api.get(
    "/conversations/{conversation_id}/deliveries",
    response_model=list[DeliveryOut],
    responses=NEXT_CURSOR_RESPONSE,
)
def conversation_deliveries(
    conversation_id: int,
    response: Response,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    _: Principal = Agent,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    cursor: CursorParam = None,
) -> list[DeliveryOut]:
    """Every outbound action of a case: sent, waiting (and why), or failed with the reason;
    in id order, the next page's cursor in the X-Next-Cursor header."""
    if repository.get_conversation(session, workspace.id, conversation_id) is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return list_by_id(
        response,
        outbox.deliveries(session, workspace.id, conversation_id),
        cursor=cursor,
        limit=limit,
        id_of=lambda i: i.id,
        out=DeliveryOut.model_validate,
    )


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
