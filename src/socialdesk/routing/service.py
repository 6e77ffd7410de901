"""What agents and admins do with routing: presence, skills, teams, picking and transferring.

Services flush; the caller owns the unit of work and commits, then tells the routing engine
(``RoutingEngine.on_agents`` / ``on_tasks``) so distribution runs at once after the commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from socialdesk.core import audit
from socialdesk.core.errors import Conflict, InvalidInput, NotFound
from socialdesk.core.work import AssignmentReason, Task, TaskStatus
from socialdesk.people.models import Role, Team, TeamKind, User
from socialdesk.priority.service import load_routing_policy
from socialdesk.routing import assignment_repository as assignments
from socialdesk.routing import repository as repo
from socialdesk.routing.assignment_repository import Claim
from socialdesk.routing.selection import Presence

CHANNELS = ("x", "facebook", "instagram", "email", "webhook")


def _user(session: Session, workspace_id: int, user_id: int) -> User:
    user = repo.get_user(session, workspace_id, user_id)
    if user is None:
        raise NotFound(f"no user {user_id} in this workspace")
    return user


def _task(session: Session, workspace_id: int, task_id: int) -> Task:
    task = repo.get_task(session, workspace_id, task_id)
    if task is None:
        raise NotFound(f"no task {task_id} in this workspace")
    return task


def _team(session: Session, workspace_id: int, team_id: int) -> Team:
    team = repo.get_team(session, workspace_id, team_id)
    if team is None:
        raise NotFound(f"no team {team_id} in this workspace")
    return team


def set_presence(
    session: Session, workspace_id: int, user_id: int, presence: str, now: datetime
) -> None:
    if presence not in Presence.ALL:
        raise InvalidInput(f"presence must be one of {', '.join(Presence.ALL)}")
    if not repo.set_presence(session, workspace_id, user_id, presence, now):
        raise NotFound(f"no user {user_id} in this workspace")


def _clean_list(values: Iterable[str], what: str) -> list[str]:
    out = sorted({v.strip().lower() for v in values if v and v.strip()})
    for v in out:
        if len(v) > 64:
            raise InvalidInput(f"{what} {v[:20]!r}... is longer than 64 characters")
    return out


def _clean_capacity(capacity: Mapping[str, int]) -> dict[str, int]:
    out = {}
    for channel, slots in capacity.items():
        if channel not in CHANNELS:
            raise InvalidInput(f"unknown channel {channel!r}; use one of {', '.join(CHANNELS)}")
        if not isinstance(slots, int) or isinstance(slots, bool) or not 0 <= slots <= 1000:
            raise InvalidInput(f"capacity for {channel} must be a whole number 0..1000")
        out[channel] = slots
    return out


def set_skills(
    session: Session,
    workspace_id: int,
    user_id: int,
    *,
    languages: Iterable[str] | None = None,
    topics: Iterable[str] | None = None,
    tiers: Iterable[str] | None = None,
    capacity: Mapping[str, int] | None = None,
) -> User:
    """Change what an agent can take (``None`` leaves a field as it is)."""
    user = _user(session, workspace_id, user_id)
    if languages is not None:
        user.languages = _clean_list(languages, "language")
    if topics is not None:
        user.topics = _clean_list(topics, "topic")
    if tiers is not None:
        user.tiers = _clean_list(tiers, "tier")
    if capacity is not None:
        user.capacity = _clean_capacity(capacity)
    session.flush()
    return user


def create_team(session: Session, workspace_id: int, name: str, kind: str = TeamKind.CARE) -> Team:
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("a team needs a name of 1 to 100 characters")
    if kind not in TeamKind.ALL:
        raise InvalidInput(f"team kind must be one of {', '.join(TeamKind.ALL)}")
    existing = repo.get_team_by_name(session, workspace_id, name)
    if existing is not None:
        if existing.kind != kind:
            raise Conflict(f"team {name!r} exists with kind {existing.kind}")
        return existing
    team = Team(workspace_id=workspace_id, name=name, kind=kind)
    session.add(team)
    session.flush()
    return team


def set_team_capacity_rule(
    session: Session, workspace_id: int, team_id: int, *, waiting_holds_slot: bool
) -> Team:
    """Whether the team's agents' answered items waiting on the customer keep holding a slot
    (off by default: capacity counts the items an agent is working)."""
    team = _team(session, workspace_id, team_id)
    team.settings = {**(team.settings or {}), repo.WAITING_HOLDS_SLOT: bool(waiting_holds_slot)}
    session.flush()
    return team


def add_team(session: Session, workspace_id: int, name: str, kind: str) -> Team:
    """An admin adds a team (the console's and the API's path): its name is new here."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("a team name has 1 to 100 characters")
    if kind not in TeamKind.ALL:
        raise InvalidInput(f"a team kind is one of {', '.join(TeamKind.ALL)}")
    if repo.get_team_by_name(session, workspace_id, name) is not None:
        raise Conflict(f"a team named {name!r} exists already")
    return create_team(session, workspace_id, name, kind)


def set_teams(session: Session, workspace_id: int, user_id: int, team_ids: Sequence[int]) -> User:
    """An admin puts a person in exactly these teams of the workspace (the admin screen's and
    the API's path); a change is audited (the rows are replaced in bulk, which the audit
    log's flush watch does not see)."""
    user = _user(session, workspace_id, user_id)
    valid = {t.id for t in repo.list_teams(session, workspace_id)}
    if not set(team_ids) <= valid:
        raise NotFound("no such team in this workspace")
    before = repo.replace_memberships(session, user.id, team_ids)
    after = sorted(set(team_ids))
    if before != after:
        audit.record(
            session,
            workspace_id,
            None,
            "user.teams_changed",
            "user",
            user.id,
            before={"teams": before},
            after={"teams": after},
        )
    return user


def add_to_team(session: Session, workspace_id: int, team_id: int, user_id: int) -> None:
    _team(session, workspace_id, team_id)
    _user(session, workspace_id, user_id)
    if repo.add_member(session, team_id, user_id):
        audit.record(
            session,
            workspace_id,
            None,
            "team.member_added",
            "team",
            team_id,
            after={"user": user_id},
        )


def upsert_agent(
    session: Session,
    workspace_id: int,
    email: str,
    name: str,
    *,
    role: str = Role.AGENT,
    languages: Iterable[str] = (),
    topics: Iterable[str] = (),
    tiers: Iterable[str] = (),
    capacity: Mapping[str, int] | None = None,
    teams: Sequence[tuple[str, str]] = (("Care", TeamKind.CARE),),
) -> User:
    """Create or update an agent by e-mail, with skills, capacity and teams (name, kind)."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise InvalidInput(f"{email!r} is not an e-mail address")
    if role not in Role.ALL:
        raise InvalidInput(f"role must be one of {', '.join(Role.ALL)}")
    user = next((u for u in repo.list_users(session, workspace_id) if u.email == email), None)
    if user is None:
        # Someone who signs in already (for another workspace) gets a membership of this one.
        user = User(
            workspace_id=workspace_id,
            person_id=repo.person_id_by_email(session, email),
            email=email,
            name=name or email,
            role=role,
        )
        session.add(user)
        session.flush()
    else:
        user.name, user.role = name or user.name, role
    set_skills(
        session,
        workspace_id,
        user.id,
        languages=languages,
        topics=topics,
        tiers=tiers,
        capacity=capacity if capacity is not None else {"x": 3, "facebook": 3, "email": 5},
    )
    for team_name, kind in teams:
        add_to_team(
            session, workspace_id, create_team(session, workspace_id, team_name, kind).id, user.id
        )
    return user


def _claim(session: Session, workspace_id: int, task: Task, user: User, reason: str) -> Claim:
    customer = repo.customer_of_tasks(session, [task.id]).get(task.id)
    return Claim(
        task_id=task.id,
        user_id=user.id,
        channel=task.channel,
        capacity=int((user.capacity or {}).get(task.channel, 0)),
        customer_id=customer,
        reason=reason,
        waiting_holds_slot=bool(repo.agents_holding_waiting(session, workspace_id, [user.id])),
    )


class AtCapacity(Conflict):
    """The agent's slots on the task's channel are all taken (the caller may offer to go
    one over, once)."""

    def __init__(self, name: str, channel: str, capacity: int) -> None:
        super().__init__(
            f"{name} has no free {channel} slot ({capacity} of {capacity} in use); "
            "taking it anyway puts you one item over capacity, once"
        )
        self.channel = channel
        self.capacity = capacity


def assign_to_me(
    session: Session,
    workspace_id: int,
    task_id: int,
    user_id: int,
    now: datetime,
    *,
    exceed_once: bool = False,
) -> None:
    """An agent takes an open task from the team's list (never one someone else holds).

    When the agent's slots on the channel are full this raises ``AtCapacity``; with
    ``exceed_once`` the agent may hold one item more than capacity (not two: a second
    attempt is refused until an item is answered or handed back)."""
    task, user = _task(session, workspace_id, task_id), _user(session, workspace_id, user_id)
    allowed = set(repo.team_ids_of(session, workspace_id, user_id))
    kinds = {t.kind for t in repo.list_teams(session, workspace_id) if t.id in allowed}
    if task.team_id is not None and task.team_id not in allowed:
        raise Conflict(f"task {task_id} belongs to a team you are not in")
    if task.team_id is None and task.queue not in kinds:
        raise Conflict(f"task {task_id} is in the {task.queue} list, not your team's")
    extra = 1 if exceed_once else 0
    _assign_now(session, workspace_id, task, user, AssignmentReason.PICKED, now, extra=extra)


def _assign_now(
    session: Session,
    workspace_id: int,
    task: Task,
    user: User,
    reason: str,
    now: datetime,
    *,
    extra: int = 0,
) -> None:
    claim = _claim(session, workspace_id, task, user, reason)
    if claim.capacity <= 0:
        raise Conflict(f"{user.name} does not work the {task.channel} channel")
    capacity = claim.capacity
    if extra:
        claim = replace(claim, capacity=capacity + extra)
    session.flush()
    if not assignments.assign_batch(session, workspace_id, [claim], now):
        session.expire(task)
        if task.status != TaskStatus.OPEN:
            raise Conflict(f"task {task.id} is no longer open (now {task.status})")
        if extra:
            raise Conflict(
                f"{user.name} already holds one {task.channel} item over capacity: answer "
                "or hand back an item first"
            )
        raise AtCapacity(user.name, task.channel, capacity)
    session.expire(task)


def release(session: Session, workspace_id: int, task_id: int, user_id: int, now: datetime) -> None:
    """An agent puts a task back in the list."""
    _task(session, workspace_id, task_id)  # another workspace's task is not found here
    if not assignments.take_back(session, workspace_id, task_id, user_id, now):
        raise Conflict(f"task {task_id} is not assigned to you")
    assignments.close_assignment(session, task_id, user_id, now, "released")


def transfer_to_user(
    session: Session, workspace_id: int, task_id: int, to_user_id: int, now: datetime
) -> None:
    """Hand a task (held by someone or still open) to a person with a free slot."""
    task = _task(session, workspace_id, task_id)
    target = _user(session, workspace_id, to_user_id)
    if task.status == TaskStatus.ASSIGNED and task.assignee_id is not None:
        if task.assignee_id == to_user_id:
            return
        holder = task.assignee_id
        if not assignments.take_back(session, workspace_id, task_id, holder, now):
            raise Conflict(f"task {task_id} changed hands meanwhile; try again")
        assignments.close_assignment(session, task_id, holder, now, "transferred")
        session.expire(task)
    elif task.status != TaskStatus.OPEN:
        raise Conflict(f"task {task_id} is {task.status}; only open or assigned tasks move")
    _assign_now(session, workspace_id, task, target, AssignmentReason.TRANSFER, now)


def transfer_to_team(
    session: Session, workspace_id: int, task_id: int, team_id: int, now: datetime
) -> None:
    """Move a task to a team's list (its queue becomes the team's kind)."""
    task = _task(session, workspace_id, task_id)
    team = _team(session, workspace_id, team_id)
    values = {"team_id": team.id, "queue": team.kind}
    if task.status == TaskStatus.ASSIGNED and task.assignee_id is not None:
        holder = task.assignee_id
        if not assignments.take_back(session, workspace_id, task_id, holder, now, **values):
            raise Conflict(f"task {task_id} changed hands meanwhile; try again")
        assignments.close_assignment(session, task_id, holder, now, "transferred")
    elif not assignments.retarget_open(session, workspace_id, task_id, now, **values):
        raise Conflict(f"task {task_id} is {task.status}; only open or assigned tasks move")
    session.expire(task)


@dataclass(frozen=True, slots=True)
class TeamListItem:
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


def team_list(
    session: Session, workspace_id: int, user_id: int, now: datetime, limit: int = 50
) -> list[TeamListItem]:
    """The open tasks an agent may pick: those of the agent's teams and their queues."""
    _user(session, workspace_id, user_id)
    team_ids = repo.team_ids_of(session, workspace_id, user_id)
    kinds = sorted({t.kind for t in repo.list_teams(session, workspace_id) if t.id in team_ids})
    order = load_routing_policy(session, workspace_id)
    return [
        TeamListItem(
            t.id,
            t.conversation_id,
            t.channel,
            t.queue,
            t.team_id,
            t.priority,
            t.value_score,
            t.due_at,
            t.waiting_since,
            t.sla_state,
        )
        for t in repo.team_list(session, workspace_id, team_ids, kinds, limit, now, order)
    ]
