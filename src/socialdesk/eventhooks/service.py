"""Subscriptions: created with a secret shown once, changed, re-enabled, and redeliveries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from socialdesk.channels.credentials import encrypt_credentials
from socialdesk.core.errors import InvalidInput, NotFound
from socialdesk.eventhooks import repository as repo
from socialdesk.eventhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from socialdesk.eventhooks.relay import EVENT_TYPES
from socialdesk.eventhooks.signing import new_secret


@dataclass(frozen=True, slots=True)
class NewSubscription:
    subscription: WebhookSubscription
    secret: str  # shown once; only its encrypted form is kept


def _check(url: str, events: Sequence[str]) -> list[str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput("the URL must be an absolute http(s) address")
    if len(url) > 2000:
        raise InvalidInput("the URL is longer than 2,000 characters")
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise InvalidInput(
            f"unknown event(s): {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}"
        )
    if not events:
        raise InvalidInput("subscribe to at least one event")
    return sorted(set(events))


def subscribe(
    session: Session,
    workspace_id: int,
    url: str,
    events: Sequence[str],
    secret_key: str,
    now: datetime,
    description: str = "",
) -> NewSubscription:
    chosen = _check(url, events)
    secret = new_secret()
    sub = WebhookSubscription(
        workspace_id=workspace_id,
        url=url,
        events=chosen,
        description=description[:200],
        secret_encrypted=encrypt_credentials({"secret": secret}, secret_key),
        active=True,
        consecutive_failures=0,
        created_at=now,
    )
    session.add(sub)
    session.flush()
    return NewSubscription(sub, secret)


def get(session: Session, workspace_id: int, subscription_id: int) -> WebhookSubscription:
    sub = repo.subscription(session, workspace_id, subscription_id)
    if sub is None:
        raise NotFound(f"no webhook subscription {subscription_id}")
    return sub


def update(
    session: Session,
    workspace_id: int,
    subscription_id: int,
    *,
    url: str | None = None,
    events: Sequence[str] | None = None,
    active: bool | None = None,
) -> WebhookSubscription:
    sub = get(session, workspace_id, subscription_id)
    chosen = _check(url or sub.url, events if events is not None else sub.events)
    sub.url, sub.events = url or sub.url, chosen
    if active is not None:
        if active and not sub.active:  # re-enabled by a person: a fresh start
            sub.consecutive_failures, sub.disabled_reason = 0, None
        sub.active = active
    session.flush()
    return sub


def delete(session: Session, workspace_id: int, subscription_id: int) -> None:
    sub = get(session, workspace_id, subscription_id)
    sub.active = False
    sub.disabled_reason = "deleted"
    repo.fail_pending_of(session, sub.id, "subscription deleted")
    session.flush()


def redeliver(
    session: Session, workspace_id: int, delivery_id: int, now: datetime
) -> WebhookDelivery:
    """Send a delivery again (a person asked): it goes at once, with a fresh set of retries."""
    delivery = repo.delivery(session, workspace_id, delivery_id)
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id}")
    delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.PENDING, 0, now
    delivery.error = None
    session.flush()
    return delivery
