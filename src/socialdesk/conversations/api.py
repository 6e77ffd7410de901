"""Read API for conversations and messages, scoped to the caller's workspace."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from socialdesk.channels.events import Channel
from socialdesk.conversations import repository as repo
from socialdesk.conversations.models import Message
from socialdesk.conversations.schemas import (
    ConversationDetail,
    ConversationOut,
    MessageOut,
    ThreadOut,
)
from socialdesk.core.errors import InvalidInput, NotFound
from socialdesk.core.http import current_workspace, db_session
from socialdesk.core.models import Workspace
from socialdesk.core.pagination import CursorParam, Page, keyset_page, time_and_id

router = APIRouter(prefix="/api/v1", tags=["conversations"])

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


def _after(cursor: str | None, offset: int) -> tuple[Any, ...] | None:
    """A cursor of these lists holds a time and an id."""
    if cursor is not None and offset:
        raise InvalidInput("give a cursor or an offset, not both")
    return time_and_id(cursor)


def _messages(rows: Sequence[Message], total: int, limit: int, offset: int) -> Page[MessageOut]:
    return keyset_page(
        rows,
        total=total,
        limit=limit,
        offset=offset,
        key=lambda r: (r.created_at, r.id),
        out=MessageOut.model_validate,
    )


@router.get("/conversations", response_model=Page[ConversationOut])
def list_conversations(
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    status: Literal["open", "pending", "resolved"] | None = None,
    channel: Channel | None = None,
    customer_id: int | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    cursor: CursorParam = None,
) -> Page[ConversationOut]:
    """Newest activity first; read on with the page's ``next_cursor`` (``offset`` works too).
    A case that gets a new message meanwhile moves to the top of the list."""
    rows, total = repo.list_conversations(
        session,
        workspace.id,
        status=status,
        channel=channel,
        customer_id=customer_id,
        limit=limit + 1,
        offset=offset,
        after=_after(cursor, offset),
    )
    return keyset_page(
        rows,
        total=total,
        limit=limit,
        offset=offset,
        key=lambda r: (r.last_message_at, r.id),
        out=ConversationOut.model_validate,
    )


@router.get("/conversations/{conversation_id}", response_model=ConversationDetail)
def get_conversation(
    conversation_id: int,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> ConversationDetail:
    conversation = repo.get_conversation(session, workspace.id, conversation_id)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    threads = [ThreadOut.model_validate(t) for t in repo.threads_of(session, conversation_id)]
    return ConversationDetail(
        **ConversationOut.model_validate(conversation).model_dump(), threads=threads
    )


@router.get("/conversations/{conversation_id}/messages", response_model=Page[MessageOut])
def conversation_messages(
    conversation_id: int,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    limit: Limit = 100,
    offset: Offset = 0,
    cursor: CursorParam = None,
) -> Page[MessageOut]:
    """Oldest first; read on with the page's ``next_cursor`` (``offset`` works too)."""
    if repo.get_conversation(session, workspace.id, conversation_id) is None:
        raise NotFound(f"no conversation {conversation_id}")
    rows, total = repo.list_messages(
        session,
        workspace.id,
        conversation_id=conversation_id,
        limit=limit + 1,
        offset=offset,
        after=_after(cursor, offset),
    )
    return _messages(rows, total, limit, offset)


@router.get("/messages", response_model=Page[MessageOut])
def list_messages(
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    channel: Channel | None = None,
    direction: Literal["inbound", "outbound"] | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    cursor: CursorParam = None,
) -> Page[MessageOut]:
    """Newest first; read on with the page's ``next_cursor`` (``offset`` works too)."""
    rows, total = repo.list_messages(
        session,
        workspace.id,
        channel=channel,
        direction=direction,
        limit=limit + 1,
        offset=offset,
        after=_after(cursor, offset),
    )
    return _messages(rows, total, limit, offset)
