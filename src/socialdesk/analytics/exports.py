"""Exports of a range's conversations, messages and tasks with their service-level
outcomes, produced row by row: a year of data goes out in flat memory.

Each export is an iterator of plain dicts (``rows``) and a writer that turns any such
iterator into CSV or JSON-lines text chunks.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from socialdesk.analytics import report_repository as repo
from socialdesk.analytics.report_metrics import ReportRange
from socialdesk.analytics.reports import Names, iter_cases, load_names
from socialdesk.core.clock import as_utc
from socialdesk.core.errors import InvalidInput

FORMATS = ("csv", "jsonl")
KINDS = ("conversations", "messages", "tasks")
FLUSH_ROWS = 500  # CSV rows gathered into one chunk of the response

CONVERSATION_COLUMNS = (
    "id",
    "channel",
    "status",
    "customer_id",
    "message_count",
    "first_message_at",
    "local_day",
    "last_message_at",
    "resolved_at",
    "task_id",
    "team",
    "agent",
    "kind",
    "topic",
    "first_response_seconds",
    "next_responses",
    "unanswered_turns",
    "resolution_seconds",
    "handling_seconds",
    "sentiment_change",
    "channel_shifts",
    "kb_links_sent",
    "kb_links_opened",
    "sla_outcome",
    "breach_count",
)
TASK_COLUMNS = (
    "id",
    "conversation_id",
    "status",
    "queue",
    "channel",
    "team",
    "agent",
    "kind",
    "topic",
    "language",
    "value_score",
    "conversation_started_at",
    "waiting_since",
    "first_response_at",
    "due_at",
    "sla_target_seconds",
    "sla_state",
    "breached_at",
    "breach_count",
    "reopen_count",
    "sla_outcome",
)
MESSAGE_COLUMNS = (
    "id",
    "conversation_id",
    "channel",
    "direction",
    "visibility",
    "created_at",
    "local_time",
    "external_id",
    "author_handle",
    "agent",
    "kind",
    "topic",
    "sentiment",
    "sentiment_score",
    "language",
    "text",
)
COLUMNS = {
    "conversations": CONVERSATION_COLUMNS,
    "messages": MESSAGE_COLUMNS,
    "tasks": TASK_COLUMNS,
}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat()


def conversation_rows(
    session: Session, workspace_id: int, span: ReportRange, now: datetime
) -> Iterator[dict[str, Any]]:
    names = load_names(session, workspace_id)
    for record in iter_cases(session, workspace_id, span, now, names):
        row, facts = record.row, record.facts
        answered = [t.seconds for t in facts.turns[1:] if t.seconds is not None]
        yield {
            "id": row.id,
            "channel": row.channel,
            "status": row.status,
            "customer_id": row.customer_id,
            "message_count": row.message_count,
            "first_message_at": _iso(row.first_message_at),
            "local_day": facts.started_at.astimezone(span.tz).date().isoformat(),
            "last_message_at": _iso(row.last_message_at),
            "resolved_at": _iso(facts.resolved_at),
            "task_id": row.task_id,
            "team": facts.labels["team"],
            "agent": facts.labels["agent"],
            "kind": facts.labels["kind"],
            "topic": facts.labels["topic"],
            "first_response_seconds": facts.first_response_seconds,
            "next_responses": len(answered),
            "unanswered_turns": sum(1 for t in facts.turns if t.answered_at is None),
            "resolution_seconds": facts.resolution_seconds,
            "handling_seconds": facts.handling_seconds,
            "sentiment_change": None
            if facts.sentiment_change is None
            else round(facts.sentiment_change, 4),
            "channel_shifts": facts.shifts,
            "kb_links_sent": facts.kb_links,
            "kb_links_opened": facts.kb_links_opened,
            "sla_outcome": facts.sla,
            "breach_count": row.breach_count,
        }


def task_rows(
    session: Session, workspace_id: int, span: ReportRange, now: datetime
) -> Iterator[dict[str, Any]]:
    names = load_names(session, workspace_id)
    for record in iter_cases(session, workspace_id, span, now, names, with_task=True):
        row = record.row
        yield {
            "id": row.task_id,
            "conversation_id": row.id,
            "status": row.task_status,
            "queue": row.queue,
            "channel": row.channel,
            "team": record.facts.labels["team"],
            "agent": record.facts.labels["agent"],
            "kind": record.facts.labels["kind"],
            "topic": record.facts.labels["topic"],
            "language": row.language,
            "value_score": row.value_score,
            "conversation_started_at": _iso(row.first_message_at),
            "waiting_since": _iso(row.waiting_since),
            "first_response_at": _iso(row.first_response_at),
            "due_at": _iso(row.due_at),
            "sla_target_seconds": row.sla_target_seconds,
            "sla_state": row.sla_state,
            "breached_at": _iso(row.breached_at),
            "breach_count": row.breach_count,
            "reopen_count": row.reopen_count,
            "sla_outcome": record.facts.sla,
        }


def message_rows(
    session: Session, workspace_id: int, span: ReportRange, now: datetime
) -> Iterator[dict[str, Any]]:
    del now  # a message's figures do not change with time
    names: Names = load_names(session, workspace_id)
    for row in repo.export_messages(session, workspace_id, span.start, span.end):
        at = as_utc(row.created_at)
        yield {
            "id": row.id,
            "conversation_id": row.conversation_id,
            "channel": row.channel,
            "direction": row.direction,
            "visibility": row.visibility,
            "created_at": at.isoformat(),
            "local_time": at.astimezone(span.tz).isoformat(),
            "external_id": row.external_id,
            "author_handle": row.author_handle,
            "agent": None if row.author_user_id is None else names.agent(row.author_user_id),
            "kind": row.kind,
            "topic": row.topic,
            "sentiment": row.sentiment,
            "sentiment_score": row.sentiment_score,
            "language": row.language,
            "text": row.text,
        }


RowSource = Callable[[Session, int, ReportRange, datetime], Iterator[dict[str, Any]]]
SOURCES: dict[str, RowSource] = {
    "conversations": conversation_rows,
    "messages": message_rows,
    "tasks": task_rows,
}


def check(kind: str, fmt: str) -> None:
    if kind not in SOURCES:
        raise InvalidInput(f"export must be one of {', '.join(KINDS)} (got {kind!r})")
    if fmt not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)} (got {fmt!r})")


# A spreadsheet runs a cell that starts with one of these as a formula; a customer's post
# must never become one (OWASP's CSV injection advice: a leading apostrophe).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FREE_TEXT = frozenset({"text"})  # columns that hold what customers wrote, as written


def _cell(value: Any) -> Any:
    return "" if value is None else value


def spreadsheet_safe(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_chunks(columns: Iterable[str], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A header line, then the rows, a few hundred to a chunk. Free text that a spreadsheet
    would read as a formula starts with an apostrophe (JSON lines keep it as written)."""
    names = tuple(columns)
    guarded = [i for i, c in enumerate(names) if c in FREE_TEXT]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(names)
    pending = 0
    for row in rows:
        cells = [_cell(row.get(c)) for c in names]
        for i in guarded:
            if isinstance(cells[i], str):
                cells[i] = spreadsheet_safe(cells[i])
        writer.writerow(cells)
        pending += 1
        if pending >= FLUSH_ROWS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


def jsonl_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    lines: list[str] = []
    for row in rows:
        lines.append(json.dumps(row, ensure_ascii=False, default=str))
        if len(lines) >= FLUSH_ROWS:
            yield "\n".join(lines) + "\n"
            lines = []
    if lines:
        yield "\n".join(lines) + "\n"


def export_chunks(
    session: Session,
    workspace_id: int,
    kind: str,
    span: ReportRange,
    fmt: str,
    now: datetime,
) -> Iterator[str]:
    """One export as text chunks; the caller owns the session until the last chunk."""
    check(kind, fmt)
    rows = SOURCES[kind](session, workspace_id, span, now)
    if fmt == "jsonl":
        return jsonl_chunks(rows)
    return csv_chunks(COLUMNS[kind], rows)
