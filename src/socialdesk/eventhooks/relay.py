"""The relay: turns what was committed (new messages, tasks, assignments, replies ...) into
deliveries for the subscriptions that want it.

It reads the tables themselves, past a cursor per workspace and source, so an event is only
ever seen after its transaction committed, in any process, and no domain has to remember to
announce anything. Identifiers on PostgreSQL can commit out of order, and timestamps can be
written late, so each read goes back over a margin (``ID_OVERLAP`` ids, ``TIME_OVERLAP`` of
time) and the (subscription, event) key keeps a re-read event from being offered twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from socialdesk.conversations.action_models import CaseEvent
from socialdesk.conversations.models import Message
from socialdesk.core.work import Task, TaskAssignment
from socialdesk.eventhooks import repository as repo
from socialdesk.eventhooks.models import DeliveryStatus, WebhookSubscription
from socialdesk.listening.models import Alert, Incident
from socialdesk.routing.models import NotificationKind, RoutingNotification

EVENT_TYPES = (
    "message.received",
    "task.created",
    "task.assigned",
    "task.sla_warning",
    "task.sla_breached",
    "reply.sent",
    "reply.failed",
    "conversation.resolved",
    "customer.merged",
    "alert.raised",
    "incident.opened",
    "incident.resolved",
)
ID_OVERLAP = 200
TIME_OVERLAP = timedelta(minutes=5)
BATCH = 500


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    key: str  # unique per event: "<type>:<row id>"
    at: datetime
    conversation_id: int | None
    data: dict[str, Any]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- each source: (rows past the cursor) -> events ------------------------------------------


def _messages(session: Session, ws: int, after: int) -> tuple[list[Event], int]:
    rows = repo.messages_after(session, ws, after, BATCH)
    events = [
        Event(
            "message.received",
            f"message.received:{m.id}",
            m.created_at,
            m.conversation_id,
            {
                "message_id": m.id,
                "conversation_id": m.conversation_id,
                "channel": m.channel,
                "visibility": m.visibility,
                "external_id": m.external_id,
                "text": m.text,
                "author": {"handle": handle, "name": name, "customer_id": customer_id},
                "created_at": _iso(m.created_at),
            },
        )
        for m, handle, name, customer_id in rows
    ]
    return events, max((m.id for m, *_ in rows), default=after)


def _tasks(session: Session, ws: int, after: int) -> tuple[list[Event], int]:
    rows: list[Task] = repo.rows_after(session, Task, ws, after, BATCH)
    events = [
        Event(
            "task.created",
            f"task.created:{t.id}",
            t.created_at,
            t.conversation_id,
            {
                "task_id": t.id,
                "conversation_id": t.conversation_id,
                "channel": t.channel,
                "queue": t.queue,
                "kind": t.kind,
                "priority": t.priority,
                "due_at": _iso(t.due_at),
            },
        )
        for t in rows
    ]
    return events, max((t.id for t in rows), default=after)


def _assignments(session: Session, ws: int, after: int) -> tuple[list[Event], int]:
    rows: list[TaskAssignment] = repo.rows_after(session, TaskAssignment, ws, after, BATCH)
    cases = repo.conversation_of_tasks(session, [a.task_id for a in rows])
    events = [
        Event(
            "task.assigned",
            f"task.assigned:{a.id}",
            a.assigned_at,
            cases.get(a.task_id),
            {
                "task_id": a.task_id,
                "conversation_id": cases.get(a.task_id),
                "user_id": a.user_id,
                "reason": a.reason,
                "channel": a.channel,
                "assigned_at": _iso(a.assigned_at),
            },
        )
        for a in rows
    ]
    return events, max((a.id for a in rows), default=after)


_SLA_EVENTS = {
    NotificationKind.SLA_WARNING: "task.sla_warning",
    NotificationKind.SLA_BREACH: "task.sla_breached",
}


def _sla(session: Session, ws: int, after: int) -> tuple[list[Event], int]:
    rows: list[RoutingNotification] = repo.rows_after(
        session, RoutingNotification, ws, after, BATCH
    )
    cases = repo.conversation_of_tasks(session, [n.task_id for n in rows])
    events = [
        Event(
            _SLA_EVENTS[n.kind],
            f"{_SLA_EVENTS[n.kind]}:{n.id}",
            n.created_at,
            cases.get(n.task_id),
            {
                "task_id": n.task_id,
                "conversation_id": cases.get(n.task_id),
                "detail": n.detail,
                "at": _iso(n.created_at),
            },
        )
        for n in rows
        if n.kind in _SLA_EVENTS
    ]
    return events, max((n.id for n in rows), default=after)


def _resolutions(session: Session, ws: int, after: int) -> tuple[list[Event], int]:
    rows: list[CaseEvent] = repo.rows_after(session, CaseEvent, ws, after, BATCH)
    events = [
        Event(
            "conversation.resolved",
            f"conversation.resolved:{e.id}",
            e.created_at,
            e.conversation_id,
            {
                "conversation_id": e.conversation_id,
                "by_user_id": e.actor_user_id,
                "at": _iso(e.created_at),
            },
        )
        for e in rows
        if e.kind == "resolved"
    ]
    return events, max((e.id for e in rows), default=after)


def _alerts(session: Session, ws: int, after: int) -> tuple[list[Event], int]:
    rows: list[Alert] = repo.rows_after(session, Alert, ws, after, BATCH)
    events = [
        Event(
            "alert.raised",
            f"alert.raised:{a.id}",
            a.created_at,
            None,
            {
                "alert_id": a.id,
                "kind": a.kind,
                "series": a.series,
                "title": a.title,
                "observed": a.observed,
                "expected": a.expected,
                "incident_id": a.incident_id,
                "at": _iso(a.created_at),
            },
        )
        for a in rows
    ]
    return events, max((a.id for a in rows), default=after)


def _incidents(session: Session, ws: int, after: int) -> tuple[list[Event], int]:
    rows: list[Incident] = repo.rows_after(session, Incident, ws, after, BATCH)
    events = [
        Event(
            "incident.opened",
            f"incident.opened:{i.id}",
            i.opened_at,
            None,
            {"incident_id": i.id, "title": i.title, "opened_at": _iso(i.opened_at)},
        )
        for i in rows
    ]
    return events, max((i.id for i in rows), default=after)


def _replies(session: Session, ws: int, since: datetime) -> tuple[list[Event], datetime]:
    rows = repo.outbox_settled_since(session, ws, since, BATCH)
    events = []
    for item in rows:
        kind = "reply.sent" if item.status == "sent" else "reply.failed"
        events.append(
            Event(
                kind,
                f"{kind}:{item.id}",
                item.updated_at,
                item.conversation_id,
                {
                    "conversation_id": item.conversation_id,
                    "message_id": item.message_id,
                    "channel": item.channel,
                    "action": item.action,
                    "external_id": item.external_id,
                    "error_code": item.error_code,
                    "error_reason": item.error_reason,
                    "at": _iso(item.sent_at or item.updated_at),
                },
            )
        )
    return events, max((i.updated_at for i in rows), default=since)


def _merges(session: Session, ws: int, since: datetime) -> tuple[list[Event], datetime]:
    rows = repo.merged_customers_since(session, ws, since, BATCH)
    events = [
        Event(
            "customer.merged",
            f"customer.merged:{c.id}:{c.merged_into_id}",
            c.updated_at,
            None,
            {"customer_id": c.id, "merged_into_id": c.merged_into_id, "at": _iso(c.updated_at)},
        )
        for c in rows
    ]
    return events, max((c.updated_at for c in rows), default=since)


def _incident_resolutions(
    session: Session, ws: int, since: datetime
) -> tuple[list[Event], datetime]:
    rows = repo.incidents_resolved_since(session, ws, since, BATCH)
    events = [
        Event(
            "incident.resolved",
            f"incident.resolved:{i.id}",
            i.resolved_at or since,
            None,
            {
                "incident_id": i.id,
                "title": i.title,
                "resolution": i.resolution,
                "resolved_at": _iso(i.resolved_at),
            },
        )
        for i in rows
    ]
    return events, max((i.resolved_at or since for i in rows), default=since)


IdSource = Callable[[Session, int, int], tuple[list[Event], int]]
TimeSource = Callable[[Session, int, datetime], tuple[list[Event], datetime]]

# source name -> (the events it gives, how it is read, the model its ids come from)
ID_SOURCES: dict[str, tuple[tuple[str, ...], IdSource, Any]] = {
    "messages": (("message.received",), _messages, Message),
    "tasks": (("task.created",), _tasks, Task),
    "assignments": (("task.assigned",), _assignments, TaskAssignment),
    "sla": (("task.sla_warning", "task.sla_breached"), _sla, RoutingNotification),
    "resolutions": (("conversation.resolved",), _resolutions, CaseEvent),
    "alerts": (("alert.raised",), _alerts, Alert),
    "incidents": (("incident.opened",), _incidents, Incident),
}
TIME_SOURCES: dict[str, tuple[tuple[str, ...], TimeSource]] = {
    "replies": (("reply.sent", "reply.failed"), _replies),
    "merges": (("customer.merged",), _merges),
    "incident_resolutions": (("incident.resolved",), _incident_resolutions),
}


def _offer(
    session: Session, subs: Sequence[WebhookSubscription], events: Iterable[Event], now: datetime
) -> int:
    events = list(events)
    wanted = [(s, e) for e in events for s in subs if e.type in s.events and e.at >= s.created_at]
    if not wanted:
        return 0
    taken = repo.existing_keys(session, [s.id for s in subs], [e.key for e in events])
    rows = [
        {
            "workspace_id": s.workspace_id,
            "subscription_id": s.id,
            "event_type": e.type,
            "event_key": e.key,
            "conversation_id": e.conversation_id,
            "payload": {"id": e.key, "type": e.type, "created_at": _iso(e.at), "data": e.data},
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for s, e in wanted
        if (s.id, e.key) not in taken
    ]
    return repo.add_deliveries(session, rows)


def relay_workspace(
    session: Session, workspace_id: int, subs: Sequence[WebhookSubscription], now: datetime
) -> int:
    """Offer what was committed since the last read to the workspace's subscriptions."""
    wanted = {event for s in subs for event in s.events}
    offered = 0
    for source, (types, read, model) in ID_SOURCES.items():
        if not wanted.intersection(types):
            continue
        found = repo.cursor(session, workspace_id, source)
        if found is None:  # a new subscription hears what happens from now on
            repo.save_cursor(
                session, workspace_id, source, repo.max_id(session, model, workspace_id), now
            )
            continue
        events, last = read(session, workspace_id, max(found.first_id, found.last_id - ID_OVERLAP))
        offered += _offer(session, subs, events, now)
        repo.save_cursor(session, workspace_id, source, max(last, found.last_id), now)
    for source, (types, read_since) in TIME_SOURCES.items():
        if not wanted.intersection(types):
            continue
        found = repo.cursor(session, workspace_id, source)
        if found is None or found.last_time is None:
            repo.save_cursor(session, workspace_id, source, 0, now)
            continue
        events, last_time = read_since(session, workspace_id, found.last_time - TIME_OVERLAP)
        offered += _offer(session, subs, events, now)
        repo.save_cursor(session, workspace_id, source, 0, max(last_time, found.last_time))
    session.flush()
    return offered


def relay(session: Session, now: datetime) -> int:
    """One pass over every workspace that has active subscriptions."""
    by_workspace: dict[int, list[WebhookSubscription]] = defaultdict(list)
    for sub in repo.active_subscriptions(session):
        by_workspace[sub.workspace_id].append(sub)
    return sum(relay_workspace(session, ws, subs, now) for ws, subs in by_workspace.items())
