"""All SQL of the ingestion pipeline, in bulk statements so a batch costs a handful of queries."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Table, func, select, text, tuple_
from sqlalchemy.orm import Session

from socialdesk.channels.inbox import RawEvent, RawEventStatus
from socialdesk.channels.models import ChannelAccount
from socialdesk.conversations.models import Conversation, Message, Thread
from socialdesk.core.bulk import (
    allocate_ids,
    bulk_update,
    datetime_converter,
    datetime_param,
    execute_in,
    execute_in_pairs,
    id_in,
    insert_prepared,
    utc_from_db,
)
from socialdesk.core.work import Task
from socialdesk.customers.identity import handle_key
from socialdesk.customers.models import Customer, Identity

RAW: Table = RawEvent.__table__  # type: ignore[assignment]
ACCOUNTS: Table = ChannelAccount.__table__  # type: ignore[assignment]
MESSAGES: Table = Message.__table__  # type: ignore[assignment]
THREADS: Table = Thread.__table__  # type: ignore[assignment]
CONVERSATIONS: Table = Conversation.__table__  # type: ignore[assignment]
IDENTITIES: Table = Identity.__table__  # type: ignore[assignment]
CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
TASKS: Table = Task.__table__  # type: ignore[assignment]

# The columns of the rows processing inserts, in the order it builds them (insert_prepared).
CUSTOMER_COLUMNS = (
    "id",
    "workspace_id",
    "display_name",
    "email",
    "phone",
    "crm_fields",
    "created_at",
    "updated_at",
)
IDENTITY_COLUMNS = (
    "id",
    "workspace_id",
    "customer_id",
    "channel",
    "external_id",
    "handle",
    "display_name",
    "followers",
    "verified",
    "is_brand",
    "profile",
    "created_at",
    "updated_at",
)
CONVERSATION_COLUMNS = (
    "id",
    "workspace_id",
    "customer_id",
    "status",
    "channel",
    "subject",
    "message_count",
    "first_message_at",
    "last_message_at",
    "last_inbound_at",
    "last_outbound_at",
    "resolved_at",
    "created_at",
    "updated_at",
)
THREAD_COLUMNS = (
    "id",
    "workspace_id",
    "conversation_id",
    "channel",
    "key",
    "visibility",
    "created_at",
)
MESSAGE_COLUMNS = (
    "id",
    "workspace_id",
    "conversation_id",
    "thread_id",
    "raw_event_id",
    "channel",
    "channel_account_id",
    "direction",
    "visibility",
    "author_identity_id",
    "external_id",
    "reply_to_external_id",
    "text",
    "metrics",
    "created_at",
    "received_at",
)
NEW_TASK_COLUMNS = (
    "id",
    "workspace_id",
    "conversation_id",
    "status",
    "channel",
    "queue",
    "priority",
    "value_score",
    "value_breakdown",
    "waiting_since",
    "first_response_at",
    "reopen_count",
    "created_at",
    "updated_at",
)

# Rows of bulk reads: attribute access by column name.
DbRow = Any

# The hot bulk reads below unpack their rows by position: reading a column of a SQLAlchemy
# row by name goes through Python's attribute fallback, which cost several percent of
# ingestion when a batch reads thousands of rows.


class KnownIdentity(NamedTuple):
    id: int
    customer_id: int | None
    is_brand: bool
    followers: int
    verified: bool


class KnownThread(NamedTuple):
    id: int
    conversation_id: int


RAW_COLUMNS = (
    "id",
    "workspace_id",
    "channel",
    "external_id",
    "source",
    "payload",
    "status",
    "received_at",
    "processed_at",
)


def insert_raw_events_ignoring_duplicates(
    session: Session,
    workspace_id: int,
    events: Sequence[tuple[str, str, str]],
    *,
    source: str,
    status: str,
    received_at: datetime,
    processed_at: datetime | None,
) -> list[int | None]:
    """Store raw events, given as (channel, external id, payload JSON); those already stored
    (same workspace, channel, external id) are skipped.

    Returns, in the events' order, the id each one was stored under, or None for an event
    that was stored before.
    """
    if not events:
        return []
    ids = allocate_ids(session, RAW, len(events))
    to_db = datetime_converter(session)
    received, processed = to_db(received_at), to_db(processed_at)
    rows = [
        (row_id, workspace_id, channel, external_id, source, payload, status, received, processed)
        for row_id, (channel, external_id, payload) in zip(ids, events, strict=True)
    ]
    # Events stored before (or by a concurrent writer) are skipped; the ids that landed tell
    # which rows are new.
    inserted = insert_prepared(
        session,
        RAW,
        RAW_COLUMNS,
        rows,
        skip_conflicts_on=("workspace_id", "channel", "external_id"),
    )
    if inserted == len(rows):  # the common case: nothing was stored before
        return list(ids)
    stored = {
        row.id
        for row in execute_in(session, "SELECT id FROM raw_events WHERE id IN ({values})", (), ids)
    }
    return [row_id if row_id in stored else None for row_id in ids]


def pending_raw_events(
    session: Session, workspace_id: int, ids: Sequence[int] | None, limit: int
) -> list[DbRow]:
    stmt = select(RAW.c.id, RAW.c.payload).where(
        RAW.c.workspace_id == workspace_id, RAW.c.status == RawEventStatus.PENDING
    )
    if ids is not None:
        stmt = stmt.where(id_in(session, RAW.c.id, ids))
    return list(session.execute(stmt.order_by(RAW.c.id).limit(limit)))


def mark_raw_events(
    session: Session, ids: Sequence[int], status: str, at: datetime, error: str | None = None
) -> None:
    execute_in(
        session,
        "UPDATE raw_events SET status = ?, processed_at = ?, error = ? WHERE id IN ({values})",
        (status, datetime_param(session, at), error),
        ids,
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
) -> dict[tuple[str, str], KnownIdentity]:
    by_channel: dict[str, list[str]] = {}
    for channel, external_id in keys:
        by_channel.setdefault(channel, []).append(external_id)
    return {
        (channel, external_id): KnownIdentity(
            identity_id, customer_id, bool(is_brand), followers, bool(verified)
        )
        for identity_id, channel, external_id, customer_id, is_brand, followers, verified in (
            execute_in_pairs(
                session,
                "SELECT id, channel, external_id, customer_id, is_brand, followers, verified "
                "FROM identities WHERE workspace_id = ? AND {pairs}",
                (workspace_id,),
                ("channel", "external_id"),
                by_channel,
            )
        )
    }


def lock_new_identities(session: Session, workspace_id: int, keys: set[tuple[str, str]]) -> bool:
    """PostgreSQL: hold a lock per (workspace, channel, external id) until commit, so that two
    workers meeting the same new author insert it one after the other, not both at once. The
    same goes for match keys (("@email", address), ("@phone", number)): two workers meeting one
    person through different identities do not both create a customer for them.

    Keys are locked in one order (their hash, sorted) so two batches cannot deadlock on them.
    SQLite has one writer at a time: nothing to do there. Returns whether it locked.
    """
    if not keys or session.get_bind().dialect.name != "postgresql":
        return False
    hashes = sorted(
        {
            int.from_bytes(
                hashlib.blake2b(
                    f"{workspace_id}\x1f{channel}\x1f{external_id}".encode(), digest_size=8
                ).digest(),
                "big",
                signed=True,
            )
            for channel, external_id in keys
        }
    )
    # unnest yields the array in order, and each row takes its lock before the next.
    session.execute(
        text("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CAST(:keys AS bigint[])) AS k"),
        {"keys": hashes},
    )
    return True


def claim_handles(session: Session, workspace_id: int, handles: set[str]) -> set[str]:
    """PostgreSQL: claim these (normalized) handles for customers this transaction is about to
    create, and return those another transaction claimed first.

    The claim is a row under a unique key: a second transaction inserting the same key waits
    until the first commits (or rolls back, and then takes the claim itself), so two workers
    meeting one new handle on two channels at once make one customer. Only handles really met
    by both wait, and a waiting row takes no entry in PostgreSQL's lock table, unlike an
    advisory lock per handle with batches of thousands of new authors. Keys go in one order
    (sorted), so two batches cannot deadlock on each other's claims. SQLite has one writer at
    a time: nothing to claim there.
    """
    if not handles or session.get_bind().dialect.name != "postgresql":
        return set()
    by_key = {handle_key(workspace_id, handle): handle for handle in handles}
    claimed = session.execute(
        text(
            "INSERT INTO handle_claims (workspace_id, handle_key) "
            "SELECT :ws, k FROM unnest(CAST(:keys AS bigint[])) AS k ORDER BY k "
            "ON CONFLICT DO NOTHING RETURNING handle_key"
        ),
        {"ws": workspace_id, "keys": sorted(by_key)},
    ).scalars()
    lost = set(by_key).difference(claimed)
    return {by_key[key] for key in lost}


def customers_by_handle(session: Session, workspace_id: int, handles: set[str]) -> dict[str, int]:
    """Customer ids of identities with these (normalized) handles on any channel."""
    found: dict[str, int] = {}
    for handle, customer_id in execute_in(
        session,
        "SELECT handle, customer_id FROM identities WHERE workspace_id = ? "
        "AND customer_id IS NOT NULL AND handle IN ({values}) ORDER BY id",
        (workspace_id,),
        handles,
    ):
        found.setdefault(handle, customer_id)
    return found


def customers_by_contact(
    session: Session, workspace_id: int, emails: set[str], phones: set[str]
) -> tuple[dict[str, int], dict[str, int]]:
    """Live (not merged away) customers with these emails, and with these phone numbers; the
    oldest where several share one."""
    found: list[dict[str, int]] = []
    for column, values in (("email", emails), ("phone", phones)):
        by_value: dict[str, int] = {}
        # No ORDER BY: with one, SQLite walks every customer of the workspace in id order
        # instead of looking the values up in the contact index.
        for value, customer_id in execute_in(
            session,
            f"SELECT {column}, id FROM customers WHERE workspace_id = ? "
            f"AND merged_into_id IS NULL AND {column} IN ({{values}})",
            (workspace_id,),
            values,
        ):
            if customer_id < by_value.get(value, customer_id + 1):
                by_value[value] = customer_id
        found.append(by_value)
    return found[0], found[1]


def update_identity_influence(session: Session, rows: list[dict[str, Any]]) -> None:
    """Rows of id, followers, verified, updated_at."""
    bulk_update(session, IDENTITIES, rows)


def thread_keys_of_messages(
    session: Session, workspace_id: int, external_ids: Mapping[str, set[str]]
) -> dict[str, dict[str, str]]:
    """The thread key of each of these messages that is stored, by channel and external id
    (external ids wanted by channel)."""
    found: dict[str, dict[str, str]] = {channel: {} for channel in external_ids}
    for channel, external_id, key in execute_in_pairs(
        session,
        'SELECT m.channel, m.external_id, t."key" '
        "FROM messages m JOIN threads t ON t.id = m.thread_id "
        "WHERE m.workspace_id = ? AND {pairs}",
        (workspace_id,),
        ("m.channel", "m.external_id"),
        external_ids,
    ):
        found[channel][external_id] = key
    return found


def threads_by_key(
    session: Session, workspace_id: int, keys: Mapping[str, set[str]]
) -> dict[str, dict[str, KnownThread]]:
    """Stored threads by channel and key (keys wanted by channel)."""
    found: dict[str, dict[str, KnownThread]] = {channel: {} for channel in keys}
    for thread_id, channel, key, conversation_id in execute_in_pairs(
        session,
        'SELECT id, channel, "key", conversation_id FROM threads '
        "WHERE workspace_id = ? AND {pairs}",
        (workspace_id,),
        ("channel", '"key"'),
        keys,
    ):
        found[channel][key] = KnownThread(thread_id, conversation_id)
    return found


class OpenCase(NamedTuple):
    id: int
    customer_id: int
    last_message_at: datetime


def open_conversations_of_customers(
    session: Session, workspace_id: int, customer_ids: set[int]
) -> dict[int, OpenCase]:
    """Each customer's most recent unresolved case."""
    found: dict[int, OpenCase] = {}
    rows = execute_in(
        session,
        "SELECT id, customer_id, last_message_at FROM conversations WHERE workspace_id = ? "
        "AND status != 'resolved' AND customer_id IN ({values})",
        (workspace_id,),
        customer_ids,
    )
    cases = [
        OpenCase(case_id, customer_id, _utc(last_message_at))
        for case_id, customer_id, last_message_at in rows
    ]
    for case in sorted(cases, key=lambda c: (c.last_message_at, c.id)):
        found[case.customer_id] = case  # ordered: the latest wins
    return found


def conversations_by_id(session: Session, ids: set[int]) -> dict[int, dict[str, Any]]:
    """What processing a batch reads and writes back of stored conversations, by id."""
    columns = (
        "id, customer_id, channel, status, message_count, first_message_at, last_message_at, "
        "last_inbound_at, last_outbound_at, resolved_at, subject"
    )
    names = [name.strip() for name in columns.split(",")]
    found: dict[int, dict[str, Any]] = {}
    for row in execute_in(
        session, f"SELECT {columns} FROM conversations WHERE id IN ({{values}})", (), ids
    ):
        state = dict(zip(names, row, strict=True))
        for name in ("first_message_at", "last_message_at"):
            state[name] = _utc(state[name])
        for name in ("last_inbound_at", "last_outbound_at", "resolved_at"):
            state[name] = utc_from_db(state[name])
        found[state["id"]] = state
    return found


def update_conversations(session: Session, rows: list[dict[str, Any]]) -> None:
    """Rows of id and the columns to set."""
    bulk_update(session, CONVERSATIONS, rows)


def tasks_of_conversations(
    session: Session, conversation_ids: set[int]
) -> dict[int, dict[str, Any]]:
    """The task of each conversation that has one: the fields processing may change."""
    return {
        conversation_id: {
            "id": task_id,
            "conversation_id": conversation_id,
            "status": status,
            "queue": queue,
            "waiting_since": _utc(waiting_since),
            "first_response_at": utc_from_db(first_response_at),
            "reopen_count": reopen_count,
        }
        for (
            task_id,
            conversation_id,
            status,
            queue,
            waiting_since,
            first_response_at,
            reopen_count,
        ) in execute_in(
            session,
            "SELECT id, conversation_id, status, queue, waiting_since, first_response_at, "
            "reopen_count FROM tasks WHERE conversation_id IN ({values})",
            (),
            conversation_ids,
        )
    }


def update_tasks(session: Session, rows: list[dict[str, Any]]) -> None:
    """Rows of id and the columns to set."""
    bulk_update(session, TASKS, rows)


def _utc(value: Any) -> datetime:
    at = utc_from_db(value)
    if at is None:
        raise ValueError("a required time is missing")
    return at


def orphaned_pending(
    session: Session, received_before: datetime, now: datetime, limit: int
) -> list[tuple[int, int]]:
    """(workspace id, raw id) of events still pending that were stored before a time (older
    than any announcement a worker could still be holding) and that no live worker holds (no
    lease, or one that ran out)."""
    stmt = (
        select(RAW.c.workspace_id, RAW.c.id)
        .where(
            RAW.c.status == RawEventStatus.PENDING,
            RAW.c.received_at < received_before,
            (RAW.c.lease_until.is_(None)) | (RAW.c.lease_until < now),
        )
        .order_by(RAW.c.id)
        .limit(limit)
    )
    return [(int(ws), int(raw_id)) for ws, raw_id in session.execute(stmt)]


def take_leases(
    session: Session, ids: Sequence[int], holder: str, now: datetime, until: datetime
) -> list[int]:
    """Lease the pending events among ``ids`` that no other live worker holds (or renew this
    holder's own); returns the ids leased. On PostgreSQL a concurrent taker waits for the row
    and then sees it held, so two workers never lease one event."""
    return sorted(int(row.id) for row in _lease(session, ids, holder, now, until, "id"))


def take_leased_payloads(
    session: Session, ids: Sequence[int], holder: str, now: datetime, until: datetime
) -> list[tuple[int, Any]]:
    """``take_leases``, returning the leased events' stored payloads too (by id): a worker
    reads what it is about to process in the statement that leases it."""
    rows = _lease(session, ids, holder, now, until, "id, payload")
    out = []
    for row in rows:
        payload = row.payload
        out.append((int(row.id), json.loads(payload) if isinstance(payload, str) else payload))
    return sorted(out, key=lambda item: item[0])


def _lease(
    session: Session,
    ids: Sequence[int],
    holder: str,
    now: datetime,
    until: datetime,
    returning: str,
) -> list[Any]:
    return execute_in(
        session,
        "UPDATE raw_events SET claimed_by = ?, lease_until = ? "
        "WHERE status = ? "
        "AND (claimed_by IS NULL OR claimed_by = ? OR lease_until IS NULL OR lease_until < ?) "
        f"AND id IN ({{values}}) RETURNING {returning}",
        (
            holder,
            datetime_param(session, until),
            RawEventStatus.PENDING,
            holder,
            datetime_param(session, now),
        ),
        ids,
    )


def pending_after(session: Session, after_id: int, limit: int) -> list[tuple[int, int]]:
    """(workspace id, raw id) of pending events with an id above ``after_id``, by id: a
    page of what a process that stopped early left unprocessed."""
    stmt = (
        select(RAW.c.workspace_id, RAW.c.id)
        .where(RAW.c.status == RawEventStatus.PENDING, RAW.c.id > after_id)
        .order_by(RAW.c.id)
        .limit(limit)
    )
    return [(int(ws), int(raw_id)) for ws, raw_id in session.execute(stmt)]


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
    execute_in(
        session,
        "UPDATE raw_events SET status = ?, error = NULL, processed_at = NULL, "
        "claimed_by = NULL, lease_until = NULL WHERE id IN ({values})",
        (RawEventStatus.PENDING,),
        ids,
    )
    return ids


def messages_by_external_id(
    session: Session, workspace_id: int, channel: str, external_ids: set[str]
) -> dict[str, Message]:
    """Stored messages of a channel by their platform ids (to apply edits and removals)."""
    if not external_ids:
        return {}
    rows = session.scalars(
        select(Message).where(
            Message.workspace_id == workspace_id,
            Message.channel == channel,
            Message.external_id.in_(sorted(external_ids)),
        )
    ).all()
    return {m.external_id: m for m in rows}


def oldest_pending_received_at(session: Session) -> datetime | None:
    """When the oldest event still waiting for processing was stored (any workspace)."""
    value = session.scalar(
        select(func.min(RAW.c.received_at)).where(RAW.c.status == RawEventStatus.PENDING)
    )
    return None if value is None else utc_from_db(value)
