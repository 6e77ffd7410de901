"""All SQL of the ingestion pipeline, in bulk statements so a batch costs a handful of queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, false, func, select, text, tuple_, update
from sqlalchemy.orm import Session

from socialdesk.channels.models import ChannelAccount
from socialdesk.conversations.models import Conversation, Message, Thread
from socialdesk.core.bulk import bulk_insert, bulk_update
from socialdesk.customers.models import Customer, Identity
from socialdesk.ingest.models import RawEvent, RawEventStatus
from socialdesk.routing.models import Task

RAW: Table = RawEvent.__table__  # type: ignore[assignment]
ACCOUNTS: Table = ChannelAccount.__table__  # type: ignore[assignment]
MESSAGES: Table = Message.__table__  # type: ignore[assignment]
THREADS: Table = Thread.__table__  # type: ignore[assignment]
CONVERSATIONS: Table = Conversation.__table__  # type: ignore[assignment]
IDENTITIES: Table = Identity.__table__  # type: ignore[assignment]
CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
TASKS: Table = Task.__table__  # type: ignore[assignment]

# Keep IN lists below SQLite's bound-parameter limit.
# Rows of bulk reads: attribute access by column name.
DbRow = Any

CHUNK = 900


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def event_key(channel: str, external_id: str) -> str:
    """How an event is named across a batch: unique per channel, like the stored key."""
    return f"{channel}\x00{external_id}"


def allocate_ids(session: Session, table: Table, count: int) -> list[int]:
    """Reserve ``count`` primary keys for rows about to be inserted in bulk.

    Knowing the ids up front lets a batch be written with one plain executemany, which is
    many times faster than inserting with RETURNING row by row. PostgreSQL hands out values
    of the table's own sequence, so concurrent writers never collide. SQLite has one writer
    at a time; a concurrent insert between this read and our write makes the batch fail
    with a key conflict and be retried, never produce a wrong row.
    """
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        stmt = text(
            f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
            "FROM generate_series(1, :n)"
        )
        return [row[0] for row in session.execute(stmt, {"n": count})]
    session.execute(update(table).where(false()).values(id=table.c.id))
    top = session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0
    return list(range(top + 1, top + 1 + count))


def insert_returning_ids(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows in one executemany; return their new ids in the rows' order."""
    if not rows:
        return []
    ids = allocate_ids(session, table, len(rows))
    for row, row_id in zip(rows, ids, strict=True):
        row["id"] = row_id
    bulk_insert(session, table, rows)
    return ids


def insert_raw_events_ignoring_duplicates(
    session: Session, workspace_id: int, rows: list[dict[str, Any]]
) -> dict[str, int]:
    """Store raw events; those already stored (same workspace, channel, external id) are skipped.

    Returns ``event_key -> id`` for the rows actually inserted.
    """
    if not rows:
        return {}
    ids = allocate_ids(session, RAW, len(rows))
    for row, row_id in zip(rows, ids, strict=True):
        row["id"] = row_id
    # Events stored before (or by a concurrent writer) are skipped; the ids that landed tell
    # which rows are new.
    bulk_insert(session, RAW, rows, skip_conflicts_on=("workspace_id", "channel", "external_id"))
    stored = {
        row_id
        for chunk in _chunks(ids)
        for row_id in session.scalars(select(RAW.c.id).where(RAW.c.id.in_(chunk)))
    }
    return {
        event_key(row["channel"], row["external_id"]): row["id"]
        for row in rows
        if row["id"] in stored
    }


def pending_raw_events(
    session: Session, workspace_id: int, ids: Sequence[int] | None, limit: int
) -> list[DbRow]:
    stmt = select(RAW.c.id, RAW.c.payload).where(
        RAW.c.workspace_id == workspace_id, RAW.c.status == RawEventStatus.PENDING
    )
    if ids is not None:
        stmt = stmt.where(RAW.c.id.in_(ids))
    return list(session.execute(stmt.order_by(RAW.c.id).limit(limit)))


def mark_raw_events(
    session: Session, ids: Sequence[int], status: str, at: datetime, error: str | None = None
) -> None:
    if not ids:
        return
    for chunk in _chunks(ids):
        session.execute(
            update(RAW)
            .where(RAW.c.id.in_(chunk))
            .values(status=status, processed_at=at, error=error)
        )


def channel_account_ids(
    session: Session, workspace_id: int, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """Ids of the workspace's channel accounts named by (channel, external id)."""
    if not keys:
        return {}
    stmt = select(ACCOUNTS.c.id, ACCOUNTS.c.channel, ACCOUNTS.c.external_id).where(
        ACCOUNTS.c.workspace_id == workspace_id,
        tuple_(ACCOUNTS.c.channel, ACCOUNTS.c.external_id).in_(sorted(keys)),
    )
    return {(row.channel, row.external_id): row.id for row in session.execute(stmt)}


def identities_by_external_id(
    session: Session, workspace_id: int, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], DbRow]:
    found: dict[tuple[str, str], DbRow] = {}
    by_channel: dict[str, list[str]] = {}
    for channel, external_id in keys:
        by_channel.setdefault(channel, []).append(external_id)
    for channel, external_ids in by_channel.items():
        for chunk in _chunks(sorted(external_ids)):
            stmt = select(
                IDENTITIES.c.id,
                IDENTITIES.c.channel,
                IDENTITIES.c.external_id,
                IDENTITIES.c.customer_id,
                IDENTITIES.c.is_brand,
                IDENTITIES.c.followers,
                IDENTITIES.c.verified,
            ).where(
                IDENTITIES.c.workspace_id == workspace_id,
                IDENTITIES.c.channel == channel,
                IDENTITIES.c.external_id.in_(chunk),
            )
            for row in session.execute(stmt):
                found[(row.channel, row.external_id)] = row
    return found


def customers_by_handle(session: Session, workspace_id: int, handles: set[str]) -> dict[str, int]:
    """Customer ids of identities with these (normalized) handles on any channel."""
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(handles)):
        stmt = select(IDENTITIES.c.handle, IDENTITIES.c.customer_id).where(
            IDENTITIES.c.workspace_id == workspace_id,
            IDENTITIES.c.handle.in_(chunk),
            IDENTITIES.c.customer_id.is_not(None),
        )
        for row in session.execute(stmt):
            found.setdefault(row.handle, row.customer_id)
    return found


def customers_by_contact(
    session: Session, workspace_id: int, emails: set[str], phones: set[str]
) -> tuple[dict[str, int], dict[str, int]]:
    by_email: dict[str, int] = {}
    by_phone: dict[str, int] = {}
    live = and_(CUSTOMERS.c.workspace_id == workspace_id, CUSTOMERS.c.merged_into_id.is_(None))
    for chunk in _chunks(sorted(emails)):
        stmt = select(CUSTOMERS.c.email, CUSTOMERS.c.id).where(live, CUSTOMERS.c.email.in_(chunk))
        for row in session.execute(stmt):
            by_email.setdefault(row.email, row.id)
    for chunk in _chunks(sorted(phones)):
        stmt = select(CUSTOMERS.c.phone, CUSTOMERS.c.id).where(live, CUSTOMERS.c.phone.in_(chunk))
        for row in session.execute(stmt):
            by_phone.setdefault(row.phone, row.id)
    return by_email, by_phone


def update_identity_influence(session: Session, rows: list[dict[str, Any]]) -> None:
    """Rows of id, followers, verified, updated_at."""
    bulk_update(session, IDENTITIES, rows)


def messages_by_external_id(
    session: Session, workspace_id: int, channel: str, external_ids: set[str]
) -> dict[str, DbRow]:
    """Known messages with their thread key and conversation."""
    found: dict[str, DbRow] = {}
    for chunk in _chunks(sorted(external_ids)):
        stmt = (
            select(
                MESSAGES.c.external_id,
                MESSAGES.c.thread_id,
                MESSAGES.c.conversation_id,
                THREADS.c.key,
            )
            .join(THREADS, THREADS.c.id == MESSAGES.c.thread_id)
            .where(
                MESSAGES.c.workspace_id == workspace_id,
                MESSAGES.c.channel == channel,
                MESSAGES.c.external_id.in_(chunk),
            )
        )
        for row in session.execute(stmt):
            found[row.external_id] = row
    return found


def threads_by_key(
    session: Session, workspace_id: int, channel: str, keys: set[str]
) -> dict[str, DbRow]:
    found: dict[str, DbRow] = {}
    for chunk in _chunks(sorted(keys)):
        stmt = select(THREADS.c.id, THREADS.c.key, THREADS.c.conversation_id).where(
            THREADS.c.workspace_id == workspace_id,
            THREADS.c.channel == channel,
            THREADS.c.key.in_(chunk),
        )
        for row in session.execute(stmt):
            found[row.key] = row
    return found


def open_conversations_of_customers(
    session: Session, workspace_id: int, customer_ids: set[int]
) -> dict[int, DbRow]:
    """Each customer's most recent unresolved case."""
    found: dict[int, DbRow] = {}
    for chunk in _chunks(sorted(customer_ids)):
        stmt = (
            select(CONVERSATIONS.c.id, CONVERSATIONS.c.customer_id, CONVERSATIONS.c.last_message_at)
            .where(
                CONVERSATIONS.c.workspace_id == workspace_id,
                CONVERSATIONS.c.customer_id.in_(chunk),
                CONVERSATIONS.c.status != "resolved",
            )
            .order_by(CONVERSATIONS.c.last_message_at)
        )
        for row in session.execute(stmt):
            found[row.customer_id] = row  # ordered: the latest wins
    return found


def conversations_by_id(session: Session, ids: set[int]) -> dict[int, DbRow]:
    found: dict[int, DbRow] = {}
    for chunk in _chunks(sorted(ids)):
        for row in session.execute(select(CONVERSATIONS).where(CONVERSATIONS.c.id.in_(chunk))):
            found[row.id] = row
    return found


def update_conversations(session: Session, rows: list[dict[str, Any]]) -> None:
    """Rows of id and the columns to set."""
    bulk_update(session, CONVERSATIONS, rows)


def tasks_of_conversations(session: Session, conversation_ids: set[int]) -> dict[int, DbRow]:
    found: dict[int, DbRow] = {}
    for chunk in _chunks(sorted(conversation_ids)):
        for row in session.execute(select(TASKS).where(TASKS.c.conversation_id.in_(chunk))):
            found[row.conversation_id] = row
    return found


def update_tasks(session: Session, rows: list[dict[str, Any]]) -> None:
    """Rows of id and the columns to set."""
    bulk_update(session, TASKS, rows)


def workspaces_with_pending(session: Session) -> list[int]:
    stmt = select(RAW.c.workspace_id).where(RAW.c.status == RawEventStatus.PENDING).distinct()
    return list(session.scalars(stmt))


def failed_raw_events(session: Session, workspace_id: int, limit: int) -> list[DbRow]:
    stmt = (
        select(RAW.c.id, RAW.c.channel, RAW.c.external_id, RAW.c.error, RAW.c.received_at)
        .where(RAW.c.workspace_id == workspace_id, RAW.c.status == RawEventStatus.FAILED)
        .order_by(RAW.c.id)
        .limit(limit)
    )
    return list(session.execute(stmt))


def reset_failed_raw_events(session: Session, workspace_id: int) -> list[int]:
    """Put failed events back to pending; returns their ids."""
    ids = list(
        session.scalars(
            select(RAW.c.id).where(
                RAW.c.workspace_id == workspace_id, RAW.c.status == RawEventStatus.FAILED
            )
        )
    )
    for chunk in _chunks(ids):
        session.execute(
            update(RAW)
            .where(RAW.c.id.in_(chunk))
            .values(status=RawEventStatus.PENDING, error=None, processed_at=None)
        )
    return ids
