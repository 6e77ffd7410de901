"""Bulk writes through the database driver's executemany, for the ingestion hot path.

SQLAlchemy builds and type-processes parameters row by row, which costs more than the
database's own work when a batch holds thousands of rows. These helpers convert values
with one precomputed function per column and hand plain tuples to the driver. They are
only for tables of ours whose column types they know (UTCDateTime, JSON, plain scalars).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from socialdesk.core.db import UTCDateTime


class JsonText(str):
    """A value that is already serialized JSON (stored as is, not encoded again)."""


Convert = Callable[[Any], Any]


def _sqlite_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given; socialdesk stores UTC-aware datetimes only")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # The layout SQLAlchemy's SQLite DATETIME type writes and reads back (no offset).
    return value.isoformat(" ", timespec="microseconds")[:26]


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("naive datetime given; socialdesk stores UTC-aware datetimes only")
    return value


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, JsonText):
        return str(value)
    if not value and isinstance(value, dict):
        return "{}"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _is_json(type_: TypeEngine[Any]) -> bool:
    return isinstance(type_, JSON) or isinstance(getattr(type_, "impl", None), JSON)


def _converter(type_: TypeEngine[Any], dialect: str) -> tuple[Convert | None, str]:
    """How to pass one column's values, and its placeholder in the statement."""
    mark = "?" if dialect == "sqlite" else "%s"
    if isinstance(type_, UTCDateTime):
        return (_sqlite_datetime if dialect == "sqlite" else _aware), mark
    if _is_json(type_):
        return _json_text, (mark if dialect == "sqlite" else f"CAST({mark} AS JSONB)")
    return None, mark


def _plan(
    table: Table, columns: Sequence[str], dialect: str
) -> tuple[list[Convert | None], list[str]]:
    converters: list[Convert | None] = []
    marks: list[str] = []
    for name in columns:
        convert, mark = _converter(table.c[name].type, dialect)
        converters.append(convert)
        marks.append(mark)
    return converters, marks


def _tuples(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], converters: list[Convert | None]
) -> list[tuple[Any, ...]]:
    pick = itemgetter(*columns)
    converted = [(i, f) for i, f in enumerate(converters) if f is not None]
    if len(columns) == 1:
        values = [[pick(row)] for row in rows]
    else:
        values = [list(pick(row)) for row in rows]
    for index, convert in converted:
        if convert is _json_text:  # documents are dicts: nothing to remember them by
            for row_values in values:
                row_values[index] = convert(row_values[index])
            continue
        # Batches repeat the same timestamps: convert each distinct value once.
        memo: dict[Any, Any] = {}
        for row_values in values:
            value = row_values[index]
            try:
                row_values[index] = memo[value]
            except KeyError:
                row_values[index] = memo[value] = convert(value)
    return [tuple(v) for v in values]


def bulk_insert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    skip_conflicts_on: Sequence[str] = (),
) -> None:
    """Insert rows (all with the same keys) in one executemany; with ``skip_conflicts_on``,
    rows that would violate that unique key are skipped (ON CONFLICT DO NOTHING)."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect.name
    columns = list(rows[0])
    converters, marks = _plan(table, columns, dialect)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(marks)})"
    if skip_conflicts_on:
        sql += f" ON CONFLICT ({', '.join(skip_conflicts_on)}) DO NOTHING"
    connection.exec_driver_sql(sql, _tuples(rows, columns, converters))


def bulk_update(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Update rows by ``id`` (every row carries ``id`` and the same other keys)."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect.name
    columns = [c for c in rows[0] if c != "id"]
    converters, marks = _plan(table, [*columns, "id"], dialect)
    assignments = ", ".join(f"{c} = {m}" for c, m in zip(columns, marks, strict=False))
    sql = f"UPDATE {table.name} SET {assignments} WHERE id = {marks[-1]}"
    connection.exec_driver_sql(sql, _tuples(rows, [*columns, "id"], converters))
