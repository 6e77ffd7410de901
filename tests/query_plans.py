"""What a piece of code asks the database, and how SQLite plans to answer it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session


@contextmanager
def statements_run(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Collects (sql, parameters) of every statement run on ``engine`` inside the block."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        seen.append((sql, params))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def sqlite_plan_steps(session: Session, sql: str, params: Any) -> list[str]:
    """The steps of SQLite's EXPLAIN QUERY PLAN of a statement."""
    connection = session.connection()
    return [row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)]


def sqlite_plan(session: Session, sql: str, params: Any) -> str:
    """SQLite's EXPLAIN QUERY PLAN of a statement, its steps joined in one line."""
    return " ".join(sqlite_plan_steps(session, sql, params))


# The tables that grow with traffic; the small ones (teams, models, policies) may be read
# whole.
GROWING = (
    "raw_events",
    "messages",
    "threads",
    "conversations",
    "customers",
    "identities",
    "tasks",
    "task_assignments",
    "triage_results",
)
_WALK = re.compile(
    rf"^(?:SCAN (?:{'|'.join(GROWING)})\b"
    rf"|SEARCH (?:{'|'.join(GROWING)}) USING (?:COVERING )?INDEX \S+ \(workspace_id=\?\))"
)


def walks_through_workspace(plan_steps: list[str]) -> list[str]:
    """The steps that read a growing table whole, or all of a workspace's rows of it: on a
    one-brand install the same thing, and slower with every message stored."""
    return [step for step in plan_steps if _WALK.match(step)]
