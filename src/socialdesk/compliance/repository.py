"""All SQL of the compliance domain: the audit log, and the rows that hold a customer's data."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from socialdesk.channels.inbox import RawEvent, RawEventStatus
from socialdesk.channels.models import (
    CallbackRequest,
    ChannelShift,
    DeadLetter,
    OutboxItem,
)
from socialdesk.conversations.action_models import CaseEvent, Note, Notification
from socialdesk.conversations.models import Conversation, ConversationStatus, Message, Thread
from socialdesk.core.audit import AuditEvent
from socialdesk.core.db import Base
from socialdesk.core.scoping import workspace_check
from socialdesk.customers.identity import handle_key, normalize_handle
from socialdesk.customers.models import Customer, HandleClaim, Identity
from socialdesk.triage.models import TriageLabelRow, TriageResultRow

# Long IN-lists are split: SQLite allows at most 32,766 bound values a statement.
CHUNK = 500


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


# --- the audit log ------------------------------------------------------------------------


def audit_events(
    session: Session,
    workspace_id: int,
    *,
    action: str | None = None,
    actor: str | None = None,
    target_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int | None = None,
) -> Sequence[AuditEvent]:
    """Newest first; ``before_id`` is the cursor of the next page."""
    query = select(AuditEvent).where(AuditEvent.workspace_id == workspace_id)
    if action:
        # "user" selects every user.* action; "user.created" just that one.
        query = query.where(
            (AuditEvent.action == action) | AuditEvent.action.startswith(f"{action}.")
        )
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if target_type:
        query = query.where(AuditEvent.target_type == target_type)
    if since is not None:
        query = query.where(AuditEvent.created_at >= since)
    if until is not None:
        query = query.where(AuditEvent.created_at < until)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    query = query.order_by(AuditEvent.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return session.scalars(query).all()


# --- whose data: a customer, the customers merged into them, their identities ------------


def customer_in_workspace(session: Session, workspace_id: int, customer_id: int) -> Customer | None:
    customer = session.get(Customer, customer_id)
    if customer is None or customer.workspace_id != workspace_id:
        return None
    return customer


def merged_customer_ids(session: Session, workspace_id: int, customer_id: int) -> list[int]:
    """The customer and every customer folded into them, directly or through another."""
    found = [customer_id]
    frontier = [customer_id]
    while frontier:
        children = session.scalars(
            select(Customer.id).where(
                Customer.workspace_id == workspace_id, Customer.merged_into_id.in_(frontier)
            )
        ).all()
        frontier = [c for c in children if c not in found]
        found.extend(frontier)
    return found


def customers_by_id(session: Session, customer_ids: Sequence[int]) -> Sequence[Customer]:
    return session.scalars(
        select(Customer).where(Customer.id.in_(customer_ids)).order_by(Customer.id)
    ).all()


def identities_of(session: Session, customer_ids: Sequence[int]) -> Sequence[Identity]:
    return session.scalars(
        select(Identity).where(Identity.customer_id.in_(customer_ids)).order_by(Identity.id)
    ).all()


def conversations_of(
    session: Session, workspace_id: int, customer_ids: Sequence[int]
) -> Sequence[Conversation]:
    return session.scalars(
        select(Conversation)
        .where(Conversation.workspace_id == workspace_id)
        .where(Conversation.customer_id.in_(customer_ids))
        .order_by(Conversation.id)
    ).all()


def message_ids_of(
    session: Session, conversation_ids: Sequence[int], identity_ids: Sequence[int]
) -> list[int]:
    """Every message of the customer's cases, and every message they wrote anywhere."""
    ids: set[int] = set()
    for chunk in _chunks(conversation_ids):
        ids.update(session.scalars(select(Message.id).where(Message.conversation_id.in_(chunk))))
    for chunk in _chunks(identity_ids):
        ids.update(session.scalars(select(Message.id).where(Message.author_identity_id.in_(chunk))))
    return sorted(ids)


def rows_where(session: Session, model: Any, column: Any, ids: Sequence[int]) -> list[Any]:
    rows: list[Any] = []
    for chunk in _chunks(ids):
        rows.extend(session.scalars(select(model).where(column.in_(chunk)).order_by(model.id)))
    return rows


def threads_of(session: Session, conversation_ids: Sequence[int]) -> list[Thread]:
    return rows_where(session, Thread, Thread.conversation_id, conversation_ids)


def messages_by_id(session: Session, message_ids: Sequence[int]) -> list[Message]:
    return rows_where(session, Message, Message.id, message_ids)


def triage_of(session: Session, message_ids: Sequence[int]) -> list[TriageResultRow]:
    return rows_where(session, TriageResultRow, TriageResultRow.message_id, message_ids)


def unprocessed_raw_events(session: Session, workspace_id: int) -> Sequence[RawEvent]:
    """Events stored but never turned into a message (pending or failed): few at any time."""
    return session.scalars(
        select(RawEvent).where(
            RawEvent.workspace_id == workspace_id,
            RawEvent.status != RawEventStatus.PROCESSED,
        )
    ).all()


def dead_letters_of_workspace(session: Session, workspace_id: int) -> Sequence[DeadLetter]:
    return session.scalars(select(DeadLetter).where(DeadLetter.workspace_id == workspace_id)).all()


# --- erasure: every statement keeps the rows and their counts, and drops what names the person


def erase_message_texts(session: Session, workspace_id: int, message_ids: Sequence[int]) -> None:
    for chunk in _chunks(message_ids):
        session.execute(
            update(Message)
            .where(Message.id.in_(chunk), workspace_check(Message.workspace_id, workspace_id))
            # An edited post keeps its first version for the audit: erased with the rest.
            .values(text="", original_text=None)
        )
        # The explanation and the signals quote the words that triggered them.
        session.execute(
            update(TriageResultRow)
            .where(TriageResultRow.message_id.in_(chunk))
            .values(explanation=[], signals={})
        )
        # A correction's copy of the text would teach the next model the customer's words.
        session.execute(delete(TriageLabelRow).where(TriageLabelRow.message_id.in_(chunk)))


def raw_event_ids_of_messages(session: Session, message_ids: Sequence[int]) -> list[int]:
    ids: list[int] = []
    for chunk in _chunks(message_ids):
        ids.extend(
            i
            for i in session.scalars(select(Message.raw_event_id).where(Message.id.in_(chunk)))
            if i is not None
        )
    return ids


def erase_raw_payloads(session: Session, raw_event_ids: Sequence[int], now: datetime) -> None:
    for chunk in _chunks(raw_event_ids):
        session.execute(
            update(RawEvent)
            .where(RawEvent.id.in_(chunk))
            .values(payload={"erased": True}, error=None, pruned_at=now)
        )


def erase_case_texts(session: Session, conversation_ids: Sequence[int]) -> None:
    """What the team wrote to and about the customer: replies, notes, shifts, callbacks."""
    for chunk in _chunks(conversation_ids):
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.conversation_id.in_(chunk))
            .values(text="", target={}, error_reason=None)
        )
        session.execute(update(Note).where(Note.conversation_id.in_(chunk)).values(text="[erased]"))
        session.execute(
            update(Notification).where(Notification.conversation_id.in_(chunk)).values(text="")
        )
        session.execute(
            update(CaseEvent).where(CaseEvent.conversation_id.in_(chunk)).values(data={})
        )
        session.execute(
            update(ChannelShift).where(ChannelShift.conversation_id.in_(chunk)).values(reason="")
        )
        session.execute(
            update(CallbackRequest)
            .where(CallbackRequest.conversation_id.in_(chunk))
            .values(phone="", reason="", outcome=None)
        )
        session.execute(update(Conversation).where(Conversation.id.in_(chunk)).values(subject=""))
        # Thread keys name the parties of a DM ("dm:a|b") and the customer's post ids.
        for thread_id in session.scalars(
            select(Thread.id).where(Thread.conversation_id.in_(chunk))
        ):
            session.execute(
                update(Thread).where(Thread.id == thread_id).values(key=f"erased:{thread_id}")
            )


def release_handle_claims(session: Session, workspace_id: int, handles: Iterable[str]) -> None:
    """Delete the claims of an erased customer's handles (they hold a hash of each)."""
    keys = [handle_key(workspace_id, normalize_handle(h)) for h in set(handles) if h]
    for chunk in _chunks(keys):
        session.execute(
            delete(HandleClaim).where(
                HandleClaim.workspace_id == workspace_id, HandleClaim.handle_key.in_(chunk)
            )
        )


def anonymise_identities(session: Session, identity_ids: Sequence[int]) -> None:
    for identity_id in identity_ids:
        # A new external id keeps the unique key and lets a later post open a new customer.
        session.execute(
            update(Identity)
            .where(Identity.id == identity_id)
            .values(
                external_id=f"erased:{identity_id}",
                handle="",
                display_name="",
                followers=0,
                verified=False,
                profile={},
            )
        )


def anonymise_customers(session: Session, customer_ids: Sequence[int], now: datetime) -> None:
    for chunk in _chunks(customer_ids):
        session.execute(
            update(Customer)
            .where(Customer.id.in_(chunk))
            .values(
                display_name="",
                email=None,
                phone=None,
                tier=None,
                lifetime_value=None,
                crm_fields={},
                erased_at=now,
            )
        )


def clear_raw_event(raw_event: RawEvent, now: datetime) -> None:
    raw_event.payload = {"erased": True}
    raw_event.error = None
    raw_event.pruned_at = now


def clear_dead_letter(dead_letter: DeadLetter) -> None:
    dead_letter.body = ""
    dead_letter.reason = "erased on request"
    dead_letter.last_replay_error = None


# --- retention ----------------------------------------------------------------------------


def prune_raw_payloads(
    session: Session, workspace_id: int, older_than: datetime, now: datetime
) -> int:
    """Processed events keep their key (so a redelivery is still a duplicate), not the body."""
    result = session.execute(
        update(RawEvent)
        .where(
            RawEvent.workspace_id == workspace_id,
            RawEvent.status == RawEventStatus.PROCESSED,
            RawEvent.received_at < older_than,
            RawEvent.pruned_at.is_(None),
        )
        .values(payload={"pruned": True}, pruned_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def closed_conversation_ids(session: Session, workspace_id: int, older_than: datetime) -> list[int]:
    return list(
        session.scalars(
            select(Conversation.id).where(
                Conversation.workspace_id == workspace_id,
                Conversation.status == ConversationStatus.RESOLVED,
                Conversation.resolved_at < older_than,
            )
        )
    )


def raw_event_ids_of_conversations(session: Session, conversation_ids: Sequence[int]) -> list[int]:
    ids: list[int] = []
    for chunk in _chunks(conversation_ids):
        ids.extend(
            i
            for i in session.scalars(
                select(Message.raw_event_id).where(Message.conversation_id.in_(chunk))
            )
            if i is not None
        )
    return ids


def _referencing(table: Table) -> list[tuple[Table, Any]]:
    """Every (table, column) whose foreign key points at ``table``'s id, from the metadata,
    so that tables added later are covered without being listed here."""
    found: list[tuple[Table, Any]] = []
    for other in Base.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is table and fk.column.name == "id":
                found.append((other, fk.parent))
    return found


def delete_with_dependents(session: Session, table: Table, ids: Iterable[int]) -> int:
    """Delete rows and, first, every row that references them, however deep.

    A self-reference (a case merged into a deleted one) is cleared instead of followed.
    Returns the number of rows deleted from ``table`` itself.
    """
    id_list = sorted(set(ids))
    if not id_list:
        return 0
    for other, column in _referencing(table):
        for chunk in _chunks(id_list):
            if other is table:
                session.execute(update(other).where(column.in_(chunk)).values({column.name: None}))
                continue
            if "id" in other.c:
                child_ids = list(session.scalars(select(other.c.id).where(column.in_(chunk))))
                delete_with_dependents(session, other, child_ids)
            else:
                session.execute(delete(other).where(column.in_(chunk)))
    deleted = 0
    for chunk in _chunks(id_list):
        result = session.execute(delete(table).where(table.c.id.in_(chunk)))
        deleted += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return deleted


def delete_raw_events(session: Session, raw_event_ids: Sequence[int]) -> int:
    return delete_with_dependents(session, RawEvent.__table__, raw_event_ids)  # type: ignore[arg-type]


def delete_conversations(session: Session, conversation_ids: Sequence[int]) -> int:
    return delete_with_dependents(session, Conversation.__table__, conversation_ids)  # type: ignore[arg-type]
