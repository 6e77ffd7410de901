"""What an agent does to a case, over the API: reply, shift channel, note, relabel, assign,
transfer, snooze, resolve and reopen.

Each operation calls the same service function as the console's button, so both take one
path (and write the same history, audit lines and outgoing webhook events). A signed-in
person acts as themself; an integration's API token names the agent it acts for
(``user_id``), which takes a supervisor's or an admin's token. A case of another workspace
is not found (404).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from pydantic.config import JsonDict
from sqlalchemy.orm import Session

from socialdesk.conversations import action_repository as case_repo
from socialdesk.conversations import actions, canned, replies, shift
from socialdesk.core.errors import InvalidInput, NotFound
from socialdesk.core.http import (
    ERROR_RESPONSES,
    Principal,
    acting_user_id,
    after_commit,
    db_session,
    request_clock,
    require_role,
)
from socialdesk.core.limits import MAX_DB_INT, DbId
from socialdesk.core.pagination import CursorParam, Page, examples, keyset_page, time_and_id
from socialdesk.people.models import Role, User
from socialdesk.routing import cases
from socialdesk.routing import repository as repo
from socialdesk.triage import corrections

router = APIRouter(prefix="/api/v1", tags=["case actions"], responses=ERROR_RESPONSES)

Agent = Annotated[Principal, Depends(require_role(Role.AGENT))]
CaseId = Annotated[int, Path(ge=1, le=MAX_DB_INT, description="The case (conversation) id")]

CASE_EXAMPLE: JsonDict = {
    "conversation_id": 42,
    "status": "open",
    "snoozed_until": None,
    "task": {"id": 17, "status": "assigned", "assignee_id": 3, "team_id": 1, "queue": "care"},
}


class ActorIn(BaseModel):
    model_config = examples({}, {"user_id": 3})

    user_id: DbId | None = Field(
        default=None,
        description="The agent acting: the signed-in user by default; an integration (API "
        "token) names one, which takes a supervisor's or an admin's token.",
    )


class TaskStateOut(BaseModel):
    id: int
    status: str = Field(description="open, assigned, pending or done")
    assignee_id: int | None
    team_id: int | None
    queue: str = Field(description="The department's list the work is in (care, marketing ...)")


class CaseOut(BaseModel):
    """The case after the action."""

    model_config = examples(CASE_EXAMPLE)

    conversation_id: int
    status: str = Field(description="open, pending or resolved")
    snoozed_until: datetime | None
    task: TaskStateOut | None


class ReplyIn(ActorIn):
    model_config = examples(
        {"text": "Sorry about that, Dana! A refund is on its way.", "visibility": "public"},
        {"text": "Could you send us your account number here?", "visibility": "private"},
        {"text": "This guide shows how to reset it:", "kb_article_id": 5},
    )

    text: str = Field(min_length=1, max_length=100_000)
    visibility: Literal["public", "private", "quote"] = Field(
        default="public",
        description="public: a reply on the post; private: a direct message (or e-mail); quote: "
        "a quote post, where the platform takes no reply",
    )
    kb_article_id: DbId | None = Field(
        default=None, description="Add this knowledge article's tracked link (deflection)"
    )


class ReplyOut(CaseOut):
    model_config = examples({**CASE_EXAMPLE, "status": "pending", "message_id": 311})

    message_id: int = Field(description="Our reply, queued in the outbox for the channel")


class ShiftIn(ActorIn):
    model_config = examples(
        {"action": "dm", "reason": "account data must not be posted publicly"},
        {"action": "email", "reason": "invoice copy", "detail": "dana@example.com"},
        {
            "action": "callback",
            "reason": "too complex to type",
            "detail": "+44 20 7946 0000",
            "callback_at": "2026-12-08T10:00:00Z",
        },
    )

    action: Literal["dm", "email", "callback"]
    reason: str = Field(min_length=1, max_length=shift.MAX_REASON)
    detail: str = Field(
        default="", max_length=400, description="The e-mail address or the phone number"
    )
    message: str = Field(
        default="", max_length=10_000, description="What the customer is told (a default if empty)"
    )
    callback_at: datetime | None = Field(
        default=None, description="Start of a two-hour callback window (in an hour by default)"
    )


class NoteIn(ActorIn):
    model_config = examples({"text": "@sam this customer asked for a manager twice"})

    text: str = Field(min_length=1, max_length=actions.MAX_NOTE_CHARS)


class NoteOut(CaseOut):
    model_config = examples({**CASE_EXAMPLE, "note_id": 8})

    note_id: int


class RelabelIn(ActorIn):
    model_config = examples(
        {"message_id": 311, "kind": "complaint", "topic": "billing"},
        {"message_id": 312, "verdict": "noise"},
        {"message_id": 313, "sentiment": "negative"},
    )

    message_id: DbId = Field(description="The message of this case whose triage is corrected")
    kind: str | None = Field(default=None, min_length=1, max_length=40)
    topic: str | None = Field(default=None, min_length=1, max_length=80)
    sentiment: Literal["negative", "neutral", "positive"] | None = None
    verdict: Literal["noise", "marketing"] | None = Field(
        default=None,
        description="noise: not for care (the case is resolved); marketing: moved to marketing",
    )


class AssignIn(ActorIn):
    model_config = examples({}, {"user_id": 3, "exceed_capacity": True})

    exceed_capacity: bool = Field(
        default=False,
        description="Take it even though the agent's slots on its channel are full: one item "
        "over capacity, once (a 409 without it says when this applies)",
    )


class TransferIn(ActorIn):
    model_config = examples({"to_user_id": 4}, {"to_team_id": 2})

    to_user_id: DbId | None = Field(default=None, description="A colleague with a free slot")
    to_team_id: DbId | None = Field(default=None, description="A team's list")


class SnoozeIn(ActorIn):
    model_config = examples({"minutes": 120}, {"until": "2026-12-08T09:00:00Z"})

    minutes: int | None = Field(default=None, ge=1, le=43_200)
    until: datetime | None = Field(default=None, description="With a time zone")


def _actor(session: Session, workspace_id: int, principal: Principal, user_id: int | None) -> User:
    actor_id = acting_user_id(principal, user_id)
    user = repo.get_user(session, workspace_id, actor_id)
    if user is None or not user.is_active:
        raise NotFound(f"no active user {actor_id} in this workspace")
    return user


def _state(session: Session, workspace_id: int, conversation_id: int) -> CaseOut:
    conversation = case_repo.conversation(session, workspace_id, conversation_id)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id} in this workspace")
    task = case_repo.task_for(session, workspace_id, conversation_id)
    snooze = case_repo.snooze_for(session, workspace_id, conversation_id)
    return CaseOut(
        conversation_id=conversation.id,
        status=conversation.status,
        snoozed_until=None if snooze is None else snooze.until,
        task=None if task is None else TaskStateOut.model_validate(task, from_attributes=True),
    )


def _done(
    request: Request,
    session: Session,
    principal: Principal,
    conversation_id: int,
    *,
    agents: list[int | None] | None = None,
    outbox: bool = False,
) -> CaseOut:
    """Commit, wake what reacts to the change, and say what the case looks like now."""
    ws = principal.workspace_id
    session.commit()
    state = _state(session, ws, conversation_id)
    task_ids = [state.task.id] if state.task and state.task.status == "open" else []
    freed = [a for a in agents or [] if a is not None]
    after_commit(request, ws, agents=freed, tasks=task_ids, outbox=outbox)
    return state


def _holder(session: Session, workspace_id: int, conversation_id: int) -> int | None:
    task = case_repo.task_for(session, workspace_id, conversation_id)
    return None if task is None else task.assignee_id


@router.post(
    "/conversations/{conversation_id}/reply",
    response_model=ReplyOut,
    status_code=201,
    summary="Reply on the case's channel, publicly or privately",
)
def reply(
    conversation_id: CaseId,
    body: ReplyIn,
    request: Request,
    principal: Agent,
    session: Session = Depends(db_session),
) -> ReplyOut:
    ws = principal.workspace_id
    actor = _actor(session, ws, principal, body.user_id)
    message = replies.reply_to_case(
        session,
        workspace_id=ws,
        conversation_id=conversation_id,
        author_user_id=actor.id,
        text=body.text,
        visibility=body.visibility,
        kb_article_id=body.kb_article_id,
        clock=request_clock(request),
    )
    state = _done(request, session, principal, conversation_id, outbox=True)
    return ReplyOut(**state.model_dump(), message_id=message.id)


@router.post(
    "/conversations/{conversation_id}/shift",
    response_model=CaseOut,
    summary="Move the customer to a DM, e-mail or a phone callback, with the reason",
)
def shift_channel(
    conversation_id: CaseId,
    body: ShiftIn,
    request: Request,
    principal: Agent,
    session: Session = Depends(db_session),
) -> CaseOut:
    ws = principal.workspace_id
    shift.shift_channel(
        session,
        workspace_id=ws,
        conversation_id=conversation_id,
        actor=_actor(session, ws, principal, body.user_id),
        action=body.action,
        reason=body.reason,
        detail=body.detail,
        message=body.message,
        callback_at=body.callback_at,
        clock=request_clock(request),
    )
    return _done(request, session, principal, conversation_id, outbox=True)


@router.post(
    "/conversations/{conversation_id}/notes",
    response_model=NoteOut,
    status_code=201,
    summary="Add an internal note (@mentions notify colleagues)",
)
def add_note(
    conversation_id: CaseId,
    body: NoteIn,
    request: Request,
    principal: Agent,
    session: Session = Depends(db_session),
) -> NoteOut:
    ws = principal.workspace_id
    note = actions.add_note(
        session,
        workspace_id=ws,
        conversation_id=conversation_id,
        author=_actor(session, ws, principal, body.user_id),
        text=body.text,
        clock=request_clock(request),
    )
    note_id = note.id
    return NoteOut(
        **_done(request, session, principal, conversation_id).model_dump(), note_id=note_id
    )


@router.post(
    "/conversations/{conversation_id}/relabel",
    response_model=CaseOut,
    summary="Correct a message's triage (the next training run learns from it)",
)
def relabel(
    conversation_id: CaseId,
    body: RelabelIn,
    request: Request,
    principal: Agent,
    session: Session = Depends(db_session),
) -> CaseOut:
    ws = principal.workspace_id
    holder = _holder(session, ws, conversation_id)
    corrections.relabel(
        session,
        workspace_id=ws,
        conversation_id=conversation_id,
        message_id=body.message_id,
        actor=_actor(session, ws, principal, body.user_id),
        kind=body.kind,
        topic=body.topic,
        sentiment=body.sentiment,
        verdict=body.verdict,
        clock=request_clock(request),
    )
    return _done(request, session, principal, conversation_id, agents=[holder])


@router.post(
    "/conversations/{conversation_id}/assign",
    response_model=CaseOut,
    summary="Take the case's work (409 when a colleague holds it or the agent is full)",
)
def assign(
    conversation_id: CaseId,
    body: AssignIn,
    request: Request,
    principal: Agent,
    session: Session = Depends(db_session),
) -> CaseOut:
    ws = principal.workspace_id
    cases.assign_case(
        session,
        workspace_id=ws,
        conversation_id=conversation_id,
        actor=_actor(session, ws, principal, body.user_id),
        clock=request_clock(request),
        exceed_once=body.exceed_capacity,
    )
    return _done(request, session, principal, conversation_id)


@router.post(
    "/conversations/{conversation_id}/transfer",
    response_model=CaseOut,
    summary="Hand the case's work to a colleague or to a team's list",
)
def transfer(
    conversation_id: CaseId,
    body: TransferIn,
    request: Request,
    principal: Agent,
    session: Session = Depends(db_session),
) -> CaseOut:
    ws = principal.workspace_id
    holder = _holder(session, ws, conversation_id)
    cases.transfer_case(
        session,
        workspace_id=ws,
        conversation_id=conversation_id,
        actor=_actor(session, ws, principal, body.user_id),
        to_user_id=body.to_user_id,
        to_team_id=body.to_team_id,
        clock=request_clock(request),
    )
    return _done(request, session, principal, conversation_id, agents=[holder])


@router.post(
    "/conversations/{conversation_id}/snooze",
    response_model=CaseOut,
    summary="Put the case aside until a time (30 days at most); it comes back by itself",
)
def snooze(
    conversation_id: CaseId,
    body: SnoozeIn,
    request: Request,
    principal: Agent,
    session: Session = Depends(db_session),
) -> CaseOut:
    if (body.minutes is None) == (body.until is None):
        raise InvalidInput("give either minutes or until")
    ws = principal.workspace_id
    clock = request_clock(request)
    until = body.until or clock() + timedelta(minutes=body.minutes or 0)
    actions.snooze(
        session,
        workspace_id=ws,
        conversation_id=conversation_id,
        actor=_actor(session, ws, principal, body.user_id),
        until=until,
        clock=clock,
    )
    return _done(request, session, principal, conversation_id)


class MentionOut(BaseModel):
    model_config = examples(
        {
            "id": 12,
            "kind": "mention",
            "conversation_id": 42,
            "text": "Sam Supervisor mentioned you in a note",
            "created_at": "2026-12-07T10:00:00Z",
            "read_at": None,
        }
    )

    id: int
    kind: str
    conversation_id: int | None
    text: str
    created_at: datetime
    read_at: datetime | None


@router.get(
    "/mentions",
    response_model=Page[MentionOut],
    tags=["mentions"],
    summary="The acting agent's notifications (@mentions in notes), newest first",
)
def mentions(
    principal: Agent,
    session: Session = Depends(db_session),
    unread: bool = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: CursorParam = None,
    user_id: Annotated[int | None, Query(ge=1, le=MAX_DB_INT)] = None,
) -> Page[MentionOut]:
    ws = principal.workspace_id
    agent = _actor(session, ws, principal, user_id)
    rows, total = case_repo.notifications_of(
        session, ws, agent.id, unread_only=unread, limit=limit + 1, after=time_and_id(cursor)
    )
    return keyset_page(
        rows,
        total=total,
        limit=limit,
        offset=0,
        key=lambda n: (n.created_at, n.id),
        out=lambda n: MentionOut.model_validate(n, from_attributes=True),
    )


@router.post(
    "/mentions/read",
    status_code=204,
    tags=["mentions"],
    summary="Mark all of the acting agent's notifications read",
)
def mentions_read(
    request: Request,
    principal: Agent,
    session: Session = Depends(db_session),
    body: Annotated[ActorIn | None, Body()] = None,
) -> None:
    ws = principal.workspace_id
    actions.mark_notifications_read(
        session,
        workspace_id=ws,
        user=_actor(session, ws, principal, body.user_id if body else None),
        clock=request_clock(request),
    )
    session.commit()
    after_commit(request, ws)


class CannedTextOut(BaseModel):
    model_config = examples({"text": "Hi Dana, your refund is on its way. Ana Agent"})

    text: str


@router.get(
    "/conversations/{conversation_id}/canned-replies/{reply_id}",
    response_model=CannedTextOut,
    summary="A canned reply with its placeholders filled in for this case",
)
def canned_text(
    conversation_id: CaseId,
    reply_id: Annotated[int, Path(ge=1, le=MAX_DB_INT)],
    principal: Agent,
    session: Session = Depends(db_session),
    user_id: Annotated[int | None, Query(ge=1, le=MAX_DB_INT)] = None,
) -> CannedTextOut:
    """``{agent_name}`` is the acting agent's (an integration names one with ``user_id``)."""
    ws = principal.workspace_id
    agent = _actor(session, ws, principal, user_id)
    return CannedTextOut(
        text=canned.fill_canned_reply(
            session,
            workspace_id=ws,
            conversation_id=conversation_id,
            reply_id=reply_id,
            agent_name=agent.name,
        )
    )


OptionalActor = Annotated[ActorIn | None, Body()]


@router.post(
    "/conversations/{conversation_id}/resolve",
    response_model=CaseOut,
    summary="Resolve the case (its work is done; resolving twice changes nothing)",
)
def resolve(
    conversation_id: CaseId,
    request: Request,
    principal: Agent,
    session: Session = Depends(db_session),
    body: OptionalActor = None,
) -> CaseOut:
    ws = principal.workspace_id
    holder = _holder(session, ws, conversation_id)
    actions.resolve(
        session,
        workspace_id=ws,
        conversation_id=conversation_id,
        actor=_actor(session, ws, principal, body.user_id if body else None),
        clock=request_clock(request),
    )
    return _done(request, session, principal, conversation_id, agents=[holder])


@router.post(
    "/conversations/{conversation_id}/reopen",
    response_model=CaseOut,
    summary="Reopen a resolved case (the agent reopening it keeps it)",
)
def reopen(
    conversation_id: CaseId,
    request: Request,
    principal: Agent,
    session: Session = Depends(db_session),
    body: OptionalActor = None,
) -> CaseOut:
    ws = principal.workspace_id
    actions.reopen(
        session,
        workspace_id=ws,
        conversation_id=conversation_id,
        actor=_actor(session, ws, principal, body.user_id if body else None),
        clock=request_clock(request),
    )
    return _done(request, session, principal, conversation_id)
