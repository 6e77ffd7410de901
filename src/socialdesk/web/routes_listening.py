"""Supervisors' crisis screens: the alerts bell, incidents with bulk response, trends, and the
admin page of listening rules and alert destinations.

Thin endpoints: check the role, call a listening service, commit, then wake the live screens
(and the outbox sender after a bulk answer).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from socialdesk.analytics import charts
from socialdesk.core.clock import as_utc
from socialdesk.core.errors import InvalidInput
from socialdesk.listening import alerts as alert_service
from socialdesk.listening import bulk, incidents, rule_service, trends
from socialdesk.listening import repository as listening_repo
from socialdesk.listening.rules import RuleSpec
from socialdesk.web.guard import AdminViewer, DbSession, SupervisorViewer, Viewer, get_clock
from socialdesk.web.templating import render

router = APIRouter(tags=["listening"], include_in_schema=False)


def _woken(request: Request, viewer: Viewer, *, outbox: bool = False) -> None:
    request.app.state.live_hub.notify(viewer.workspace_id)
    wake = getattr(request.app.state, "outbox_wake", None)
    if outbox and wake is not None:
        wake()


def _lines(text: str) -> list[str]:
    """Form lists: one item per line or comma."""
    return [part.strip() for line in text.splitlines() for part in line.split(",") if part.strip()]


# -- the bell ---------------------------------------------------------------------------------


@router.get("/console/alerts")
def alerts_page(request: Request, viewer: SupervisorViewer, db: DbSession) -> Response:
    return render(request, "alerts.html", _bell_context(db, viewer))


@router.get("/console/alerts/live")
def alerts_fragment(request: Request, viewer: SupervisorViewer, db: DbSession) -> Response:
    return render(request, "_alerts_list.html", _bell_context(db, viewer))


def _bell_context(db: DbSession, viewer: Viewer) -> dict[str, object]:
    return {
        "items": alert_service.bell(db, viewer.workspace_id, limit=100),
        "unacknowledged": alert_service.unacknowledged_count(db, viewer.workspace_id),
    }


@router.get("/console/alerts/count")
def alerts_count(viewer: SupervisorViewer, db: DbSession) -> Response:
    return JSONResponse(
        {"unacknowledged": alert_service.unacknowledged_count(db, viewer.workspace_id)}
    )


@router.post("/console/alerts/{source}/{item_id}/ack")
def acknowledge(
    request: Request,
    viewer: SupervisorViewer,
    db: DbSession,
    source: Literal["alert", "sla"],
    item_id: int,
) -> Response:
    now = get_clock(request)()
    if source == "alert":
        alert_service.acknowledge(db, viewer.workspace_id, item_id, viewer.user.id, now)
    else:
        alert_service.acknowledge_sla(db, viewer.workspace_id, item_id, viewer.user.id, now)
    db.commit()
    _woken(request, viewer)
    return RedirectResponse(request.headers.get("referer") or "/console/alerts", 303)


@router.post("/console/alerts/ack-all")
def acknowledge_all(request: Request, viewer: SupervisorViewer, db: DbSession) -> Response:
    alert_service.acknowledge_everything(
        db, viewer.workspace_id, viewer.user.id, get_clock(request)()
    )
    db.commit()
    _woken(request, viewer)
    return RedirectResponse("/console/alerts", 303)


# -- incidents --------------------------------------------------------------------------------


@router.get("/console/incidents")
def incidents_page(request: Request, viewer: SupervisorViewer, db: DbSession) -> Response:
    return render(
        request,
        "incidents.html",
        {"incidents": listening_repo.incidents(db, viewer.workspace_id, limit=200)},
    )


@router.post("/console/incidents")
def open_incident(
    request: Request,
    viewer: SupervisorViewer,
    db: DbSession,
    title: Annotated[str, Form(max_length=300)],
    hashtags: Annotated[str, Form(max_length=2000)] = "",
    topic: Annotated[str, Form(max_length=64)] = "",
    terms: Annotated[str, Form(max_length=2000)] = "",
    alert_id: Annotated[int | None, Form()] = None,
) -> Response:
    now = get_clock(request)()
    if alert_id is not None:
        alert = listening_repo.alert(db, viewer.workspace_id, alert_id)
        if alert is None:
            raise InvalidInput(f"alert {alert_id} not found")
        incident = incidents.open_from_alert(db, alert, now)
        incidents.record(db, incident, "opened_from_alert", viewer.user.id, now, alert_id=alert.id)
    else:
        incident = incidents.open_incident(
            db,
            viewer.workspace_id,
            title=title,
            criteria={"hashtags": _lines(hashtags), "topic": topic, "terms": _lines(terms)},
            now=now,
            user_id=viewer.user.id,
        )
    db.commit()
    _woken(request, viewer)
    return RedirectResponse(f"/console/incidents/{incident.id}", 303)


def _incident_context(db: DbSession, viewer: Viewer, incident_id: int) -> dict[str, object]:
    v = incidents.view(db, viewer.workspace_id, incident_id)
    volume = (
        charts.bars(
            [at.strftime("%H:%M") for at, _ in v.volume],
            [n for _, n in v.volume],
            title="Messages per 15 minutes (UTC)",
        )
        if v.volume
        else None
    )
    return {"v": v, "volume_chart": volume, "conversations": _conversation_choices(v)}


def _conversation_choices(v: incidents.IncidentView) -> list[tuple[int, str]]:
    seen: dict[int, str] = {}
    for m in v.members:
        seen.setdefault(m.conversation_id, f"{m.author}: {m.text[:60]}")
    return sorted(seen.items())


@router.get("/console/incidents/{incident_id}")
def incident_page(
    request: Request, viewer: SupervisorViewer, db: DbSession, incident_id: int
) -> Response:
    return render(request, "incident.html", _incident_context(db, viewer, incident_id))


@router.get("/console/incidents/{incident_id}/live")
def incident_fragment(
    request: Request, viewer: SupervisorViewer, db: DbSession, incident_id: int
) -> Response:
    return render(request, "_incident_live.html", _incident_context(db, viewer, incident_id))


def _back(incident_id: int) -> RedirectResponse:
    return RedirectResponse(f"/console/incidents/{incident_id}", 303)


@router.post("/console/incidents/{incident_id}/bulk-reply")
def bulk_reply(
    request: Request,
    viewer: SupervisorViewer,
    db: DbSession,
    incident_id: int,
    template: Annotated[str, Form(max_length=10_000)],
    visibility: Annotated[Literal["public", "private"], Form()] = "public",
    conversation_ids: Annotated[list[int] | None, Form()] = None,
) -> Response:
    result = bulk.bulk_reply(
        db,
        viewer.workspace_id,
        incident_id,
        user=viewer.user,
        template=template,
        now=get_clock(request)(),
        conversation_ids=conversation_ids or None,
        visibility=visibility,
    )
    db.commit()
    _woken(request, viewer, outbox=True)
    return RedirectResponse(
        f"/console/incidents/{incident_id}?sent={len(result.sent)}"
        f"&skipped={len(result.skipped)}&failed={len(result.failed)}",
        303,
    )


@router.post("/console/incidents/{incident_id}/public-post")
def public_post(
    request: Request,
    viewer: SupervisorViewer,
    db: DbSession,
    incident_id: int,
    text: Annotated[str, Form(max_length=10_000)],
    channel: Annotated[Literal["x", "facebook"], Form()] = "x",
) -> Response:
    bulk.public_post(
        db,
        viewer.workspace_id,
        incident_id,
        user=viewer.user,
        text=text,
        channel=channel,
        now=get_clock(request)(),
    )
    db.commit()
    _woken(request, viewer, outbox=True)
    return _back(incident_id)


@router.post("/console/incidents/{incident_id}/messages")
def add_message(
    request: Request,
    viewer: SupervisorViewer,
    db: DbSession,
    incident_id: int,
    message_id: Annotated[int, Form()],
) -> Response:
    incidents.add_message(
        db,
        viewer.workspace_id,
        incident_id,
        message_id,
        user_id=viewer.user.id,
        now=get_clock(request)(),
    )
    db.commit()
    _woken(request, viewer)
    return _back(incident_id)


@router.post("/console/incidents/{incident_id}/messages/{message_id}/remove")
def remove_message(
    request: Request, viewer: SupervisorViewer, db: DbSession, incident_id: int, message_id: int
) -> Response:
    incidents.remove_message(
        db,
        viewer.workspace_id,
        incident_id,
        message_id,
        user_id=viewer.user.id,
        now=get_clock(request)(),
    )
    db.commit()
    _woken(request, viewer)
    return _back(incident_id)


@router.post("/console/incidents/{incident_id}/resolve")
def resolve(
    request: Request,
    viewer: SupervisorViewer,
    db: DbSession,
    incident_id: int,
    note: Annotated[str, Form(max_length=4000)] = "",
    close_cases: Annotated[bool, Form()] = False,
) -> Response:
    incidents.resolve(
        db,
        viewer.workspace_id,
        incident_id,
        user=viewer.user,
        now=get_clock(request)(),
        note=note,
        close_cases=close_cases,
    )
    db.commit()
    _woken(request, viewer)
    return _back(incident_id)


# -- trends -----------------------------------------------------------------------------------


@router.get("/dashboard/trends")
def trends_page(
    request: Request,
    viewer: SupervisorViewer,
    db: DbSession,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
    by: Annotated[Literal["rule", "topic", "channel", "hashtag"], Query()] = "topic",
    bucket_minutes: Annotated[int, Query(ge=5, le=1440)] = 60,
) -> Response:
    end = as_utc(until) if until else get_clock(request)()
    start = as_utc(since) if since else end - timedelta(days=1)
    t = trends.build(
        db, viewer.workspace_id, start, end, by=by, bucket=timedelta(minutes=bucket_minutes)
    )
    fmt = "%d %b %H:%M" if bucket_minutes < 1440 else "%d %b"
    labels = [b.strftime(fmt) for b in t.buckets]
    series = {g.group: g.counts for g in t.groups[:6]}
    context = {
        "t": t,
        "since": start,
        "until": end,
        "by": by,
        "bucket_minutes": bucket_minutes,
        "labels": labels,
        "volume_chart": charts.stacked_bars(
            labels, series or {"all": t.volume}, title=f"Messages per {by}", width=1200
        ),
        "sentiment_chart": charts.line(
            labels,
            [s if s is not None else 0.0 for s in t.mean_sentiment],
            title="Mean sentiment",
        ),
    }
    return render(request, "trends.html", context)


# -- admin: rules and alert destinations -------------------------------------------------------


def listening_admin_context(db: DbSession, workspace_id: int) -> dict[str, object]:
    """What the admin page's Listening section shows (used by the admin screen)."""
    workspace = listening_repo.workspace(db, workspace_id)
    emails, webhook = alert_service.destinations(workspace) if workspace else ([], "")
    return {
        "rules": rule_service.list_rules(db, workspace_id),
        "alert_emails": emails,
        "alert_webhook": webhook,
    }


@router.post("/admin/listening/rules")
def create_rule(
    request: Request,
    viewer: AdminViewer,
    db: DbSession,
    name: Annotated[str, Form(max_length=200)],
    terms: Annotated[str, Form(max_length=20_000)] = "",
    handles: Annotated[str, Form(max_length=20_000)] = "",
    hashtags: Annotated[str, Form(max_length=20_000)] = "",
    exclusions: Annotated[str, Form(max_length=20_000)] = "",
    languages: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    rule_service.create_rule(
        db,
        viewer.workspace_id,
        RuleSpec(
            name=name,
            terms=_lines(terms),
            handles=_lines(handles),
            hashtags=_lines(hashtags),
            exclusions=_lines(exclusions),
            languages=_lines(languages),
        ),
        user_id=viewer.user.id,
        now=get_clock(request)(),
    )
    db.commit()
    return RedirectResponse("/admin/listening", 303)


@router.post("/admin/listening/rules/{rule_id}/toggle")
def toggle_rule(request: Request, viewer: AdminViewer, db: DbSession, rule_id: int) -> Response:
    rule = rule_service.get_rule(db, viewer.workspace_id, rule_id)
    rule_service.set_active(db, viewer.workspace_id, rule_id, not rule.active, get_clock(request)())
    db.commit()
    return RedirectResponse("/admin/listening", 303)


@router.post("/admin/listening/rules/{rule_id}/delete")
def delete_rule(viewer: AdminViewer, db: DbSession, rule_id: int) -> Response:
    rule_service.delete_rule(db, viewer.workspace_id, rule_id)
    db.commit()
    return RedirectResponse("/admin/listening", 303)


@router.post("/admin/listening/destinations")
def save_destinations(
    viewer: AdminViewer,
    db: DbSession,
    emails: Annotated[str, Form(max_length=5000)] = "",
    webhook_url: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    workspace = listening_repo.workspace(db, viewer.workspace_id)
    if workspace is None:
        raise InvalidInput("the workspace no longer exists")
    alert_service.set_destinations(workspace, _lines(emails), webhook_url)
    db.commit()
    return RedirectResponse("/admin/listening", 303)
