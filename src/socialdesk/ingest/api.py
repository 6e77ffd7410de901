"""Push normalized events into socialdesk over HTTP: stored at once, processed after."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Body, Depends, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from socialdesk.channels.events import InboundEvent
from socialdesk.core.http import current_workspace, db_session, require_role
from socialdesk.core.models import Workspace
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.people.models import Role

router = APIRouter(prefix="/api/v1", tags=["ingest"])


class AcceptedOut(BaseModel):
    accepted: int
    duplicates: int


@router.post(
    "/events",
    status_code=202,
    response_model=AcceptedOut,
    dependencies=[Depends(require_role(Role.ADMIN))],
)
def post_events(
    request: Request,
    background: BackgroundTasks,
    events: Annotated[list[InboundEvent], Body(max_length=1000)],
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> AcceptedOut:
    """Store events in socialdesk's normalized format; duplicates are recognised and ignored."""
    pipeline: Pipeline = request.app.state.pipeline
    # Stored and committed before the answer; processed after it (store first, process second).
    result = pipeline.accept_in(session, workspace.id, events, source="api")
    session.commit()
    background.add_task(request.app.state.dispatcher.dispatch, workspace.id, result.accepted)
    return AcceptedOut(accepted=len(result.accepted), duplicates=result.duplicates)
