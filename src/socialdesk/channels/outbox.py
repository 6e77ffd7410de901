"""The outbox: outbound actions committed with the agent's work, sent after commit.

``enqueue`` only flushes, inside the caller's transaction, so a reply and its outbox row
commit or roll back together. The sender (``socialdesk.conversations.outbox_sender``) delivers them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from socialdesk.channels import repository
from socialdesk.channels.models import OutboxItem, OutboxStatus
from socialdesk.core.errors import Conflict, NotFound


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


def enqueue(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: int,
    message_id: int,
    channel: str,
    action: str,
    text: str,
    target: dict[str, Any],
    now: datetime,
    idempotency_key: str,
    channel_account_id: int | None = None,
    author_user_id: int | None = None,
) -> OutboxItem:
    item = OutboxItem(
        workspace_id=workspace_id,
        conversation_id=conversation_id,
        message_id=message_id,
        channel=channel,
        channel_account_id=channel_account_id,
        author_user_id=author_user_id,
        action=action,
        target=target,
        text=text,
        idempotency_key=idempotency_key,
        status=OutboxStatus.PENDING,
        attempts=0,
        outcome_unknown=False,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    return repository.add_outbox_item(session, item)


def deliveries(session: Session, workspace_id: int, conversation_id: int) -> Sequence[OutboxItem]:
    """Every outbound action of a case with its state and, when failed, the platform's reason."""
    return repository.outbox_for_conversation(session, workspace_id, conversation_id)


def _owned_item(session: Session, workspace_id: int, item_id: int) -> OutboxItem:
    item = repository.get_outbox_item(session, item_id)
    if item is None or item.workspace_id != workspace_id:
        raise NotFound(f"outbox item {item_id} not found")
    return item


def retry(session: Session, *, workspace_id: int, item_id: int, now: datetime) -> OutboxItem:
    """The agent asks to try a failed delivery again (after fixing a token, say)."""
    item = _owned_item(session, workspace_id, item_id)
    if item.status != OutboxStatus.FAILED:
        raise Conflict(f"outbox item {item_id} is {item.status}; only failed items are retried")
    item.status = OutboxStatus.PENDING
    item.next_attempt_at = now
    item.attempts = 0
    item.updated_at = now
    session.flush()
    return item


def cancel(session: Session, *, workspace_id: int, item_id: int, now: datetime) -> OutboxItem:
    """Give up on a delivery (the agent answers on another channel instead)."""
    item = _owned_item(session, workspace_id, item_id)
    if item.status not in (OutboxStatus.FAILED, OutboxStatus.PENDING):
        raise Conflict(f"outbox item {item_id} is {item.status} and cannot be cancelled")
    item.status = OutboxStatus.CANCELLED
    item.updated_at = now
    session.flush()
    return item
