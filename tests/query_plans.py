"""What a piece of code asks the database, and how SQLite plans to answer it."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker


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


def skip_unless_sqlite(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the query plan checked is SQLite's; PostgreSQL plans from statistics")


def ingest_simulated_traffic(
    engine: Engine,
    session_factory: sessionmaker[Session],
    workspace_id: int,
    *,
    start: datetime,
    seed: int,
    messages: int,
    batch_size: int = 300,
) -> None:
    """Generated traffic through the full pipeline, as production runs it."""
    from socialdesk.config import Settings
    from socialdesk.ingest.wiring import build_pipeline
    from socialdesk.simulation.traffic import BrandProfile, generate

    url = engine.url.render_as_string(hide_password=False)
    pipeline = build_pipeline(Settings(database_url=url), session_factory)
    traffic = generate(BrandProfile(), start, None, 20_000.0, seed, limit=messages)
    while batch := list(itertools.islice(traffic, batch_size)):
        pipeline.ingest(workspace_id, batch, source="test", batch_size=batch_size)
