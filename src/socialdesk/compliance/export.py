"""One customer's data as JSON, on request (GDPR art. 15 and 20: access and portability).

Everything socialdesk holds of them: the customer and CRM fields, their identities on every
channel, and for each case its threads, messages (with their triage), notes, the work item
and its service-level outcome, our deliveries, channel shifts and callbacks.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from socialdesk.channels.models import CallbackRequest, ChannelShift, OutboxItem
from socialdesk.compliance import repository as repo
from socialdesk.conversations.action_models import Note
from socialdesk.conversations.models import Thread
from socialdesk.core import audit
from socialdesk.core.errors import NotFound
from socialdesk.core.work import Task

# Columns that are ours, not the customer's, or secrets: left out of the export.
LEFT_OUT = frozenset({"workspace_id", "credentials_encrypted", "idempotency_key", "lease_until"})


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def row_dict(row: Any) -> dict[str, Any]:
    """A stored row as plain JSON values, every column but those in LEFT_OUT."""
    return {
        attr.key: _plain(getattr(row, attr.key))
        for attr in inspect(row).mapper.column_attrs
        if attr.key not in LEFT_OUT
    }


def export_customer(
    session: Session, workspace_id: int, customer_id: int, actor: audit.Actor, now: datetime
) -> dict[str, Any]:
    """The export (a dict ready for JSON); the request is recorded in the audit log."""
    customer = repo.customer_in_workspace(session, workspace_id, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    customer_ids = repo.merged_customer_ids(session, workspace_id, customer_id)
    customers = repo.customers_by_id(session, customer_ids)
    identities = repo.identities_of(session, customer_ids)
    conversations = repo.conversations_of(session, workspace_id, customer_ids)
    conversation_ids = [c.id for c in conversations]
    message_ids = repo.message_ids_of(session, conversation_ids, [i.id for i in identities])
    messages = repo.messages_by_id(session, message_ids)
    triage = {t.message_id: row_dict(t) for t in repo.triage_of(session, message_ids)}

    def of_case(model: Any) -> dict[int, list[dict[str, Any]]]:
        grouped: dict[int, list[dict[str, Any]]] = {}
        for row in repo.rows_where(session, model, model.conversation_id, conversation_ids):
            grouped.setdefault(row.conversation_id, []).append(row_dict(row))
        return grouped

    threads, notes, tasks = of_case(Thread), of_case(Note), of_case(Task)
    deliveries, shifts = of_case(OutboxItem), of_case(ChannelShift)
    callbacks = of_case(CallbackRequest)
    by_case: dict[int, list[dict[str, Any]]] = {}
    for message in messages:
        by_case.setdefault(message.conversation_id, []).append(
            row_dict(message) | {"triage": triage.get(message.id)}
        )
    audit.record(
        session, workspace_id, actor, "customer.exported", "customer", customer_id, now=now
    )
    return {
        "exported_at": now.isoformat(),
        "customer": row_dict(customer),
        "merged_customers": [row_dict(c) for c in customers if c.id != customer_id],
        "identities": [row_dict(i) for i in identities],
        "cases": [
            row_dict(c)
            | {
                "threads": threads.get(c.id, []),
                "messages": by_case.get(c.id, []),
                "notes": notes.get(c.id, []),
                "tasks": tasks.get(c.id, []),
                "deliveries": deliveries.get(c.id, []),
                "channel_shifts": shifts.get(c.id, []),
                "callbacks": callbacks.get(c.id, []),
            }
            for c in conversations
        ],
        # Messages they wrote in cases that are not theirs (a reply in someone else's thread).
        "other_messages": [
            m for cid, ms in by_case.items() if cid not in set(conversation_ids) for m in ms
        ],
    }
