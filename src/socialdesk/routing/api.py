"""Agents, presence, the team's list, picking and transferring, supervisor notifications.

Each change commits, then tells the routing engine so distribution runs at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from socialdesk.core.clock import utcnow
from socialdesk.core.errors import InvalidInput, NotFound
from socialdesk.core.http import (
    ERROR_RESPONSES,
    Principal,
    acting_user_id,
    current_principal,
    current_workspace,
    db_session,
    request_clock,
    require_role,
)
from socialdesk.core.limits import DbId
from socialdesk.core.models import Workspace
from socialdesk.core.pagination import (
    NEXT_CURSOR_RESPONSE,
    CursorParam,
    Page,
    examples,
    keyset_list,
    list_by_id,
    page_by_id,
    time_and_id,
)
from socialdesk.people.models import Role, TeamKind, User
from socialdesk.routing import cases, service
from socialdesk.routing import repository as repo

router = APIRouter(prefix="/api/v1", tags=["routing"], responses=ERROR_RESPONSES)
Agent = Annotated[Principal, Depends(require_role(Role.AGENT))]
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]


class AgentOut(BaseModel):
    model_config = examples(
        {
            "id": 3,
            "name": "Ana Agent",
            "email": "ana@acme.example",
            "role": "agent",
            "presence": "online",
            "languages": ["en", "es"],
            "topics": ["billing"],
            "tiers": [],
            "capacity": {"x": 3, "facebook": 2, "email": 5},
            "load": {"x": 1},
            "team_ids": [1],
        }
    )

    id: int
    name: str
    email: str
    role: str
    presence: str
    languages: list[str]
    topics: list[str]
    tiers: list[str]
    capacity: dict[str, int]
    load: dict[str, int]
    team_ids: list[int]


class PresenceIn(BaseModel):
    model_config = examples({"presence": "online"}, {"presence": "away"})

    presence: str = Field(description="online, away or offline")


class SkillsIn(BaseModel):
    """What an agent can take; a field left out stays as it is."""

    model_config = examples(
        {"capacity": {"x": 3, "facebook": 2, "email": 5}},
        {"languages": ["en", "es"], "topics": ["billing", "outage"], "tiers": ["gold"]},
    )

    languages: list[str] | None = None
    topics: list[str] | None = None
    tiers: list[str] | None = None
    capacity: dict[str, int] | None = Field(
        default=None, description="Slots per channel (0 to 1000): how many items at once"
    )


class ActorIn(BaseModel):
    user_id: DbId | None = Field(
        default=None,
        description="The agent acting: the signed-in user by default; an integration "
        "(API token) must name one; only supervisors act for someone else.",
    )


class AssignIn(ActorIn):
    exceed_capacity: bool = Field(
        default=False,
        description="Take the task even though the agent's slots on its channel are full: "
        "one item over capacity, once (a 409 without it says when this applies).",
    )


class TransferIn(BaseModel):
    user_id: DbId | None = None
    team_id: DbId | None = None


class TeamCapacityIn(BaseModel):
    waiting_holds_slot: bool = Field(
        description="Answered items waiting on the customer keep holding a slot of the agent "
        "who answered them (off by default: a slot is for an item being worked)."
    )


class TeamListItemOut(BaseModel):
    task_id: int
    conversation_id: int
    channel: str
    queue: str
    team_id: int | None
    priority: float
    value_score: float
    due_at: datetime | None
    waiting_since: datetime
    sla_state: str


class NotificationOut(BaseModel):
    id: int
    task_id: int
    team_id: int | None
    user_id: int | None
    kind: str
    detail: dict[str, Any]
    created_at: datetime


_actor = acting_user_id


def _user(session: Session, workspace_id: int, user_id: int) -> User:
    user = repo.get_user(session, workspace_id, user_id)
    if user is None:
        raise NotFound(f"no user {user_id} in this workspace")
    return user


def _after(request: Request, notify: Callable[[Any], Any]) -> None:
    engine = getattr(request.app.state, "routing_engine", None)
    if engine is not None:
        notify(engine)


@router.get(
    "/agents",
    response_model=list[AgentOut],
    summary="The workspace's people: presence, skills, capacity and load",
    responses=NEXT_CURSOR_RESPONSE,
)
def list_agents(
    response: Response,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    limit: int = Query(1000, ge=1, le=1000),
    cursor: CursorParam = None,
) -> list[AgentOut]:
    loads = repo.agent_loads(session, workspace.id)

    def out(u: User) -> AgentOut:
        return AgentOut(
            id=u.id,
            name=u.name,
            email=u.email,
            role=u.role,
            presence=u.presence,
            languages=list(u.languages or []),
            topics=list(u.topics or []),
            tiers=list(u.tiers or []),
            capacity=dict(u.capacity or {}),
            load=loads.get(u.id, {}),
            team_ids=repo.team_ids_of(session, workspace.id, u.id),
        )

    users = repo.list_users(session, workspace.id)
    return list_by_id(response, users, cursor=cursor, limit=limit, id_of=lambda u: u.id, out=out)


@router.put(
    "/agents/{user_id}/presence",
    status_code=204,
    summary="Set an agent's presence (their own, or anyone's for a supervisor)",
)
def set_presence(
    user_id: int,
    body: PresenceIn,
    request: Request,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    principal: Principal = Depends(current_principal),
) -> None:
    _actor(principal, user_id)
    service.set_presence(session, workspace.id, user_id, body.presence, utcnow())
    session.commit()
    _after(request, lambda e: e.on_agents(workspace.id, [user_id]))


@router.put(
    "/agents/{user_id}/skills",
    status_code=204,
    summary="Set an agent's capacity per channel, languages, topics and tiers (supervisors)",
)
def set_skills(
    user_id: int,
    body: SkillsIn,
    request: Request,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    _: Principal = Depends(require_role(Role.SUPERVISOR)),
) -> None:
    service.set_skills(
        session,
        workspace.id,
        user_id,
        languages=body.languages,
        topics=body.topics,
        tiers=body.tiers,
        capacity=body.capacity,
    )
    session.commit()
    _after(request, lambda e: e.on_agents(workspace.id, [user_id]))


@router.put("/teams/{team_id}/capacity", status_code=204)
def set_team_capacity(
    team_id: DbId,
    body: TeamCapacityIn,
    request: Request,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    _: Principal = Depends(require_role(Role.ADMIN)),
) -> None:
    service.set_team_capacity_rule(
        session, workspace.id, team_id, waiting_holds_slot=body.waiting_holds_slot
    )
    session.commit()
    _after(request, lambda e: e.policies_changed(workspace.id))


class TeamsIn(BaseModel):
    model_config = examples({"team_ids": [1, 2]}, {"team_ids": []})

    team_ids: list[DbId] = Field(max_length=1000, description="Exactly these teams")


@router.put(
    "/agents/{user_id}/teams",
    status_code=204,
    summary="Put a person in exactly these teams (admins; audited)",
)
def set_teams(
    user_id: int,
    body: TeamsIn,
    request: Request,
    _: Admin,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> None:
    service.set_teams(session, workspace.id, user_id, body.team_ids)
    session.commit()
    _after(request, lambda e: e.on_agents(workspace.id, [user_id]))


@router.get("/agents/{user_id}/team-list", response_model=list[TeamListItemOut])
def team_list(
    user_id: int,
    limit: int = Query(50, ge=1, le=500),
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> list[TeamListItemOut]:
    items = service.team_list(session, workspace.id, user_id, utcnow(), limit)
    return [TeamListItemOut.model_validate(i, from_attributes=True) for i in items]


@router.post("/tasks/{task_id}/assign-to-me", status_code=204)
def assign_to_me(
    task_id: int,
    body: AssignIn,
    request: Request,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    principal: Principal = Depends(current_principal),
) -> None:
    actor = _actor(principal, body.user_id)
    cases.assign_task(
        session,
        workspace_id=workspace.id,
        task_id=task_id,
        actor=_user(session, workspace.id, actor),
        clock=request_clock(request),
        exceed_once=body.exceed_capacity,
    )
    session.commit()
    _after(request, lambda e: e.on_agents(workspace.id, [actor]))


@router.post("/tasks/{task_id}/release", status_code=204)
def release(
    task_id: int,
    body: ActorIn,
    request: Request,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    principal: Principal = Depends(current_principal),
) -> None:
    service.release(session, workspace.id, task_id, _actor(principal, body.user_id), utcnow())
    session.commit()
    _after(request, lambda e: e.on_tasks(workspace.id, [task_id]))


@router.post("/tasks/{task_id}/transfer", status_code=204)
def transfer(
    task_id: int,
    body: TransferIn,
    request: Request,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
    principal: Principal = Depends(current_principal),
) -> None:
    if (body.user_id is None) == (body.team_id is None):
        raise InvalidInput("give either user_id or team_id")
    by = None if principal.user_id is None else _user(session, workspace.id, principal.user_id)
    cases.transfer_task(
        session,
        workspace_id=workspace.id,
        task_id=task_id,
        actor=by,
        to_user_id=body.user_id,
        to_team_id=body.team_id,
        clock=request_clock(request),
    )
    session.commit()
    _after(request, lambda e: e.on_tasks(workspace.id, [task_id]))


@router.get(
    "/routing/notifications",
    response_model=list[NotificationOut],
    responses=NEXT_CURSOR_RESPONSE,
)
def notifications(
    response: Response,
    limit: int = Query(100, ge=1, le=1000),
    cursor: CursorParam = None,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> list[NotificationOut]:
    """Newest first; the next page's cursor is in the X-Next-Cursor header."""
    rows = repo.list_notifications(
        session, workspace.id, limit=limit + 1, after=time_and_id(cursor)
    )
    return keyset_list(
        response,
        rows,
        limit=limit,
        key=lambda n: (n.created_at, n.id),
        out=lambda n: NotificationOut.model_validate(n, from_attributes=True),
    )


@router.post("/tasks/{task_id}/wait-on-customer", status_code=204)
def wait_on_customer(
    task_id: int,
    request: Request,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> None:
    """Details were asked of the customer: the response clock stops until they answer."""
    from socialdesk.priority.service import pause_sla

    pause_sla(session, workspace.id, task_id, utcnow())
    session.commit()


@router.post("/tasks/{task_id}/resume-clock", status_code=204)
def resume_clock(
    task_id: int,
    request: Request,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> None:
    """The customer answered: the response clock runs again, its due time moved."""
    from socialdesk.priority.service import resume_sla

    resume_sla(session, workspace.id, task_id, utcnow())
    session.commit()
    _after(request, lambda e: e.on_tasks(workspace.id, [task_id]))


class TeamOut(BaseModel):
    model_config = examples({"id": 1, "name": "Care", "kind": "care", "member_ids": [3, 4]})

    id: int
    name: str
    kind: str = Field(description="care, marketing, sales or other")
    member_ids: list[int]


class TeamIn(BaseModel):
    model_config = examples({"name": "Billing care", "kind": "care"})

    name: str = Field(min_length=1, max_length=100)
    kind: str = Field(default=TeamKind.CARE, description=", ".join(TeamKind.ALL))


@router.get("/teams", response_model=Page[TeamOut], summary="The workspace's teams")
def list_teams(
    principal: Agent,
    session: Session = Depends(db_session),
    limit: int = Query(100, ge=1, le=500),
    cursor: CursorParam = None,
) -> Page[TeamOut]:
    ws = principal.workspace_id
    members = repo.member_ids_by_team(session, ws)
    return page_by_id(
        repo.list_teams(session, ws),
        cursor=cursor,
        limit=limit,
        id_of=lambda t: t.id,
        out=lambda t: TeamOut(id=t.id, name=t.name, kind=t.kind, member_ids=members.get(t.id, [])),
    )


@router.post("/teams", response_model=TeamOut, status_code=201, summary="Add a team (admins)")
def add_team(
    body: TeamIn,
    _: Admin,
    session: Session = Depends(db_session),
    workspace: Workspace = Depends(current_workspace),
) -> TeamOut:
    team = service.add_team(session, workspace.id, body.name, body.kind)
    session.commit()
    return TeamOut(id=team.id, name=team.name, kind=team.kind, member_ids=[])
