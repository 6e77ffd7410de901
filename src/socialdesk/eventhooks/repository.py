"""All SQL of the outgoing webhooks: subscriptions, deliveries, and the event sources read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from socialdesk.channels.models import OutboxItem, OutboxStatus
from socialdesk.conversations.models import Direction, Message
from socialdesk.core.work import Task
from socialdesk.customers.models import Customer, Identity
from socialdesk.eventhooks.models import (
    DeliveryStatus,
    RelayCursor,
    WebhookDelivery,
    WebhookSubscription,
)
from socialdesk.listening.models import Incident

LEASE = timedelta(minutes=2)

# --- subscriptions -------------------------------------------------------------------------


def subscriptions(session: Session, workspace_id: int) -> Sequence[WebhookSubscription]:
    return session.scalars(
        select(WebhookSubscription)
        .where(WebhookSubscription.workspace_id == workspace_id)
        .order_by(WebhookSubscription.id)
    ).all()


def subscription(
    session: Session, workspace_id: int, subscription_id: int
) -> WebhookSubscription | None:
    found = session.get(WebhookSubscription, subscription_id)
    return found if found is not None and found.workspace_id == workspace_id else None


def active_subscriptions(session: Session) -> Sequence[WebhookSubscription]:
    return session.scalars(
        select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
    ).all()


# --- deliveries ----------------------------------------------------------------------------


def existing_keys(
    session: Session, subscription_ids: Sequence[int], keys: Sequence[str]
) -> set[tuple[int, str]]:
    if not subscription_ids or not keys:
        return set()
    rows = session.execute(
        select(WebhookDelivery.subscription_id, WebhookDelivery.event_key).where(
            WebhookDelivery.subscription_id.in_(subscription_ids),
            WebhookDelivery.event_key.in_(keys),
        )
    )
    return {(int(s), str(k)) for s, k in rows}


def add_deliveries(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert, skipping any (subscription, event) already offered by another process."""
    if not rows:
        return 0
    dialect = session.connection().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(WebhookDelivery)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=["subscription_id", "event_key"])
    )
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


def due_deliveries(session: Session, now: datetime, limit: int) -> Sequence[WebhookDelivery]:
    return session.scalars(
        select(WebhookDelivery)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
            WebhookSubscription.active.is_(True),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    ).all()


def claim_attempt(session: Session, delivery_id: int, attempts: int, now: datetime) -> bool:
    """Compare-and-set on the attempt count: two processes never send the same attempt."""
    result = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.attempts == attempts,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        # Leased while in flight: no other round picks it up until its outcome is recorded
        # (or the lease runs out, when a sender died mid-attempt).
        .values(attempts=attempts + 1, last_attempt_at=now, next_attempt_at=now + LEASE)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def unclaim_attempt(session: Session, delivery_id: int, attempts: int) -> None:
    """Give back an attempt that was claimed but never made."""
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.attempts == attempts)
        .values(attempts=attempts - 1)
    )


def deliveries_of(
    session: Session, workspace_id: int, subscription_id: int, before_id: int | None, limit: int
) -> Sequence[WebhookDelivery]:
    query = select(WebhookDelivery).where(
        WebhookDelivery.workspace_id == workspace_id,
        WebhookDelivery.subscription_id == subscription_id,
    )
    if before_id is not None:
        query = query.where(WebhookDelivery.id < before_id)
    return session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)).all()


def delivery(session: Session, workspace_id: int, delivery_id: int) -> WebhookDelivery | None:
    found = session.get(WebhookDelivery, delivery_id)
    return found if found is not None and found.workspace_id == workspace_id else None


def fail_pending_of(session: Session, subscription_id: int, reason: str) -> None:
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.FAILED, error=reason[:500])
    )


def erase_payloads_of_cases(session: Session, conversation_ids: Sequence[int]) -> None:
    if conversation_ids:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.conversation_id.in_(conversation_ids))
            .values(payload={"erased": True})
        )


# --- cursors -------------------------------------------------------------------------------


def cursor(session: Session, workspace_id: int, source: str) -> RelayCursor | None:
    return session.get(RelayCursor, (workspace_id, source))


def save_cursor(
    session: Session, workspace_id: int, source: str, last_id: int, last_time: datetime | None
) -> None:
    found = cursor(session, workspace_id, source)
    if found is None:
        session.add(
            RelayCursor(
                workspace_id=workspace_id,
                source=source,
                last_id=last_id,
                first_id=last_id,
                last_time=last_time,
            )
        )
    else:
        found.last_id, found.last_time = last_id, last_time


def max_id(session: Session, model: Any, workspace_id: int) -> int:
    return int(
        session.scalar(select(func.max(model.id)).where(model.workspace_id == workspace_id)) or 0
    )


# --- the sources: committed rows past a cursor ------------------------------------------


def messages_after(session: Session, workspace_id: int, after_id: int, limit: int) -> list[Any]:
    return list(
        session.execute(
            select(Message, Identity.handle, Identity.display_name, Identity.customer_id)
            .outerjoin(Identity, Identity.id == Message.author_identity_id)
            .where(
                Message.workspace_id == workspace_id,
                Message.id > after_id,
                Message.direction == Direction.INBOUND,
            )
            .order_by(Message.id)
            .limit(limit)
        )
    )


def rows_after(
    session: Session, model: Any, workspace_id: int, after_id: int, limit: int, *where: Any
) -> list[Any]:
    return list(
        session.scalars(
            select(model)
            .where(model.workspace_id == workspace_id, model.id > after_id, *where)
            .order_by(model.id)
            .limit(limit)
        )
    )


def conversation_of_tasks(session: Session, task_ids: Sequence[int]) -> dict[int, int]:
    if not task_ids:
        return {}
    rows = session.execute(select(Task.id, Task.conversation_id).where(Task.id.in_(task_ids)))
    return {int(t): int(c) for t, c in rows}


def outbox_settled_since(
    session: Session, workspace_id: int, since: datetime, limit: int
) -> list[OutboxItem]:
    return list(
        session.scalars(
            select(OutboxItem)
            .where(
                OutboxItem.workspace_id == workspace_id,
                OutboxItem.status.in_((OutboxStatus.SENT, OutboxStatus.FAILED)),
                OutboxItem.updated_at >= since,
            )
            .order_by(OutboxItem.updated_at, OutboxItem.id)
            .limit(limit)
        )
    )


def merged_customers_since(
    session: Session, workspace_id: int, since: datetime, limit: int
) -> list[Customer]:
    return list(
        session.scalars(
            select(Customer)
            .where(
                Customer.workspace_id == workspace_id,
                Customer.merged_into_id.isnot(None),
                Customer.updated_at >= since,
            )
            .order_by(Customer.updated_at, Customer.id)
            .limit(limit)
        )
    )


def incidents_resolved_since(
    session: Session, workspace_id: int, since: datetime, limit: int
) -> list[Incident]:
    return list(
        session.scalars(
            select(Incident)
            .where(Incident.workspace_id == workspace_id, Incident.resolved_at >= since)
            .order_by(Incident.resolved_at, Incident.id)
            .limit(limit)
        )
    )
