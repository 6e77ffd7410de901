"""A year of cases written with bulk inserts, for the export memory test and the reports
benchmark: each case is the customer, our answer, the customer again and our answer, on X,
spread evenly from 1 December 2025 over 365 days, resolved, within its service level."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from socialdesk.conversations.models import Conversation, Message, Thread
from socialdesk.core.bulk import datetime_converter, insert_prepared
from socialdesk.core.work import Task

PER_CASE = 4  # the customer, our answer, the customer again, our answer
YEAR_START = datetime(2025, 12, 1, tzinfo=UTC)
BATCH = 10_000
TEXT = "My router keeps dropping the connection every evening since the upgrade, help? #"


def _cases(
    ws: int, start: int, stop: int, spacing: timedelta, to_db: object
) -> Iterator[tuple[str, list[tuple]]]:  # type: ignore[type-arg]
    convert = to_db  # the driver's datetime form
    assert callable(convert)
    conversations, threads, messages, tasks = [], [], [], []
    for n in range(start, stop):
        at = YEAR_START + spacing * (n - 1)
        first, last = convert(at), convert(at + timedelta(minutes=40))
        conversations.append((n, ws, "resolved", "x", "", PER_CASE, first, last, first, first))
        threads.append((n, ws, n, "x", f"root-{n}", "public", first))
        for step, (direction, minutes) in enumerate(
            (("inbound", 0), ("outbound", 12), ("inbound", 20), ("outbound", 40))
        ):
            moment = convert(at + timedelta(minutes=minutes))
            messages.append(
                (
                    n * PER_CASE + step,
                    ws,
                    n,
                    n,
                    "x",
                    direction,
                    "public",
                    f"m-{n}-{step}",
                    f"{TEXT}{n}",
                    "{}",
                    moment,
                    moment,
                )
            )
        due = convert(at + timedelta(minutes=30))
        tasks.append(
            (
                n,
                ws,
                n,
                "done",
                "x",
                "care",
                1.0,
                1.0,
                "{}",
                first,
                convert(at),
                due,
                0,
                0,
                first,
                last,
            )
        )
    yield "conversations", conversations
    yield "threads", threads
    yield "messages", messages
    yield "tasks", tasks


COLUMNS = {
    "conversations": (
        "id",
        "workspace_id",
        "status",
        "channel",
        "subject",
        "message_count",
        "first_message_at",
        "last_message_at",
        "created_at",
        "updated_at",
    ),
    "threads": (
        "id",
        "workspace_id",
        "conversation_id",
        "channel",
        "key",
        "visibility",
        "created_at",
    ),
    "messages": (
        "id",
        "workspace_id",
        "conversation_id",
        "thread_id",
        "channel",
        "direction",
        "visibility",
        "external_id",
        "text",
        "metrics",
        "created_at",
        "received_at",
    ),
    "tasks": (
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
        "due_at",
        "reopen_count",
        "breach_count",
        "created_at",
        "updated_at",
    ),
}
TABLES = {
    "conversations": Conversation.__table__,
    "threads": Thread.__table__,
    "messages": Message.__table__,
    "tasks": Task.__table__,
}


def write_year(session: Session, workspace_id: int, cases: int) -> None:
    """``cases`` cases (four messages each) over the year; commits."""
    to_db = datetime_converter(session)
    spacing = timedelta(days=365) / cases
    for start in range(1, cases + 1, BATCH):
        stop = min(start + BATCH, cases + 1)
        for name, rows in _cases(workspace_id, start, stop, spacing, to_db):
            insert_prepared(session, TABLES[name], COLUMNS[name], rows)  # type: ignore[arg-type]
    session.commit()
    last = session.scalar(select(Message.id).order_by(Message.id.desc()).limit(1))
    assert last == cases * PER_CASE + PER_CASE - 1
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
