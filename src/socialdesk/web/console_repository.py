"""All SQL behind the agent console's screens (inbox, conversation, customer 360)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from socialdesk.analytics.repository import as_hour, hour_of
from socialdesk.conversations.action_models import CaseEvent, Note, Snooze
from socialdesk.conversations.models import Conversation, Direction, Message
from socialdesk.conversations.repository import latest_inbound_message_id
from socialdesk.core.clock import as_utc
from socialdesk.core.models import Workspace
from socialdesk.core.scoping import workspace_check
from socialdesk.core.work import Task, TaskStatus
from socialdesk.customers.models import Customer, Identity
from socialdesk.listening.models import Alert
from socialdesk.people.models import Team, TeamMember, User
from socialdesk.routing.models import RoutingNotification
from socialdesk.routing.repository import ranked_task_ids
from socialdesk.routing.selection import RoutingPolicy
from socialdesk.triage.models import TriageResultRow
from socialdesk.web.inbox_filters import InboxFilters


def my_teams(session: Session, workspace_id: int, user_id: int) -> list[Team]:
    return list(
        session.scalars(
            select(Team)
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(Team.workspace_id == workspace_id, TeamMember.user_id == user_id)
        )
    )


def teams(session: Session, workspace_id: int) -> list[Team]:
    return list(
        session.scalars(select(Team).where(Team.workspace_id == workspace_id).order_by(Team.name))
    )


def _inbox_filter(
    workspace_id: int,
    *,
    now: datetime,
    assignee_id: int | None,
    team_ids: Sequence[int],
    queues: Sequence[str],
    everything: bool,
) -> list[Any] | None:
    """The conditions of a list of active work; None when the list is empty by definition."""
    snoozed = exists().where(
        Snooze.workspace_id == workspace_id,
        Snooze.conversation_id == Task.conversation_id,
        Snooze.until > now,
    )
    conditions: list[Any] = [
        Task.workspace_id == workspace_id,
        Task.status.in_(TaskStatus.ACTIVE),
        ~snoozed,
    ]
    if not everything:
        scope = []
        if assignee_id is not None:
            scope.append(Task.assignee_id == assignee_id)
        unassigned = Task.assignee_id.is_(None)
        if team_ids:
            scope.append(and_(unassigned, Task.team_id.in_(team_ids)))
        if queues:
            scope.append(and_(unassigned, Task.team_id.is_(None), Task.queue.in_(queues)))
        if not scope:
            return None
        conditions.append(or_(*scope))
    return conditions


def inbox_rows(
    session: Session,
    workspace_id: int,
    *,
    now: datetime,
    assignee_id: int | None = None,
    team_ids: Sequence[int] = (),
    queues: Sequence[str] = (),
    everything: bool = False,
    limit: int = 200,
    order: RoutingPolicy = RoutingPolicy(),
    extra: Sequence[Any] = (),
) -> list[tuple[Task, Conversation, Customer | None]]:
    """Active tasks in the work list's order (the distributor's: value, capped time
    pressure, rescue); snoozed cases stay out until their time comes. ``extra`` narrows
    the list (search and filters, see ``search_conditions``)."""
    conditions = _inbox_filter(
        workspace_id,
        now=now,
        assignee_id=assignee_id,
        team_ids=team_ids,
        queues=queues,
        everything=everything,
    )
    if conditions is None:
        return []
    conditions += extra
    # Two steps: rank the ids on the tasks table alone (its index, no joins), then load the
    # page's rows; joining every open task before sorting costs ten times more.
    ids = ranked_task_ids(session, conditions, now, order, limit)
    if not ids:
        return []
    rows = session.execute(
        select(Task, Conversation, Customer)
        .join(Conversation, Conversation.id == Task.conversation_id)
        .outerjoin(Customer, Customer.id == Conversation.customer_id)
        .where(workspace_check(Task.workspace_id, workspace_id), Task.id.in_(ids))
    ).all()
    rank = {task_id: i for i, task_id in enumerate(ids)}
    ordered = sorted(rows, key=lambda r: rank[r[0].id])
    return [(r[0], r[1], r[2]) for r in ordered]


def inbox_count(
    session: Session,
    workspace_id: int,
    *,
    now: datetime,
    assignee_id: int | None = None,
    team_ids: Sequence[int] = (),
    queues: Sequence[str] = (),
    everything: bool = False,
    extra: Sequence[Any] = (),
) -> int:
    conditions = _inbox_filter(
        workspace_id,
        now=now,
        assignee_id=assignee_id,
        team_ids=team_ids,
        queues=queues,
        everything=everything,
    )
    if conditions is None:
        return 0
    conditions += extra
    return int(session.scalar(select(func.count()).select_from(Task).where(*conditions)) or 0)


def search_conditions(
    workspace_id: int,
    filters: InboxFilters,
    *,
    viewer_id: int,
    task_ids: Sequence[int] | None = None,
) -> list[Any]:
    """SQL conditions on tasks for an inbox search and its filters. ``task_ids`` (the tasks
    in the wanted service-level state, worked out by the caller) narrows to those ids."""
    conditions: list[Any] = []
    customer_id = (
        select(Conversation.customer_id)
        .where(Conversation.id == Task.conversation_id)
        .correlate(Task)
        .scalar_subquery()
    )
    if filters.q:
        words = filters.q
        conditions.append(
            or_(
                exists().where(
                    Message.conversation_id == Task.conversation_id,
                    Message.workspace_id == workspace_id,
                    Message.text.icontains(words, autoescape=True),
                ),
                exists().where(
                    Customer.id == customer_id,
                    Customer.display_name.icontains(words, autoescape=True),
                ),
                exists().where(
                    Identity.customer_id == customer_id,
                    or_(
                        Identity.handle.icontains(words, autoescape=True),
                        Identity.display_name.icontains(words, autoescape=True),
                    ),
                ),
            )
        )
    if filters.channel:
        conditions.append(Task.channel == filters.channel)
    if filters.kind:
        conditions.append(Task.kind == filters.kind)
    if filters.topic:
        conditions.append(Task.topic == filters.topic)
    if filters.assignee == "me":
        conditions.append(Task.assignee_id == viewer_id)
    elif filters.assignee == "none":
        conditions.append(Task.assignee_id.is_(None))
    elif filters.assignee:
        conditions.append(Task.assignee_id == int(filters.assignee))
    if filters.team:
        conditions.append(Task.team_id == int(filters.team))
    if filters.sentiment:
        latest = latest_inbound_message_id()
        conditions.append(
            exists().where(
                TriageResultRow.message_id == latest,
                TriageResultRow.sentiment_label == filters.sentiment,
            )
        )
    if task_ids is not None:
        conditions.append(Task.id.in_(list(task_ids)))
    return conditions


def task_clocks(
    session: Session, workspace_id: int
) -> list[tuple[int, str, datetime, datetime | None]]:
    """Every active task's id, status, waiting-since and due time (tasks table only)."""
    rows = session.execute(
        select(Task.id, Task.status, Task.waiting_since, Task.due_at).where(
            Task.workspace_id == workspace_id, Task.status.in_(TaskStatus.ACTIVE)
        )
    ).all()
    return [(int(r[0]), str(r[1]), r[2], r[3]) for r in rows]


def latest_inbound(
    session: Session, workspace_id: int, conversation_ids: Sequence[int]
) -> dict[int, tuple[Message, Identity | None]]:
    if not conversation_ids:
        return {}
    # The inner query walks the per-conversation index; the workspace is checked on the
    # rows it yields (filtering on it inside would make SQLite scan the whole workspace).
    newest = (
        select(Message.conversation_id, func.max(Message.id).label("mid"))
        .where(
            Message.conversation_id.in_(conversation_ids),
            Message.direction == Direction.INBOUND,
        )
        .group_by(Message.conversation_id)
        .subquery()
    )
    rows = session.execute(
        select(Message, Identity)
        .join(newest, newest.c.mid == Message.id)
        .outerjoin(Identity, Identity.id == Message.author_identity_id)
        .where(Message.workspace_id == workspace_id)
    ).all()
    return {r[0].conversation_id: (r[0], r[1]) for r in rows}


def conversation(session: Session, workspace_id: int, conversation_id: int) -> Conversation | None:
    return session.scalars(
        select(Conversation).where(
            Conversation.workspace_id == workspace_id, Conversation.id == conversation_id
        )
    ).first()


def messages_of(
    session: Session, workspace_id: int, conversation_id: int
) -> list[tuple[Message, Identity | None]]:
    # The wall is checked on the case, so the messages are read by the case's own index
    # (a workspace condition on messages would let SQLite walk the workspace's time index).
    rows = session.execute(
        select(Message, Identity)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .outerjoin(Identity, Identity.id == Message.author_identity_id)
        .where(
            Conversation.workspace_id == workspace_id, Message.conversation_id == conversation_id
        )
        .order_by(Message.created_at, Message.id)
    ).all()
    return [(r[0], r[1]) for r in rows]


def task_of(session: Session, workspace_id: int, conversation_id: int) -> Task | None:
    return session.scalars(
        select(Task).where(
            Task.workspace_id == workspace_id, Task.conversation_id == conversation_id
        )
    ).first()


def customer(session: Session, workspace_id: int, customer_id: int) -> Customer | None:
    return session.scalars(
        select(Customer).where(Customer.workspace_id == workspace_id, Customer.id == customer_id)
    ).first()


def identities_of(session: Session, workspace_id: int, customer_id: int) -> list[Identity]:
    return list(
        session.scalars(
            select(Identity)
            .where(
                workspace_check(Identity.workspace_id, workspace_id),
                Identity.customer_id == customer_id,
            )
            .order_by(Identity.channel, Identity.handle)
        )
    )


def conversations_of(
    session: Session, workspace_id: int, customer_id: int, limit: int = 20
) -> list[Conversation]:
    return list(
        session.scalars(
            select(Conversation)
            .where(
                Conversation.workspace_id == workspace_id, Conversation.customer_id == customer_id
            )
            .order_by(Conversation.last_message_at.desc())
            .limit(limit)
        )
    )


def customer_timeline(
    session: Session, workspace_id: int, customer_id: int, limit: int = 100
) -> list[tuple[Message, Identity | None]]:
    """Every message of the customer's cases on every channel, ours included, newest first."""
    rows = session.execute(
        select(Message, Identity)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .outerjoin(Identity, Identity.id == Message.author_identity_id)
        .where(
            Conversation.workspace_id == workspace_id,
            Conversation.customer_id == customer_id,
            Message.workspace_id == workspace_id,
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit)
    ).all()
    return [(r[0], r[1]) for r in rows]


def customers_by_handle(
    session: Session, workspace_id: int, handles: Sequence[str], exclude_customer_id: int
) -> dict[str, Customer]:
    """The customers behind @handles (lower-case, without the @): people, never the brand's
    own accounts, never the customer themselves."""
    if not handles:
        return {}
    wanted = sorted({h.lower() for h in handles} | {"@" + h.lower() for h in handles})
    rows = session.execute(
        select(Identity.handle, Customer)
        .join(Customer, Customer.id == Identity.customer_id)
        .where(
            Identity.workspace_id == workspace_id,
            func.lower(Identity.handle).in_(wanted),
            Identity.is_brand.is_(False),
            Customer.id != exclude_customer_id,
            Customer.merged_into_id.is_(None),
        )
    ).all()
    return {str(r[0]).lower().lstrip("@"): r[1] for r in rows}


def recent_messages_by(
    session: Session, workspace_id: int, identity_ids: Sequence[int], limit: int = 30
) -> list[Message]:
    if not identity_ids:
        return []
    return list(
        session.scalars(
            select(Message)
            .where(
                workspace_check(Message.workspace_id, workspace_id),
                Message.author_identity_id.in_(identity_ids),
            )
            .order_by(Message.created_at.desc())
            .limit(limit)
        )
    )


def users(session: Session, workspace_id: int) -> dict[int, User]:
    return {u.id: u for u in session.scalars(select(User).where(User.workspace_id == workspace_id))}


def notes_and_events(
    session: Session, workspace_id: int, conversation_id: int
) -> tuple[list[Note], list[CaseEvent]]:
    notes = list(
        session.scalars(
            select(Note)
            .where(Note.workspace_id == workspace_id, Note.conversation_id == conversation_id)
            .order_by(Note.created_at, Note.id)
        )
    )
    events = list(
        session.scalars(
            select(CaseEvent)
            .where(
                CaseEvent.workspace_id == workspace_id,
                CaseEvent.conversation_id == conversation_id,
            )
            .order_by(CaseEvent.created_at, CaseEvent.id)
        )
    )
    return notes, events


def change_marker(session: Session, workspace_id: int) -> tuple[object, ...]:
    """A cheap fingerprint of what the live screens show; it changes when any of it changes."""
    task_part = session.execute(
        select(func.count(), func.max(Task.updated_at), func.max(Task.id)).where(
            Task.workspace_id == workspace_id
        )
    ).one()
    message_part = session.scalar(
        select(func.max(Message.id)).where(Message.workspace_id == workspace_id)
    )
    event_part = session.scalar(
        select(func.max(CaseEvent.id)).where(CaseEvent.workspace_id == workspace_id)
    )
    # Alerts and SLA notifications light the supervisors' bell.
    alert_part = session.scalar(
        select(func.max(Alert.id)).where(Alert.workspace_id == workspace_id)
    )
    sla_part = session.scalar(
        select(func.max(RoutingNotification.id)).where(
            RoutingNotification.workspace_id == workspace_id
        )
    )
    return (*tuple(task_part), message_part, event_part, alert_part, sla_part)


def workspace(session: Session, workspace_id: int) -> Workspace | None:
    return session.get(Workspace, workspace_id)


def triage_rows(
    session: Session,
    t: type[TriageResultRow],
    workspace_id: int,
    message_ids: Sequence[int],
) -> list[Any]:
    """Triage's results for some messages, as plain rows of the columns the console shows."""
    # Scoped through the messages' primary key, the workspace only checked: the planner then
    # walks the given ids, never a whole workspace's messages.
    query = (
        select(
            t.message_id,
            t.kind,
            t.kind_confidence,
            t.needs_response,
            t.route_to,
            t.sentiment_label,
            t.sentiment_score,
            t.topic,
            t.language,
            t.severity,
            t.signals,
            t.explanation,
        )
        .join(Message, Message.id == t.message_id)
        .where(
            Message.id.in_(list(message_ids)), workspace_check(Message.workspace_id, workspace_id)
        )
    )
    return list(session.execute(query).all())


def sentiment_by_hour(
    session: Session, workspace_id: int, since: datetime
) -> list[tuple[datetime, float, int]]:
    """Mean sentiment score and count of triaged messages per hour, grouped in SQL."""
    score = TriageResultRow.sentiment_score
    hour = hour_of(session, Message.created_at)
    rows = session.execute(
        select(hour, func.avg(score), func.count())
        .join(Message, Message.id == TriageResultRow.message_id)
        .where(
            Message.workspace_id == workspace_id,
            Message.created_at >= since,
            score.is_not(None),
        )
        .group_by(hour)
    ).all()
    return [(as_utc(as_hour(r[0])), float(r[1]), int(r[2])) for r in rows]


def recent_topics(
    session: Session, workspace_id: int, since: datetime, limit: int = 8
) -> list[tuple[str, int]]:
    topic = TriageResultRow.topic
    count = func.count().label("n")
    rows = session.execute(
        select(topic, count)
        .join(Message, Message.id == TriageResultRow.message_id)
        .where(
            Message.workspace_id == workspace_id,
            Message.created_at >= since,
            topic.is_not(None),
        )
        .group_by(topic)
        .order_by(count.desc(), topic)
        .limit(limit)
    ).all()
    return [(str(r[0]), int(r[1])) for r in rows]
