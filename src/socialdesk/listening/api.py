"""Listening rules, alerts (the supervisors' bell), incidents, bulk response and trends.

Everything is scoped to the caller's workspace. Supervisors read and act on alerts and
incidents; admins manage rules and where alerts are sent. Acting on an incident is done by
a person: an integration (API token) names the supervisor it acts for (``user_id``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from socialdesk.core.clock import as_utc, utcnow
from socialdesk.core.errors import InvalidInput, NotFound
from socialdesk.core.http import Principal, current_workspace, db_session, require_role
from socialdesk.core.models import Workspace
from socialdesk.core.pagination import (
    NEXT_CURSOR_RESPONSE,
    CursorParam,
    keyset_list,
    list_by_id,
    time_and_id,
)
from socialdesk.listening import alerts as alert_service
from socialdesk.listening import bulk, incidents, rule_service, trends
from socialdesk.listening import repository as repo
from socialdesk.listening.models import Alert, ListeningRule
from socialdesk.listening.rules import RuleSpec
from socialdesk.people.models import Role, User

router = APIRouter(prefix="/api/v1", tags=["listening"])
Supervisor = Depends(require_role(Role.SUPERVISOR))
Admin = Depends(require_role(Role.ADMIN))


def _after_commit(request: Request, workspace_id: int, *, outbox: bool = False) -> None:
    """Wake this process's live screens and outbox sender (if it runs them)."""
    hub = getattr(request.app.state, "live_hub", None)
    if hub is not None:
        hub.notify(workspace_id)
    wake = getattr(request.app.state, "outbox_wake", None)
    if outbox and wake is not None:
        wake()


def _person(session: Session, principal: Principal, workspace_id: int, user_id: int | None) -> User:
    """The person acting: the signed-in one, or the supervisor an API token names."""
    wanted = principal.user_id if principal.user_id is not None else user_id
    if wanted is None:
        raise InvalidInput("name the supervisor acting (user_id)")
    user = session.get(User, wanted)
    if user is None or user.workspace_id != workspace_id:
        raise NotFound(f"user {wanted} not found")
    if principal.user_id is not None and user_id not in (None, principal.user_id):
        raise InvalidInput("a signed-in person acts for themselves")
    # End the read of the sign-in lookup: the action's own transaction then starts with its
    # write (an embedded SQLite database refuses to turn an old read into a write).
    session.commit()
    return user


# -- rules ------------------------------------------------------------------------------------


class RuleIn(BaseModel):
    name: str = Field(max_length=200)
    terms: list[str] = Field(default_factory=list, description="names and phrases; word*, /regex/")
    handles: list[str] = Field(default_factory=list)
    hashtags: list[str] = Field(default_factory=list)
    exclusions: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list, description="ISO codes; empty: all")
    active: bool | None = None

    def spec(self) -> RuleSpec:
        return RuleSpec(
            name=self.name,
            terms=self.terms,
            handles=self.handles,
            hashtags=self.hashtags,
            exclusions=self.exclusions,
            languages=self.languages,
        )


class RuleOut(BaseModel):
    id: int
    name: str
    terms: list[str]
    handles: list[str]
    hashtags: list[str]
    exclusions: list[str]
    languages: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime


def _rule_out(rule: ListeningRule) -> RuleOut:
    return RuleOut.model_validate(rule, from_attributes=True)


@router.get(
    "/listening/rules",
    response_model=list[RuleOut],
    dependencies=[Supervisor],
    responses=NEXT_CURSOR_RESPONSE,
)
def list_rules(
    response: Response,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    limit: int = Query(1000, ge=1, le=1000),
    cursor: CursorParam = None,
) -> list[RuleOut]:
    """In id order; the next page's cursor is in the X-Next-Cursor header."""
    rules = rule_service.list_rules(session, workspace.id)
    return list_by_id(
        response, rules, cursor=cursor, limit=limit, id_of=lambda r: r.id, out=_rule_out
    )


@router.post("/listening/rules", response_model=RuleOut, status_code=201)
def create_rule(
    body: RuleIn,
    principal: Principal = Admin,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> RuleOut:
    rule = rule_service.create_rule(
        session, workspace.id, body.spec(), user_id=principal.user_id, now=utcnow()
    )
    if body.active is False:
        rule.active = False
    session.commit()
    return _rule_out(rule)


@router.get("/listening/rules/{rule_id}", response_model=RuleOut, dependencies=[Supervisor])
def get_rule(
    rule_id: int,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> RuleOut:
    return _rule_out(rule_service.get_rule(session, workspace.id, rule_id))


@router.put("/listening/rules/{rule_id}", response_model=RuleOut, dependencies=[Admin])
def update_rule(
    rule_id: int,
    body: RuleIn,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> RuleOut:
    rule = rule_service.update_rule(
        session, workspace.id, rule_id, body.spec(), active=body.active, now=utcnow()
    )
    session.commit()
    return _rule_out(rule)


@router.delete("/listening/rules/{rule_id}", status_code=204, dependencies=[Admin])
def delete_rule(
    rule_id: int,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> None:
    rule_service.delete_rule(session, workspace.id, rule_id)
    session.commit()


class DestinationsIn(BaseModel):
    emails: list[str] = Field(default_factory=list)
    webhook_url: str = ""


@router.get("/listening/destinations", response_model=DestinationsIn, dependencies=[Supervisor])
def get_destinations(workspace: Workspace = Depends(current_workspace)) -> DestinationsIn:
    emails, url = alert_service.destinations(workspace)
    return DestinationsIn(emails=emails, webhook_url=url)


@router.put("/listening/destinations", response_model=DestinationsIn, dependencies=[Admin])
def put_destinations(
    body: DestinationsIn,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> DestinationsIn:
    alert_service.set_destinations(workspace, body.emails, body.webhook_url)
    session.commit()
    emails, url = alert_service.destinations(workspace)
    return DestinationsIn(emails=emails, webhook_url=url)


# -- alerts and the bell ----------------------------------------------------------------------


class AlertOut(BaseModel):
    id: int
    kind: str
    series: str
    title: str
    window_start: datetime
    observed: float
    expected: float
    detail: dict[str, Any]
    message_id: int | None
    incident_id: int | None
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by_id: int | None


def _alert_out(alert: Alert) -> AlertOut:
    return AlertOut.model_validate(alert, from_attributes=True)


@router.get(
    "/listening/alerts",
    response_model=list[AlertOut],
    dependencies=[Supervisor],
    responses=NEXT_CURSOR_RESPONSE,
)
def list_alerts(
    response: Response,
    unacknowledged: bool = False,
    limit: int = Query(100, ge=1, le=1000),
    cursor: CursorParam = None,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> list[AlertOut]:
    """Newest first; the next page's cursor is in the X-Next-Cursor header."""
    rows = repo.alerts(
        session,
        workspace.id,
        unacknowledged=unacknowledged,
        limit=limit + 1,
        after=time_and_id(cursor),
    )
    return keyset_list(
        response, rows, limit=limit, key=lambda a: (a.created_at, a.id), out=_alert_out
    )


class ActorIn(BaseModel):
    user_id: int | None = Field(default=None, description="for API tokens: the person acting")


@router.post("/listening/alerts/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge_alert(
    alert_id: int,
    request: Request,
    body: ActorIn | None = None,
    principal: Principal = Supervisor,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> AlertOut:
    user = _person(session, principal, workspace.id, body.user_id if body else None)
    alert = alert_service.acknowledge(session, workspace.id, alert_id, user.id, utcnow())
    session.commit()
    _after_commit(request, workspace.id)
    return _alert_out(alert)


class BellItemOut(BaseModel):
    source: Literal["alert", "sla"]
    id: int
    kind: str
    title: str
    created_at: datetime
    link: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None


class BellOut(BaseModel):
    unacknowledged: int
    items: list[BellItemOut]


@router.get("/listening/bell", response_model=BellOut, dependencies=[Supervisor])
def bell(
    unacknowledged: bool = False,
    limit: int = Query(50, ge=1, le=500),
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> BellOut:
    """Alerts with routing's SLA warnings and breaches, newest first."""
    items = alert_service.bell(session, workspace.id, unacknowledged=unacknowledged, limit=limit)
    return BellOut(
        unacknowledged=alert_service.unacknowledged_count(session, workspace.id),
        items=[BellItemOut.model_validate(i, from_attributes=True) for i in items],
    )


@router.post("/listening/sla-notifications/{notification_id}/acknowledge", status_code=204)
def acknowledge_sla(
    notification_id: int,
    request: Request,
    body: ActorIn | None = None,
    principal: Principal = Supervisor,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> None:
    user = _person(session, principal, workspace.id, body.user_id if body else None)
    alert_service.acknowledge_sla(session, workspace.id, notification_id, user.id, utcnow())
    session.commit()
    _after_commit(request, workspace.id)


# -- incidents --------------------------------------------------------------------------------


class IncidentIn(BaseModel):
    title: str = Field(max_length=300)
    topic: str | None = None
    hashtags: list[str] = Field(default_factory=list)
    terms: list[str] = Field(default_factory=list)
    message_ids: list[int] = Field(default_factory=list)
    user_id: int | None = None


class IncidentOut(BaseModel):
    id: int
    title: str
    status: str
    criteria: dict[str, Any]
    opened_by_id: int | None
    opened_at: datetime
    resolved_by_id: int | None
    resolved_at: datetime | None
    resolution: str


class MemberOut(BaseModel):
    message_id: int
    conversation_id: int
    channel: str
    text: str
    created_at: datetime
    author: str
    followers: int
    sentiment: str | None
    task_status: str | None
    reply_state: str | None
    reply_error: str | None


class TimelineOut(BaseModel):
    at: datetime
    kind: str
    by: str
    detail: dict[str, Any]


class IncidentDetailOut(IncidentOut):
    messages: list[MemberOut]
    timeline: list[TimelineOut]
    volume: list[tuple[datetime, int]]
    sentiment: dict[str, int]
    reach: int
    authors: int
    top_hashtags: list[tuple[str, int]]
    replies: dict[str, int]


def _incident_out(incident: Any) -> IncidentOut:
    return IncidentOut.model_validate(incident, from_attributes=True)


@router.get(
    "/incidents",
    response_model=list[IncidentOut],
    dependencies=[Supervisor],
    responses=NEXT_CURSOR_RESPONSE,
)
def list_incidents(
    response: Response,
    status: Literal["open", "resolved"] | None = None,
    limit: int = Query(100, ge=1, le=1000),
    cursor: CursorParam = None,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> list[IncidentOut]:
    """Newest first; the next page's cursor is in the X-Next-Cursor header."""
    rows = repo.incidents(
        session, workspace.id, status=status, limit=limit + 1, after=time_and_id(cursor)
    )
    return keyset_list(
        response, rows, limit=limit, key=lambda i: (i.opened_at, i.id), out=_incident_out
    )


@router.post("/incidents", response_model=IncidentOut, status_code=201)
def open_incident(
    body: IncidentIn,
    request: Request,
    principal: Principal = Supervisor,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> IncidentOut:
    user = _person(session, principal, workspace.id, body.user_id)
    incident = incidents.open_incident(
        session,
        workspace.id,
        title=body.title,
        criteria={"topic": body.topic, "hashtags": body.hashtags, "terms": body.terms},
        now=utcnow(),
        user_id=user.id,
        message_ids=body.message_ids,
    )
    session.commit()
    _after_commit(request, workspace.id)
    return _incident_out(incident)


@router.get("/incidents/{incident_id}", response_model=IncidentDetailOut, dependencies=[Supervisor])
def get_incident(
    incident_id: int,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> IncidentDetailOut:
    v = incidents.view(session, workspace.id, incident_id)
    base = _incident_out(v.incident).model_dump()
    return IncidentDetailOut(
        **base,
        messages=[MemberOut.model_validate(m, from_attributes=True) for m in v.members],
        timeline=[TimelineOut(at=at, kind=k, by=by, detail=d) for at, k, by, d in v.timeline],
        volume=v.volume,
        sentiment=v.sentiment,
        reach=v.reach,
        authors=v.authors,
        top_hashtags=v.top_hashtags,
        replies=v.replies,
    )


class MessageIn(BaseModel):
    message_id: int
    user_id: int | None = None


@router.post("/incidents/{incident_id}/messages", status_code=204)
def add_message(
    incident_id: int,
    body: MessageIn,
    request: Request,
    principal: Principal = Supervisor,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> None:
    user = _person(session, principal, workspace.id, body.user_id)
    incidents.add_message(
        session, workspace.id, incident_id, body.message_id, user_id=user.id, now=utcnow()
    )
    session.commit()
    _after_commit(request, workspace.id)


@router.delete("/incidents/{incident_id}/messages/{message_id}", status_code=204)
def remove_message(
    incident_id: int,
    message_id: int,
    request: Request,
    user_id: int | None = None,
    principal: Principal = Supervisor,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> None:
    user = _person(session, principal, workspace.id, user_id)
    incidents.remove_message(
        session, workspace.id, incident_id, message_id, user_id=user.id, now=utcnow()
    )
    session.commit()
    _after_commit(request, workspace.id)


class BulkReplyIn(BaseModel):
    template: str = Field(max_length=10_000, description="placeholders: {customer_name} ...")
    conversation_ids: list[int] | None = Field(
        default=None, description="a subset of the incident's conversations; all when absent"
    )
    visibility: Literal["public", "private"] = "public"
    user_id: int | None = None


class BulkReplyOut(BaseModel):
    sent: list[int]
    skipped: list[int]
    failed: list[dict[str, Any]]


@router.post("/incidents/{incident_id}/bulk-reply", response_model=BulkReplyOut)
def bulk_reply(
    incident_id: int,
    body: BulkReplyIn,
    request: Request,
    principal: Principal = Supervisor,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> BulkReplyOut:
    user = _person(session, principal, workspace.id, body.user_id)
    result = bulk.bulk_reply(
        session,
        workspace.id,
        incident_id,
        user=user,
        template=body.template,
        now=utcnow(),
        conversation_ids=body.conversation_ids,
        visibility=body.visibility,
    )
    session.commit()
    _after_commit(request, workspace.id, outbox=True)
    return BulkReplyOut(
        sent=result.sent,
        skipped=result.skipped,
        failed=[{"conversation_id": c, "reason": r} for c, r in result.failed],
    )


class PublicPostIn(BaseModel):
    text: str = Field(max_length=10_000)
    channel: Literal["x", "facebook"] = "x"
    user_id: int | None = None


class PublicPostOut(BaseModel):
    message_id: int
    conversation_id: int


@router.post("/incidents/{incident_id}/public-post", response_model=PublicPostOut, status_code=201)
def public_post(
    incident_id: int,
    body: PublicPostIn,
    request: Request,
    principal: Principal = Supervisor,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> PublicPostOut:
    user = _person(session, principal, workspace.id, body.user_id)
    message = bulk.public_post(
        session,
        workspace.id,
        incident_id,
        user=user,
        text=body.text,
        channel=body.channel,
        now=utcnow(),
    )
    session.commit()
    _after_commit(request, workspace.id, outbox=True)
    return PublicPostOut(message_id=message.id, conversation_id=message.conversation_id)


class ResolveIn(BaseModel):
    note: str = Field(default="", max_length=4000)
    close_cases: bool = True
    user_id: int | None = None


@router.post("/incidents/{incident_id}/resolve", response_model=IncidentOut)
def resolve_incident(
    incident_id: int,
    body: ResolveIn,
    request: Request,
    principal: Principal = Supervisor,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> IncidentOut:
    user = _person(session, principal, workspace.id, body.user_id)
    incident = incidents.resolve(
        session,
        workspace.id,
        incident_id,
        user=user,
        now=utcnow(),
        note=body.note,
        close_cases=body.close_cases,
    )
    session.commit()
    _after_commit(request, workspace.id)
    return _incident_out(incident)


# -- trends -----------------------------------------------------------------------------------


@router.get("/listening/trends", response_model=trends.TrendsOut, dependencies=[Supervisor])
def get_trends(
    since: datetime | None = None,
    until: datetime | None = None,
    by: Literal["rule", "topic", "channel", "hashtag"] = "topic",
    bucket_minutes: int = Query(60, ge=5, le=24 * 60),
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> trends.TrendsOut:
    end = as_utc(until) if until else utcnow()
    start = as_utc(since) if since else end - timedelta(days=1)
    return trends.build(
        session, workspace.id, start, end, by=by, bucket=timedelta(minutes=bucket_minutes)
    )
