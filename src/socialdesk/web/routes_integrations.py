"""Admin screens for what surrounds the console: the audit log and outgoing webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from socialdesk.compliance import repository as compliance_repo
from socialdesk.core.errors import InvalidInput
from socialdesk.eventhooks import repository as hooks_repo
from socialdesk.eventhooks import service as hooks
from socialdesk.eventhooks.relay import EVENT_TYPES
from socialdesk.web.guard import AdminViewer, DbSession, get_clock
from socialdesk.web.templating import render

router = APIRouter(prefix="/admin", tags=["admin"], include_in_schema=False)
AUDIT_PAGE = 100


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"not a date: {value!r} (use YYYY-MM-DD)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.now().astimezone().tzinfo)


def audit_context(request: Request, db: Session, workspace_id: int) -> dict[str, Any]:
    """The log, newest first, filtered by the query string (action, actor, since, until)."""
    q = request.query_params
    filters = {k: q.get(k, "").strip()[:400] for k in ("action", "actor", "since", "until")}
    cursor = q.get("cursor", "")
    rows = compliance_repo.audit_events(
        db,
        workspace_id,
        action=filters["action"] or None,
        actor=filters["actor"] or None,
        since=_when(filters["since"]),
        until=_when(filters["until"]),
        before_id=int(cursor) if cursor.isdigit() and len(cursor) < 19 else None,
        limit=AUDIT_PAGE + 1,
    )
    older = rows[AUDIT_PAGE - 1].id if len(rows) > AUDIT_PAGE else None
    return {"events": rows[:AUDIT_PAGE], "filters": filters, "older": older}


def webhooks_context(db: Session, workspace_id: int) -> dict[str, Any]:
    subs = hooks_repo.subscriptions(db, workspace_id)
    return {
        "subscriptions": subs,
        "event_types": EVENT_TYPES,
        "deliveries": {
            s.id: hooks_repo.deliveries_of(db, workspace_id, s.id, None, 10) for s in subs
        },
    }


@router.post("/webhooks")
def add_webhook(
    request: Request,
    viewer: AdminViewer,
    db: DbSession,
    url: Annotated[str, Form(max_length=2000)],
    events: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Subscribe; the page that answers shows the signing secret, this once."""
    made = hooks.subscribe(
        db,
        viewer.workspace_id,
        url.strip(),
        events or [],
        request.app.state.settings.secret_key,
        get_clock(request)(),
    )
    db.commit()
    context: dict[str, Any] = {
        "title": "Webhooks",
        "section": "webhooks",
        "can_edit": True,
        "new_secret": made.secret,
        "new_id": made.subscription.id,
    }
    from socialdesk.web.routes_admin import SECTIONS

    context["sections"] = SECTIONS
    context.update(webhooks_context(db, viewer.workspace_id))
    return render(request, "admin.html", context, 201)


@router.post("/webhooks/{subscription_id}/toggle")
def toggle_webhook(viewer: AdminViewer, db: DbSession, subscription_id: int) -> Response:
    sub = hooks.get(db, viewer.workspace_id, subscription_id)
    hooks.update(db, viewer.workspace_id, subscription_id, active=not sub.active)
    db.commit()
    return RedirectResponse("/admin/webhooks", 303)


@router.post("/webhooks/deliveries/{delivery_id}/redeliver")
def redeliver(request: Request, viewer: AdminViewer, db: DbSession, delivery_id: int) -> Response:
    hooks.redeliver(db, viewer.workspace_id, delivery_id, get_clock(request)())
    db.commit()
    return RedirectResponse("/admin/webhooks", 303)
