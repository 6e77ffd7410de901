"""The channels domain's HTTP surface: platform webhooks and the tracked-link redirect."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from socialdesk.channels.webhooks import router as webhooks_router
from socialdesk.conversations.shift import record_kb_click
from socialdesk.core.clock import utcnow
from socialdesk.core.db import unit_of_work
from socialdesk.core.errors import NotFound

router = APIRouter()
router.include_router(webhooks_router)


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
