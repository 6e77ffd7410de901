"""Bulk reads and writes through the database driver, for the ingestion hot path.

SQLAlchemy builds and type-processes parameters row by row, and compiles an expanding IN
list value by value, which costs more than the database's own work when a batch holds
thousands of rows. These helpers convert values with one precomputed function per column
and hand plain tuples to the driver. They are only for tables of ours whose column types
they know (UTCDateTime, JSON, plain scalars).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, BigInteger, ColumnElement, Table, any_, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.types import TypeEngine

from socialdesk.core.clock import as_utc
from socialdesk.core.db import UTCDateTime


class JsonText(str):
    """A value that is already serialized JSON (stored as is, not encoded again)."""


Convert = Callable[[Any], Any]


# A batch writes the same instants in several columns and tables (a message's time is its
# conversation's first, last and inbound time and its task's waiting time): convert each once.
@lru_cache(maxsize=1 << 13)
def _sqlite_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given; socialdesk stores UTC-aware datetimes only")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # The layout SQLAlchemy's SQLite DATETIME type writes and reads back (no offset); one
    # %-format costs about 60% of isoformat, which also formats the offset we cut off.
    return "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (  # noqa: UP031
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
    )


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
    picked = [pick(row) for row in rows] if len(columns) > 1 else [(pick(row),) for row in rows]
    if all(convert is None for convert in converters):
        return picked
    # Convert column by column, in C-level map() loops, then put the rows back together.
    values = [
        column if convert is None else tuple(map(convert, column))
        for column, convert in zip(zip(*picked, strict=True), converters, strict=True)
    ]
    return list(zip(*values, strict=True))


def bulk_insert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    skip_conflicts_on: Sequence[str] = (),
) -> int:
    """Insert rows (all with the same keys) in one executemany; with ``skip_conflicts_on``,
    rows that would violate that unique key are skipped (ON CONFLICT DO NOTHING).

    Returns how many rows were inserted, as the driver counts them (-1 if it cannot tell).
    """
    if not rows:
        return 0
    columns = list(rows[0])
    converters, _ = _plan(table, columns, session.connection().dialect.name)
    return insert_prepared(
        session,
        table,
        columns,
        _tuples(rows, columns, converters),
        skip_conflicts_on=skip_conflicts_on,
    )


def insert_prepared(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    skip_conflicts_on: Sequence[str] = (),
) -> int:
    """Insert tuples whose values are already in the driver's form, in ``columns`` order.

    The fastest path, for the hottest inserts: nothing is picked or converted per row. The
    caller converts datetimes with ``datetime_converter`` and passes JSON as serialized text.
    Returns how many rows were inserted, as ``bulk_insert`` does.
    """
    if not rows:
        return 0
    connection = session.connection()
    if connection.dialect.name == "postgresql" and not skip_conflicts_on:
        # COPY: one stream of rows instead of one bound statement a row (in pipeline mode);
        # on 20,000 rows a quarter of the client's CPU and of the wall time. JSON goes as
        # text and PostgreSQL parses it for the column's type, as the CAST below does.
        cursor: Any = connection.connection.cursor()  # psycopg's, in this transaction
        try:
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()
        return len(rows)
    _, marks = _plan(table, columns, connection.dialect.name)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(marks)})"
    if skip_conflicts_on:
        sql += f" ON CONFLICT ({', '.join(skip_conflicts_on)}) DO NOTHING"
    return connection.exec_driver_sql(sql, rows).rowcount


def datetime_converter(session: Session) -> Convert:
    """The function that turns a UTC-aware datetime into this session's driver form."""
    return _sqlite_datetime if session.connection().dialect.name == "sqlite" else _aware


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


# SQLite accepts up to 32,766 bound parameters per statement (since 3.32).
SQLITE_IN_CHUNK = 30_000


def execute_in(
    session: Session, sql: str, params: Sequence[Any], values: Iterable[Any]
) -> list[Any]:
    """Run ``sql`` for every value of ``values`` and return the rows it gives (if any).

    ``sql`` uses ``?`` placeholders, filled in order by ``params``, and holds one
    ``IN ({values})``. SQLite gets the values as placeholders, in chunks under its parameter
    limit; PostgreSQL gets them as one array. Rows read columns by name, as SQLAlchemy's
    do; datetimes come back as the driver gives them (see ``utc_from_db``).
    """
    # No sorting: SQLite orders an IN list itself, and PostgreSQL's ANY takes any order.
    wanted = list(set(values))
    if not wanted:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        statement = sql.replace("?", "%s").replace("IN ({values})", "= ANY(%s)")
        result = connection.exec_driver_sql(statement, (*params, wanted))
        return list(result.all()) if result.returns_rows else []
    rows: list[Any] = []
    for start in range(0, len(wanted), SQLITE_IN_CHUNK):
        chunk = wanted[start : start + SQLITE_IN_CHUNK]
        statement = sql.replace("{values}", ",".join("?" * len(chunk)))
        result = connection.exec_driver_sql(statement, (*params, *chunk))
        if result.returns_rows:
            rows.extend(result.all())
    return rows


def execute_in_pairs(
    session: Session,
    sql: str,
    params: Sequence[Any],
    columns: tuple[str, str],
    pairs: Mapping[str, Iterable[str]],
) -> list[Any]:
    """``execute_in`` for pairs grouped by their first value (a channel and the external ids
    wanted on it): ``sql`` holds ``{pairs}`` where the condition on ``columns`` goes.

    PostgreSQL gets every pair in one statement (two arrays, unnested side by side), not a
    statement per channel: a batch looks up authors, messages and threads on four or five
    channels, and each statement is a round trip. SQLite gets one per first value, its
    second values as ``execute_in`` passes them.
    """
    wanted = {first: set(seconds) for first, seconds in pairs.items()}
    wanted = {first: seconds for first, seconds in wanted.items() if seconds}
    if not wanted:
        return []
    first_column, second_column = columns
    if session.get_bind().dialect.name == "postgresql":
        firsts = [first for first, seconds in wanted.items() for _ in seconds]
        seconds = [second for values in wanted.values() for second in values]
        condition = (
            f"({first_column}, {second_column}) IN "
            "(SELECT * FROM unnest(CAST(? AS text[]), CAST(? AS text[])))"
        )
        statement = sql.replace("{pairs}", condition).replace("?", "%s")
        result = session.connection().exec_driver_sql(statement, (*params, firsts, seconds))
        return list(result.all())
    rows: list[Any] = []
    for first, values in wanted.items():
        condition = f"{first_column} = ? AND {second_column} IN ({{values}})"
        rows.extend(
            execute_in(session, sql.replace("{pairs}", condition), (*params, first), values)
        )
    return rows


def id_in(
    session: Session, column: ColumnElement[Any] | QueryableAttribute[Any], ids: Iterable[int]
) -> ColumnElement[bool]:
    """``column IN ids`` for a statement built with SQLAlchemy.

    On PostgreSQL the ids go as one array (``= ANY``): the statement's text stays the same
    whatever their count, so neither SQLAlchemy nor the driver builds and parses a statement
    of thousands of placeholders for each batch (a seventh of a worker's time before). SQLite
    gets the expanding ``IN``.
    """
    values = list(ids)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(BigInteger())))
    return column.in_(values)


def datetime_param(session: Session, value: datetime | None) -> Any:
    """A UTC-aware datetime as ``execute_in`` must pass it to this session's driver."""
    return datetime_converter(session)(value)


def utc_from_db(value: Any) -> datetime | None:
    """A datetime read through the driver: SQLite's text (UTC, no offset) or an aware one."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    if not isinstance(value, datetime):
        raise TypeError(f"not a datetime: {value!r}")
    return as_utc(value)


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
    # Driver SQL: built once per table, not compiled by SQLAlchemy on every batch.
    connection = session.connection()
    connection.exec_driver_sql(f"UPDATE {table.name} SET id = id WHERE 0")
    top = int(connection.exec_driver_sql(f"SELECT max(id) FROM {table.name}").scalar() or 0)
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
