"""All of listening's SQL: rules, matches, alerts and their deliveries, incidents."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from socialdesk.channels.models import ChannelAccount, OutboxItem
from socialdesk.conversations.models import Conversation, Direction, Message
from socialdesk.core.models import Workspace
from socialdesk.core.pagination import after_key
from socialdesk.core.work import Task
from socialdesk.customers.models import Customer, Identity
from socialdesk.listening.models import (
    Alert,
    AlertDelivery,
    Incident,
    IncidentEvent,
    IncidentMessage,
    IncidentReply,
    IncidentStatus,
    ListeningMatch,
    ListeningRule,
)
from socialdesk.people.models import User
from socialdesk.routing.models import RoutingNotification
from socialdesk.triage.models import TriageResultRow

_Row = TypeVar("_Row")

# -- rules ------------------------------------------------------------------------------------


def rules(session: Session, workspace_id: int, *, active_only: bool = False) -> list[ListeningRule]:
    query = select(ListeningRule).where(ListeningRule.workspace_id == workspace_id)
    if active_only:
        query = query.where(ListeningRule.active.is_(True))
    return list(session.scalars(query.order_by(ListeningRule.id)))


def rule(session: Session, workspace_id: int, rule_id: int) -> ListeningRule | None:
    return session.scalar(
        select(ListeningRule).where(
            ListeningRule.workspace_id == workspace_id, ListeningRule.id == rule_id
        )
    )


def rule_by_name(session: Session, workspace_id: int, name: str) -> ListeningRule | None:
    return session.scalar(
        select(ListeningRule).where(
            ListeningRule.workspace_id == workspace_id, ListeningRule.name == name
        )
    )


def workspace(session: Session, workspace_id: int) -> Workspace | None:
    return session.get(Workspace, workspace_id)


def accounts_of(
    session: Session, workspace_id: int, channels: Sequence[str]
) -> list[ChannelAccount]:
    return list(
        session.scalars(
            select(ChannelAccount).where(
                ChannelAccount.workspace_id == workspace_id,
                ChannelAccount.channel.in_(list(channels)),
            )
        )
    )


def our_handles(session: Session, workspace_id: int) -> list[str]:
    return [
        h
        for h in session.scalars(
            select(ChannelAccount.handle).where(ChannelAccount.workspace_id == workspace_id)
        )
        if h
    ]


def languages_of(session: Session, message_ids: Sequence[int]) -> dict[int, str]:
    if not message_ids:
        return {}
    rows = session.execute(
        select(TriageResultRow.message_id, TriageResultRow.language).where(
            TriageResultRow.message_id.in_(message_ids)
        )
    )
    return {m: lang for m, lang in rows}


def add_matches(session: Session, rows: Sequence[ListeningMatch]) -> None:
    session.add_all(rows)
    session.flush()


# -- messages as listening sees them ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HeardMessage:
    message_id: int
    conversation_id: int
    channel: str
    text: str
    created_at: datetime
    author_id: int | None
    author_handle: str
    author_name: str
    followers: int
    topic: str | None
    sentiment: str | None
    sentiment_score: float | None
    metrics: dict[str, Any]
    rule_ids: list[int]
    author_verified: bool = False


def _heard_query() -> Any:
    return (
        select(
            Message.id,
            Message.conversation_id,
            Message.channel,
            Message.text,
            Message.created_at,
            Message.author_identity_id,
            Identity.handle,
            Identity.display_name,
            Identity.followers,
            TriageResultRow.topic,
            TriageResultRow.sentiment_label,
            TriageResultRow.sentiment_score,
            Message.metrics,
            ListeningMatch.rule_ids,
            Identity.verified,
        )
        .outerjoin(Identity, Identity.id == Message.author_identity_id)
        .outerjoin(TriageResultRow, TriageResultRow.message_id == Message.id)
        .outerjoin(ListeningMatch, ListeningMatch.message_id == Message.id)
    )


def _heard(rows: Iterable[Any]) -> list[HeardMessage]:
    return [
        HeardMessage(
            message_id=r[0],
            conversation_id=r[1],
            channel=r[2],
            text=r[3],
            created_at=r[4],
            author_id=r[5],
            author_handle=r[6] or "",
            author_name=r[7] or "",
            followers=r[8] or 0,
            topic=r[9],
            sentiment=r[10],
            sentiment_score=r[11],
            metrics=dict(r[12] or {}),
            rule_ids=[int(x) for x in (r[13] or [])],
            author_verified=bool(r[14]),
        )
        for r in rows
    ]


def inbound_between(
    session: Session, workspace_id: int, since: datetime, until: datetime, limit: int = 200_000
) -> list[HeardMessage]:
    """Inbound messages received in [since, until), oldest first."""
    query = (
        _heard_query()
        .where(
            Message.workspace_id == workspace_id,
            Message.direction == Direction.INBOUND,
            Message.created_at >= since,
            Message.created_at < until,
        )
        .order_by(Message.created_at, Message.id)
        .limit(limit)
    )
    return _heard(session.execute(query))


def inbound_ids_after(
    session: Session, workspace_id: int, after_id: int, since: datetime | None = None
) -> list[int]:
    """Ids of the inbound messages above ``after_id`` (created since ``since``), ascending."""
    query = select(Message.id).where(
        Message.workspace_id == workspace_id,
        Message.direction == Direction.INBOUND,
        Message.id > after_id,
    )
    if since is not None:
        query = query.where(Message.created_at >= since)
    return list(session.scalars(query.order_by(Message.id)))


def last_inbound_id(session: Session, workspace_id: int) -> int:
    """The highest id of the workspace's inbound messages (0 for none)."""
    found = session.scalar(
        select(func.max(Message.id)).where(
            Message.workspace_id == workspace_id, Message.direction == Direction.INBOUND
        )
    )
    return int(found or 0)


def workspace_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Workspace.id).order_by(Workspace.id)))


def heard_messages(session: Session, workspace_id: int, ids: Sequence[int]) -> list[HeardMessage]:
    if not ids:
        return []
    query = (
        _heard_query()
        .where(Message.workspace_id == workspace_id, Message.id.in_(list(ids)))
        .order_by(Message.created_at, Message.id)
    )
    return _heard(session.execute(query))


def message_in_workspace(session: Session, workspace_id: int, message_id: int) -> Message | None:
    return session.scalar(
        select(Message).where(Message.workspace_id == workspace_id, Message.id == message_id)
    )


# -- alerts -----------------------------------------------------------------------------------


def alert_exists(
    session: Session, workspace_id: int, kind: str, series: str, window_start: datetime
) -> bool:
    return (
        session.scalar(
            select(Alert.id).where(
                Alert.workspace_id == workspace_id,
                Alert.kind == kind,
                Alert.series == series,
                Alert.window_start == window_start,
            )
        )
        is not None
    )


def latest_alert_of(session: Session, workspace_id: int, kind: str, series: str) -> Alert | None:
    return session.scalar(
        select(Alert)
        .where(Alert.workspace_id == workspace_id, Alert.kind == kind, Alert.series == series)
        .order_by(Alert.window_start.desc())
        .limit(1)
    )


def add(session: Session, row: _Row) -> _Row:
    session.add(row)
    session.flush()
    return row


def alert(session: Session, workspace_id: int, alert_id: int) -> Alert | None:
    return session.scalar(
        select(Alert).where(Alert.workspace_id == workspace_id, Alert.id == alert_id)
    )


def alerts(
    session: Session,
    workspace_id: int,
    *,
    unacknowledged: bool = False,
    limit: int = 100,
    after: Sequence[Any] | None = None,
) -> list[Alert]:
    """Newest first; ``after`` is the (created_at, id) of the alert a page follows."""
    query = select(Alert).where(Alert.workspace_id == workspace_id)
    if unacknowledged:
        query = query.where(Alert.acknowledged_at.is_(None))
    order = (Alert.created_at, Alert.id)
    if after is not None:
        query = query.where(after_key(order, after, descending=True))
    return list(session.scalars(query.order_by(*(c.desc() for c in order)).limit(limit)))


def count_unacknowledged_alerts(session: Session, workspace_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Alert)
            .where(Alert.workspace_id == workspace_id, Alert.acknowledged_at.is_(None))
        )
        or 0
    )


def sla_notifications(
    session: Session, workspace_id: int, *, unacknowledged: bool = False, limit: int = 100
) -> list[RoutingNotification]:
    query = select(RoutingNotification).where(
        RoutingNotification.workspace_id == workspace_id,
        RoutingNotification.kind.in_(("sla_warning", "sla_breach")),
    )
    if unacknowledged:
        query = query.where(RoutingNotification.acknowledged_at.is_(None))
    return list(
        session.scalars(
            query.order_by(
                RoutingNotification.created_at.desc(), RoutingNotification.id.desc()
            ).limit(limit)
        )
    )


def count_unacknowledged_sla(session: Session, workspace_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(RoutingNotification)
            .where(
                RoutingNotification.workspace_id == workspace_id,
                RoutingNotification.kind.in_(("sla_warning", "sla_breach")),
                RoutingNotification.acknowledged_at.is_(None),
            )
        )
        or 0
    )


def sla_notification(
    session: Session, workspace_id: int, notification_id: int
) -> RoutingNotification | None:
    return session.scalar(
        select(RoutingNotification).where(
            RoutingNotification.workspace_id == workspace_id,
            RoutingNotification.id == notification_id,
        )
    )


def acknowledge_all_sla(session: Session, workspace_id: int, user_id: int, now: datetime) -> int:
    result = session.execute(
        update(RoutingNotification)
        .where(
            RoutingNotification.workspace_id == workspace_id,
            RoutingNotification.kind.in_(("sla_warning", "sla_breach")),
            RoutingNotification.acknowledged_at.is_(None),
        )
        .values(acknowledged_at=now, acknowledged_by_id=user_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {i: n for i, n in session.execute(select(User.id, User.name).where(User.id.in_(wanted)))}


def users_with_email(session: Session, workspace_id: int, role: str) -> list[str]:
    return list(
        session.scalars(
            select(User.email).where(
                User.workspace_id == workspace_id, User.role == role, User.is_active.is_(True)
            )
        )
    )


# -- deliveries -------------------------------------------------------------------------------


def due_deliveries(session: Session, now: datetime, limit: int) -> list[AlertDelivery]:
    return list(
        session.scalars(
            select(AlertDelivery)
            .where(AlertDelivery.status == "pending", AlertDelivery.next_attempt_at <= now)
            .order_by(AlertDelivery.next_attempt_at, AlertDelivery.id)
            .limit(limit)
        )
    )


def delivery(session: Session, delivery_id: int) -> AlertDelivery | None:
    return session.get(AlertDelivery, delivery_id)


def deliveries_of(session: Session, alert_id: int) -> list[AlertDelivery]:
    return list(
        session.scalars(
            select(AlertDelivery)
            .where(AlertDelivery.alert_id == alert_id)
            .order_by(AlertDelivery.id)
        )
    )


def claim_delivery(session: Session, delivery_id: int, attempts: int, lease: datetime) -> bool:
    """Compare-and-set on the attempt count: one process delivers each attempt."""
    result = session.execute(
        update(AlertDelivery)
        .where(
            AlertDelivery.id == delivery_id,
            AlertDelivery.status == "pending",
            AlertDelivery.attempts == attempts,
        )
        .values(attempts=attempts + 1, next_attempt_at=lease)
    )
    return bool(getattr(result, "rowcount", 0))


def email_account(session: Session, workspace_id: int) -> ChannelAccount | None:
    return session.scalar(
        select(ChannelAccount)
        .where(
            ChannelAccount.workspace_id == workspace_id,
            ChannelAccount.channel == "email",
            ChannelAccount.active.is_(True),
        )
        .order_by(ChannelAccount.id)
        .limit(1)
    )


# -- incidents --------------------------------------------------------------------------------


def incident(session: Session, workspace_id: int, incident_id: int) -> Incident | None:
    return session.scalar(
        select(Incident).where(Incident.workspace_id == workspace_id, Incident.id == incident_id)
    )


def lock_incident(session: Session, workspace_id: int, incident_id: int) -> Incident | None:
    """The incident, locked for this transaction: a write first, so that on SQLite the
    transaction holds the write lock from its start (a read-then-write transaction fails at
    once when another connection committed in between) and on PostgreSQL two supervisors
    acting on one incident take turns."""
    session.execute(
        update(Incident)
        .where(Incident.workspace_id == workspace_id, Incident.id == incident_id)
        .values(status=Incident.status)
        .execution_options(synchronize_session=False)
    )
    return incident(session, workspace_id, incident_id)


def incidents(
    session: Session,
    workspace_id: int,
    *,
    status: str | None = None,
    limit: int = 100,
    after: Sequence[Any] | None = None,
) -> list[Incident]:
    """Newest first; ``after`` is the (opened_at, id) of the incident a page follows."""
    query = select(Incident).where(Incident.workspace_id == workspace_id)
    if status:
        query = query.where(Incident.status == status)
    order = (Incident.opened_at, Incident.id)
    if after is not None:
        query = query.where(after_key(order, after, descending=True))
    return list(session.scalars(query.order_by(*(c.desc() for c in order)).limit(limit)))


def open_incidents(session: Session, workspace_id: int) -> list[Incident]:
    return incidents(session, workspace_id, status=IncidentStatus.OPEN, limit=1000)


def incident_members(
    session: Session, incident_id: int, *, include_removed: bool = False
) -> list[IncidentMessage]:
    query = select(IncidentMessage).where(IncidentMessage.incident_id == incident_id)
    if not include_removed:
        query = query.where(IncidentMessage.removed.is_(False))
    return list(
        session.scalars(query.order_by(IncidentMessage.added_at, IncidentMessage.message_id))
    )


def incident_member(session: Session, incident_id: int, message_id: int) -> IncidentMessage | None:
    return session.get(IncidentMessage, (incident_id, message_id))


def known_member_ids(session: Session, incident_id: int) -> set[int]:
    """Every message already decided on (grouped or removed by a person)."""
    return set(
        session.scalars(
            select(IncidentMessage.message_id).where(IncidentMessage.incident_id == incident_id)
        )
    )


def incident_events(session: Session, incident_id: int) -> list[IncidentEvent]:
    return list(
        session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(IncidentEvent.created_at, IncidentEvent.id)
        )
    )


def replied_conversations(session: Session, incident_id: int) -> set[int]:
    return set(
        session.scalars(
            select(IncidentReply.conversation_id).where(
                IncidentReply.incident_id == incident_id, IncidentReply.kind == "reply"
            )
        )
    )


def incident_replies(session: Session, incident_id: int) -> list[IncidentReply]:
    return list(
        session.scalars(
            select(IncidentReply)
            .where(IncidentReply.incident_id == incident_id)
            .order_by(IncidentReply.id)
        )
    )


def outbox_states(
    session: Session, message_ids: Sequence[int]
) -> dict[int, tuple[str, str | None]]:
    """Delivery state (status, error reason) per outbound message."""
    if not message_ids:
        return {}
    rows = session.execute(
        select(OutboxItem.message_id, OutboxItem.status, OutboxItem.error_reason).where(
            OutboxItem.message_id.in_(list(message_ids))
        )
    )
    return {m: (status, reason) for m, status, reason in rows}


def outbox_item_of_message(session: Session, message_id: int) -> OutboxItem | None:
    return session.scalar(select(OutboxItem).where(OutboxItem.message_id == message_id))


def conversations(
    session: Session, workspace_id: int, ids: Iterable[int]
) -> dict[int, Conversation]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = session.scalars(
        select(Conversation).where(
            Conversation.workspace_id == workspace_id, Conversation.id.in_(wanted)
        )
    )
    return {c.id: c for c in rows}


def customers(session: Session, ids: Iterable[int | None]) -> dict[int, Customer]:
    wanted = [i for i in set(ids) if i is not None]
    if not wanted:
        return {}
    return {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(wanted)))}


def identities_of_conversations(
    session: Session, conversation_ids: Sequence[int]
) -> dict[int, Identity]:
    """The customer's identity of each conversation's latest inbound message."""
    if not conversation_ids:
        return {}
    latest = (
        select(Message.conversation_id, func.max(Message.id).label("mid"))
        .where(
            Message.conversation_id.in_(list(conversation_ids)),
            Message.direction == Direction.INBOUND,
        )
        .group_by(Message.conversation_id)
        .subquery()
    )
    rows = session.execute(
        select(latest.c.conversation_id, Identity)
        .join(Message, Message.id == latest.c.mid)
        .join(Identity, Identity.id == Message.author_identity_id)
    )
    return {conv: ident for conv, ident in rows}


def tasks_of_conversations(session: Session, conversation_ids: Sequence[int]) -> dict[int, Task]:
    if not conversation_ids:
        return {}
    rows = session.scalars(select(Task).where(Task.conversation_id.in_(list(conversation_ids))))
    return {t.conversation_id: t for t in rows}


def conversations_of_tasks(session: Session, task_ids: Sequence[int]) -> dict[int, int]:
    if not task_ids:
        return {}
    rows = session.execute(select(Task.id, Task.conversation_id).where(Task.id.in_(set(task_ids))))
    return {t: c for t, c in rows}


def task_of_message(session: Session, message_id: int) -> Task | None:
    return session.scalar(
        select(Task)
        .join(Message, Message.conversation_id == Task.conversation_id)
        .where(Message.id == message_id)
    )


def alerts_of_incident(session: Session, incident_id: int) -> list[Alert]:
    return list(
        session.scalars(select(Alert).where(Alert.incident_id == incident_id).order_by(Alert.id))
    )


def open_incident_for_series(session: Session, workspace_id: int, series: str) -> Incident | None:
    """The open incident an earlier alert on the same series opened, if any."""
    return session.scalar(
        select(Incident)
        .join(Alert, Alert.incident_id == Incident.id)
        .where(
            Incident.workspace_id == workspace_id,
            Incident.status == IncidentStatus.OPEN,
            Alert.series == series,
        )
        .order_by(Incident.id.desc())
        .limit(1)
    )


def candidate_messages(
    session: Session,
    workspace_id: int,
    since: datetime,
    until: datetime,
    *,
    topic: str | None,
    like_terms: Sequence[str],
    limit: int = 5000,
) -> list[HeardMessage]:
    """Inbound messages of the window that could belong to an incident: by topic, or by a
    term or hashtag in the text (the pure grouping then decides)."""
    conditions = []
    if topic:
        conditions.append(TriageResultRow.topic == topic)
    for term in like_terms:
        conditions.append(func.lower(Message.text).contains(term.lower(), autoescape=True))
    if not conditions:
        return []
    query = (
        _heard_query()
        .where(
            and_(
                Message.workspace_id == workspace_id,
                Message.direction == Direction.INBOUND,
                Message.created_at >= since,
                Message.created_at <= until,
                or_(*conditions),
            )
        )
        .order_by(Message.created_at, Message.id)
        .limit(limit)
    )
    return _heard(session.execute(query))
