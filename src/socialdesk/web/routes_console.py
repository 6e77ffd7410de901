"""The agent console: inbox, conversation, customer 360, actions and the live event stream.

Endpoints stay thin: check the role (dependency), call a service, commit, then notify the
live hub (side effects only after the commit).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from socialdesk.conversations import action_repository, actions, canned, replies
from socialdesk.conversations import shift as channel_shift
from socialdesk.core.errors import InvalidInput
from socialdesk.customers import service as customers
from socialdesk.knowledge import repository as knowledge_repo
from socialdesk.knowledge import service as knowledge
from socialdesk.routing import cases
from socialdesk.routing import service as routing
from socialdesk.routing.service import AtCapacity
from socialdesk.triage import corrections
from socialdesk.web import auth, console_repository, console_views, integrations, live
from socialdesk.web.guard import (
    SESSION_COOKIE,
    AgentViewer,
    DbSession,
    SupervisorViewer,
    Viewer,
    get_clock,
)
from socialdesk.web.inbox_filters import parse_filters
from socialdesk.web.templating import render

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)

Scope = Literal["team", "mine", "all"]


def _hub(request: Request) -> live.LiveHub:
    hub: live.LiveHub = request.app.state.live_hub
    return hub


def _back(conversation_id: int, done: str = "") -> RedirectResponse:
    """Back to the case; ``done`` names the action, announced there (see DONE_MESSAGES)."""
    query = f"?done={done}" if done else ""
    return RedirectResponse(f"/console/c/{conversation_id}{query}", 303)


def _done(
    request: Request,
    viewer: Viewer,
    conversation_id: int,
    *,
    done: str,
    freed_by: int | None = None,
    reopened: bool = False,
) -> RedirectResponse:
    """After the commit: wake the live screens and the outbox sender, and tell routing what
    became free."""
    _hub(request).notify(viewer.workspace_id)
    wake_outbox = getattr(request.app.state, "outbox_wake", None)
    if wake_outbox is not None:
        wake_outbox()  # a reply or retry goes out now rather than at the sender's next round
    if freed_by is not None:
        live.tell_routing(request.app.state, "agents", viewer.workspace_id, [freed_by])
    if reopened:
        task = _task_id_after(request, viewer, conversation_id)
        if task is not None:
            live.tell_routing(request.app.state, "tasks", viewer.workspace_id, [task])
    return _back(conversation_id, done)


def _task_id_after(request: Request, viewer: Viewer, conversation_id: int) -> int | None:
    with request.app.state.session_factory() as session:
        task = console_repository.task_of(session, viewer.workspace_id, conversation_id)
        return None if task is None else task.id


@router.get("")
def inbox_page(
    request: Request, viewer: AgentViewer, db: DbSession, scope: Scope = "team"
) -> Response:
    now = get_clock(request)()
    filters = parse_filters(request.query_params)
    items = console_views.inbox(db, viewer.user, scope=scope, now=now, filters=filters)
    total = console_views.inbox_total(db, viewer.user, scope=scope, now=now, filters=filters)
    unread = action_repository.unread_notifications(db, viewer.workspace_id, viewer.user.id)
    ws = viewer.workspace_id
    return render(
        request,
        "inbox.html",
        {
            "items": items,
            "total": total,
            "scope": scope,
            "notifications": unread,
            "filters": filters,
            "choices": console_views.filter_choices(db, ws),
        },
    )


@router.get("/inbox")
def inbox_fragment(
    request: Request, viewer: AgentViewer, db: DbSession, scope: Scope = "team"
) -> Response:
    now = get_clock(request)()
    filters = parse_filters(request.query_params)
    items = console_views.inbox(db, viewer.user, scope=scope, now=now, filters=filters)
    total = console_views.inbox_total(db, viewer.user, scope=scope, now=now, filters=filters)
    return render(
        request,
        "_inbox_list.html",
        {"items": items, "total": total, "scope": scope, "filters": filters},
    )


@router.get("/next")
def next_item(
    request: Request,
    viewer: AgentViewer,
    db: DbSession,
    after: int = 0,
    scope: Scope = "team",
) -> Response:
    """The item after ``after`` in the agent's list (the first one if ``after`` is not there)."""
    items = console_views.inbox(db, viewer.user, scope=scope, now=get_clock(request)())
    ids = [i.conversation.id for i in items]
    if not ids:
        return RedirectResponse("/console", 303)
    target = ids[0]
    if after in ids and ids.index(after) + 1 < len(ids):
        target = ids[ids.index(after) + 1]
    return RedirectResponse(f"/console/c/{target}", 303)


def _conversation_context(
    request: Request, viewer: Viewer, db: DbSession, cid: int
) -> dict[str, object]:
    view = console_views.conversation_view(db, viewer.workspace_id, cid, now=get_clock(request)())
    ws = viewer.workspace_id
    suggestions = (
        knowledge.suggestions_for(db, workspace_id=ws, message=view.last_inbound.text)
        if view.last_inbound
        else []
    )
    channel = view.last_inbound.channel if view.last_inbound else view.conversation.channel
    windows = integrations.reply_windows(db, ws, cid, get_clock(request)())
    return {
        "view": view,
        "canned": knowledge_repo.canned_replies(db, ws),
        "suggestions": suggestions,
        "channel": channel,
        "reply_modes": integrations.reply_modes(
            channel, view.last_inbound.visibility if view.last_inbound else "public"
        ),
        "limit": integrations.channel_limit(channel, "public"),
        "limit_private": integrations.channel_limit(channel, "private"),
        "replies_available": integrations.replies_available(),
        "windows": windows,
        # Every answer on this channel refused (e.g. Messenger after 7 days): shift instead.
        "reply_blocked": bool(windows)
        and not any(w.allowed or "quote" in w.offers for w in windows.values()),
        "notifications": action_repository.unread_notifications(db, ws, viewer.user.id),
    }


@router.get("/c/{conversation_id}")
def conversation_page(
    request: Request, viewer: AgentViewer, db: DbSession, conversation_id: int
) -> Response:
    return render(
        request, "conversation.html", _conversation_context(request, viewer, db, conversation_id)
    )


@router.get("/c/{conversation_id}/live")
def conversation_fragment(
    request: Request, viewer: AgentViewer, db: DbSession, conversation_id: int
) -> Response:
    return render(
        request,
        "_conversation_live.html",
        _conversation_context(request, viewer, db, conversation_id),
    )


@router.get("/c/{conversation_id}/canned/{reply_id}")
def canned_text(
    request: Request, viewer: AgentViewer, db: DbSession, conversation_id: int, reply_id: int
) -> Response:
    """A canned reply with its placeholders filled for this case (JSON for the composer)."""
    text = canned.fill_canned_reply(
        db,
        workspace_id=viewer.workspace_id,
        conversation_id=conversation_id,
        reply_id=reply_id,
        agent_name=viewer.user.name,
    )
    return JSONResponse({"text": text})


@router.post("/c/{conversation_id}/assign")
def assign(
    request: Request,
    viewer: AgentViewer,
    db: DbSession,
    conversation_id: int,
    exceed: Annotated[bool, Form()] = False,
) -> Response:
    try:
        cases.assign_case(
            db,
            workspace_id=viewer.workspace_id,
            conversation_id=conversation_id,
            actor=viewer.user,
            clock=get_clock(request),
            exceed_once=exceed,
        )
    except AtCapacity as full:
        db.rollback()
        # Offer the choice rather than a dead end: one item over capacity, once.
        context = {"message": str(full), "conversation_id": conversation_id}
        return render(request, "at_capacity.html", context, 409)
    db.commit()
    return _done(request, viewer, conversation_id, done="assigned")


@router.post("/c/{conversation_id}/transfer")
def transfer(
    request: Request,
    viewer: AgentViewer,
    db: DbSession,
    conversation_id: int,
    target: Annotated[str, Form(max_length=40)],
) -> Response:
    kind, _, raw = target.partition(":")
    if kind not in ("u", "t") or not raw.isdigit():
        raise InvalidInput("choose a colleague or a team")
    cases.transfer_case(
        db,
        workspace_id=viewer.workspace_id,
        conversation_id=conversation_id,
        actor=viewer.user,
        to_user_id=int(raw) if kind == "u" else None,
        to_team_id=int(raw) if kind == "t" else None,
        clock=get_clock(request),
    )
    db.commit()
    return _done(
        request,
        viewer,
        conversation_id,
        done="transferred",
        freed_by=viewer.user.id,
        reopened=kind == "t",
    )


@router.post("/c/{conversation_id}/snooze")
def snooze(
    request: Request,
    viewer: AgentViewer,
    db: DbSession,
    conversation_id: int,
    minutes: Annotated[int, Form(ge=1, le=43200)],
) -> Response:
    clock = get_clock(request)
    actions.snooze(
        db,
        workspace_id=viewer.workspace_id,
        conversation_id=conversation_id,
        actor=viewer.user,
        until=clock() + timedelta(minutes=minutes),
        clock=clock,
    )
    db.commit()
    _hub(request).notify(viewer.workspace_id)
    return RedirectResponse("/console?done=snoozed", 303)


@router.post("/c/{conversation_id}/resolve")
def resolve(request: Request, viewer: AgentViewer, db: DbSession, conversation_id: int) -> Response:
    task = console_repository.task_of(db, viewer.workspace_id, conversation_id)
    holder = None if task is None else task.assignee_id
    actions.resolve(
        db,
        workspace_id=viewer.workspace_id,
        conversation_id=conversation_id,
        actor=viewer.user,
        clock=get_clock(request),
    )
    db.commit()
    return _done(request, viewer, conversation_id, done="resolved", freed_by=holder)


@router.post("/c/{conversation_id}/reopen")
def reopen(request: Request, viewer: AgentViewer, db: DbSession, conversation_id: int) -> Response:
    actions.reopen(
        db,
        workspace_id=viewer.workspace_id,
        conversation_id=conversation_id,
        actor=viewer.user,
        clock=get_clock(request),
    )
    db.commit()
    return _done(request, viewer, conversation_id, done="reopened")


@router.post("/c/{conversation_id}/note")
def note(
    request: Request,
    viewer: AgentViewer,
    db: DbSession,
    conversation_id: int,
    text: Annotated[str, Form(max_length=actions.MAX_NOTE_CHARS)],
) -> Response:
    actions.add_note(
        db,
        workspace_id=viewer.workspace_id,
        conversation_id=conversation_id,
        author=viewer.user,
        text=text,
        clock=get_clock(request),
    )
    db.commit()
    return _done(request, viewer, conversation_id, done="noted")


@router.post("/c/{conversation_id}/reply")
def reply(
    request: Request,
    viewer: AgentViewer,
    db: DbSession,
    conversation_id: int,
    text: Annotated[str, Form(max_length=100_000)],
    visibility: Annotated[Literal["public", "private", "quote"], Form()] = "public",
    kb_article_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    replies.reply_to_case(
        db,
        workspace_id=viewer.workspace_id,
        conversation_id=conversation_id,
        author_user_id=viewer.user.id,
        text=text,
        visibility=visibility,
        kb_article_id=int(kb_article_id) if kb_article_id.isdigit() else None,
        clock=get_clock(request),
    )
    db.commit()
    return _done(request, viewer, conversation_id, done="replied")


@router.post("/c/{conversation_id}/deliveries/{item_id}/retry")
def retry_delivery(
    request: Request, viewer: AgentViewer, db: DbSession, conversation_id: int, item_id: int
) -> Response:
    integrations.retry_delivery(db, viewer.workspace_id, conversation_id, item_id)
    db.commit()
    return _done(request, viewer, conversation_id, done="retrying")


@router.post("/c/{conversation_id}/shift")
def shift(
    request: Request,
    viewer: AgentViewer,
    db: DbSession,
    conversation_id: int,
    action: Annotated[Literal["dm", "email", "callback"], Form()],
    reason: Annotated[str, Form(min_length=1, max_length=500)],
    detail: Annotated[str, Form(max_length=400)] = "",
    message: Annotated[str, Form(max_length=10_000)] = "",
    callback_at: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    when = None
    if callback_at:
        try:
            when = datetime.fromisoformat(callback_at)
        except ValueError:
            raise InvalidInput("the callback time is not a date and time") from None
    channel_shift.shift_channel(
        db,
        workspace_id=viewer.workspace_id,
        conversation_id=conversation_id,
        actor=viewer.user,
        action=action,
        reason=reason,
        detail=detail,
        message=message,
        callback_at=when,
        clock=get_clock(request),
    )
    db.commit()
    return _done(request, viewer, conversation_id, done="shifted")


@router.post("/c/{conversation_id}/relabel")
def relabel(
    request: Request,
    viewer: AgentViewer,
    db: DbSession,
    conversation_id: int,
    message_id: Annotated[int, Form()],
    kind: Annotated[str, Form(max_length=40)] = "",
    topic: Annotated[str, Form(max_length=80)] = "",
    sentiment: Annotated[str, Form(max_length=20)] = "",
    verdict: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    corrections.relabel(
        db,
        workspace_id=viewer.workspace_id,
        conversation_id=conversation_id,
        message_id=message_id,
        actor=viewer.user,
        kind=kind or None,
        topic=topic or None,
        sentiment=sentiment or None,
        verdict=verdict or None,
        clock=get_clock(request),
    )
    db.commit()
    return _done(request, viewer, conversation_id, done="relabelled")


@router.post("/presence")
def presence(
    request: Request,
    viewer: AgentViewer,
    db: DbSession,
    status: Annotated[Literal["online", "away", "offline"], Form()],
) -> Response:
    routing.set_presence(db, viewer.workspace_id, viewer.user.id, status, get_clock(request)())
    db.commit()
    _hub(request).notify(viewer.workspace_id)
    live.tell_routing(request.app.state, "agents", viewer.workspace_id, [viewer.user.id])
    return RedirectResponse("/console?done=presence", 303)


@router.get("/customers/{customer_id}")
def customer_page(
    request: Request, viewer: AgentViewer, db: DbSession, customer_id: int
) -> Response:
    profile = console_views.customer_profile(db, viewer.workspace_id, customer_id)
    return render(request, "customer.html", {"profile": profile})


@router.post("/customers/{customer_id}/merge")
def merge_customer(
    request: Request,
    viewer: SupervisorViewer,
    db: DbSession,
    customer_id: int,
    other_id: Annotated[int, Form(ge=1)],
) -> Response:
    """The other customer is the same person: fold them into this one."""
    customers.merge_customers(db, viewer.workspace_id, other_id, customer_id)
    db.commit()
    _hub(request).notify(viewer.workspace_id)
    return RedirectResponse(f"/console/customers/{customer_id}", 303)


@router.post("/customers/{customer_id}/identities/{identity_id}/unmerge")
def unmerge_identity(
    request: Request, viewer: SupervisorViewer, db: DbSession, customer_id: int, identity_id: int
) -> Response:
    """A wrong merge undone: the identity becomes a customer of its own."""
    customers.unmerge_identity(db, viewer.workspace_id, customer_id, identity_id)
    db.commit()
    _hub(request).notify(viewer.workspace_id)
    return RedirectResponse(f"/console/customers/{customer_id}", 303)


@router.get("/notifications")
def notifications(request: Request, viewer: AgentViewer, db: DbSession) -> Response:
    unread = action_repository.unread_notifications(db, viewer.workspace_id, viewer.user.id)
    return render(request, "notifications.html", {"notifications": unread})


@router.get("/notifications/count")
def notifications_count(viewer: AgentViewer, db: DbSession) -> Response:
    unread = action_repository.unread_notifications(db, viewer.workspace_id, viewer.user.id)
    return JSONResponse({"unread": len(unread)})


@router.post("/notifications/read")
def notifications_read(request: Request, viewer: AgentViewer, db: DbSession) -> Response:
    actions.mark_notifications_read(
        db, workspace_id=viewer.workspace_id, user=viewer.user, clock=get_clock(request)
    )
    db.commit()
    return RedirectResponse("/console", 303)


@router.get("/events")
async def events(
    request: Request,
    viewer: AgentViewer,
    max_seconds: Annotated[float, Query(gt=0, le=live.STREAM_SECONDS)] = live.STREAM_SECONDS,
) -> StreamingResponse:
    factory = request.app.state.session_factory
    ws = viewer.workspace_id

    hub = _hub(request)

    def compute() -> object:
        with factory() as session:
            return console_repository.change_marker(session, ws)

    def fingerprint() -> object:
        return hub.marker(ws, compute)

    token = request.cookies.get(SESSION_COOKIE, "")

    def still_allowed() -> bool:
        with factory() as session:
            return auth.resolve_session(session, token, clock=get_clock(request)) is not None

    return StreamingResponse(
        live.stream(
            request, hub, ws, fingerprint, max_seconds=max_seconds, still_allowed=still_allowed
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
