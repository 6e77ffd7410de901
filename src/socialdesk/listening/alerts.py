"""Alerts: raised once per series and window, acknowledged by a person, sent out after commit.

The supervisors' bell lists the open alerts together with routing's SLA warnings and
breaches (``routing_notifications``), newest first; acknowledging either records who did it
and when. Raising an alert queues its deliveries (e-mail to the workspace's recipients, a
Slack-compatible webhook) in the same transaction; ``listening.delivery`` sends them after
the commit and retries them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from socialdesk.core.errors import InvalidInput, NotFound
from socialdesk.core.models import Workspace
from socialdesk.listening import repository as repo
from socialdesk.listening.models import Alert, AlertDelivery, AlertKind

# Workspace settings (``workspaces.settings``) that say where alerts go.
EMAILS_SETTING = "alert_emails"
WEBHOOK_SETTING = "alert_webhook_url"
# Added to a viral complaint's business value (and so its place in every list).
VIRAL_BOOST = 50.0


@dataclass(frozen=True, slots=True)
class BellItem:
    """One line of the supervisors' bell: a listening alert or an SLA notification."""

    source: str  # "alert" or "sla"
    id: int
    kind: str
    title: str
    created_at: datetime
    link: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None


def destinations(workspace: Workspace) -> tuple[list[str], str]:
    settings = workspace.settings or {}
    emails = [str(e) for e in settings.get(EMAILS_SETTING) or [] if str(e).strip()]
    return emails, str(settings.get(WEBHOOK_SETTING) or "")


def set_destinations(workspace: Workspace, emails: list[str], webhook_url: str) -> None:
    """Validate and store where the workspace's alerts go (the caller commits)."""
    clean = []
    for email in emails:
        email = email.strip()
        if not email:
            continue
        if "@" not in email or " " in email or len(email) > 320:
            raise InvalidInput(f"{email!r} is not an e-mail address")
        clean.append(email)
    url = webhook_url.strip()
    if url and not url.lower().startswith(("https://", "http://")):
        raise InvalidInput("the alert webhook must be an http(s) URL")
    if len(url) > 500:
        raise InvalidInput("the alert webhook URL has at most 500 characters")
    settings = dict(workspace.settings or {})
    settings[EMAILS_SETTING] = list(dict.fromkeys(clean))
    settings[WEBHOOK_SETTING] = url
    workspace.settings = settings


def raise_alert(
    session: Session,
    workspace_id: int,
    *,
    kind: str,
    series: str,
    title: str,
    window_start: datetime,
    now: datetime,
    observed: float = 0.0,
    expected: float = 0.0,
    detail: Mapping[str, Any] | None = None,
    message_id: int | None = None,
) -> Alert | None:
    """Store the alert and queue its deliveries; None when this window was already alerted."""
    if kind not in AlertKind.ALL:
        raise InvalidInput(f"unknown alert kind {kind!r}")
    if repo.alert_exists(session, workspace_id, kind, series, window_start):
        return None
    alert = Alert(
        workspace_id=workspace_id,
        kind=kind,
        series=series[:200],
        title=title[:300],
        window_start=window_start,
        observed=observed,
        expected=expected,
        detail=dict(detail or {}),
        message_id=message_id,
        created_at=now,
    )
    try:
        with session.begin_nested():
            repo.add(session, alert)
    except IntegrityError:
        return None  # another process raised the same one first
    workspace = session.get(Workspace, workspace_id)
    if workspace is not None:
        emails, webhook = destinations(workspace)
        for email in emails:
            repo.add(session, _delivery(alert, "email", email, now))
        if webhook:
            repo.add(session, _delivery(alert, "webhook", webhook, now))
    return alert


def _delivery(alert: Alert, channel: str, target: str, now: datetime) -> AlertDelivery:
    return AlertDelivery(
        workspace_id=alert.workspace_id,
        alert_id=alert.id,
        channel=channel,
        target=target,
        status="pending",
        attempts=0,
        next_attempt_at=now,
    )


def boost_task(session: Session, message_id: int, boost: float = VIRAL_BOOST) -> int | None:
    """A viral complaint goes up every list: its task's value and priority rise."""
    task = repo.task_of_message(session, message_id)
    if task is None:
        return None
    breakdown = dict(task.value_breakdown or {})
    if "viral" in breakdown:
        return task.id
    breakdown["viral"] = boost
    task.value_breakdown = breakdown
    task.value_score = float(task.value_score or 0.0) + boost
    task.priority = float(task.priority or 0.0) + boost
    session.flush()
    return task.id


def acknowledge(
    session: Session, workspace_id: int, alert_id: int, user_id: int, now: datetime
) -> Alert:
    alert = repo.alert(session, workspace_id, alert_id)
    if alert is None:
        raise NotFound(f"alert {alert_id} not found")
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        alert.acknowledged_by_id = user_id
        session.flush()
    return alert


def acknowledge_sla(
    session: Session, workspace_id: int, notification_id: int, user_id: int, now: datetime
) -> None:
    note = repo.sla_notification(session, workspace_id, notification_id)
    if note is None or note.kind not in ("sla_warning", "sla_breach"):
        raise NotFound(f"SLA notification {notification_id} not found")
    if note.acknowledged_at is None:
        note.acknowledged_at = now
        note.acknowledged_by_id = user_id
        session.flush()


def acknowledge_everything(session: Session, workspace_id: int, user_id: int, now: datetime) -> int:
    count = 0
    for alert in repo.alerts(session, workspace_id, unacknowledged=True, limit=10_000):
        alert.acknowledged_at = now
        alert.acknowledged_by_id = user_id
        count += 1
    count += repo.acknowledge_all_sla(session, workspace_id, user_id, now)
    session.flush()
    return count


def unacknowledged_count(session: Session, workspace_id: int) -> int:
    return repo.count_unacknowledged_alerts(session, workspace_id) + repo.count_unacknowledged_sla(
        session, workspace_id
    )


_SLA_TITLES = {"sla_warning": "SLA at risk", "sla_breach": "SLA breached"}


def bell(
    session: Session, workspace_id: int, *, unacknowledged: bool = False, limit: int = 50
) -> list[BellItem]:
    alerts = repo.alerts(session, workspace_id, unacknowledged=unacknowledged, limit=limit)
    notes = repo.sla_notifications(
        session, workspace_id, unacknowledged=unacknowledged, limit=limit
    )
    names = repo.user_names(
        session,
        [a.acknowledged_by_id for a in alerts] + [n.acknowledged_by_id for n in notes],
    )
    items = [
        BellItem(
            source="alert",
            id=a.id,
            kind=a.kind,
            title=a.title,
            created_at=a.created_at,
            link=f"/console/incidents/{a.incident_id}" if a.incident_id else "/console/alerts",
            acknowledged_at=a.acknowledged_at,
            acknowledged_by=names.get(a.acknowledged_by_id or 0),
        )
        for a in alerts
    ]
    conversations = repo.conversations_of_tasks(session, [n.task_id for n in notes])
    for n in notes:
        conv = conversations.get(n.task_id)
        items.append(
            BellItem(
                source="sla",
                id=n.id,
                kind=n.kind,
                title=f"{_SLA_TITLES.get(n.kind, n.kind)}: case {conv or n.task_id}",
                created_at=n.created_at,
                link=f"/console/c/{conv}" if conv else "/console",
                acknowledged_at=n.acknowledged_at,
                acknowledged_by=names.get(n.acknowledged_by_id or 0),
            )
        )
    items.sort(key=lambda i: (i.created_at, i.id), reverse=True)
    return items[:limit]
