"""A batch finds what it needs by key, never by walking the workspace.

On a one-brand install every row of a table belongs to the same workspace, so a lookup that
SQLite answers from an index on workspace_id alone reads the whole table, and every batch
gets slower as the database grows: before this was checked, a batch's repeat-contact lookup
and its triage results walked every message and every result. Without statistics SQLite
plans the same way on a small database as on a large one, so the plans of one batch on a
small database tell what a large one would do.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.config import Settings
from socialdesk.conversations.models import Conversation, Message
from socialdesk.core.db import unit_of_work
from socialdesk.core.models import Workspace
from socialdesk.core.scoping import workspace_check
from socialdesk.core.work import Task
from socialdesk.core.workspaces import ensure_workspace
from socialdesk.ingest.wiring import build_pipeline
from socialdesk.priority.repository import scoring_rows
from socialdesk.priority.service import stored_triage
from socialdesk.simulation.traffic import BrandProfile, generate
from socialdesk.triage.models import TriageResultRow
from socialdesk.triage.repository import earlier_inbound_times
from tests.query_plans import (
    ingest_simulated_traffic,
    skip_unless_sqlite,
    sqlite_plan_steps,
    statements_run,
    walks_through_workspace,
)

START = datetime(2026, 1, 5, tzinfo=UTC)

# Touches no row: the id reservation's write lock ("UPDATE t SET id = id WHERE 0").
NO_ROWS = re.compile(r"\bWHERE 0\s*$")


def test_the_walk_detector_knows_a_walk_from_a_lookup() -> None:
    assert walks_through_workspace(
        ["SEARCH messages USING INDEX sqlite_autoindex_messages_1 (workspace_id=?)"]
    )
    assert walks_through_workspace(
        ["SEARCH triage_results USING INDEX ix_triage_results_ws_severity (workspace_id=?)"]
    )
    assert walks_through_workspace(["SCAN tasks"])
    assert not walks_through_workspace(
        ["SEARCH triage_results USING INDEX sqlite_autoindex_triage_results_1 (message_id=?)"]
    )
    assert not walks_through_workspace(
        [
            "SEARCH conversations USING COVERING INDEX ix_conversations_ws_customer "
            "(workspace_id=? AND customer_id=?)"
        ]
    )
    assert not walks_through_workspace(
        ["SEARCH teams USING INDEX ix_teams_workspace_id (workspace_id=?)"]
    )


def test_every_lookup_of_a_full_pipeline_batch_goes_by_key(
    engine: Engine, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    skip_unless_sqlite(engine)
    # History first: repeat customers and open cases for the batch to look up.
    ingest_simulated_traffic(
        engine, session_factory, workspace.id, start=START, seed=7, messages=900
    )
    url = engine.url.render_as_string(hide_password=False)
    pipeline = build_pipeline(Settings(database_url=url), session_factory)
    later = generate(BrandProfile(), datetime(2026, 1, 6, tzinfo=UTC), None, 20_000.0, 8, limit=300)

    with statements_run(engine) as seen:
        accept, process = pipeline.ingest(workspace.id, list(later), source="test")

    assert process.processed == len(accept.accepted) > 0
    with session_factory() as s:
        reads = [
            (sql, params)
            for sql, params in seen
            if not isinstance(params, list)  # executemany: inserts and updates by id
            and not re.match(r"\s*(INSERT|COMMIT|BEGIN|PRAGMA|SAVEPOINT|RELEASE)\b", sql, re.I)
            and not NO_ROWS.search(sql)
        ]
        walks = {
            " ".join(sql.split())[:160]: walks_through_workspace(sqlite_plan_steps(s, sql, params))
            for sql, params in reads
        }
    assert len(reads) > 20
    assert {sql: steps for sql, steps in walks.items() if steps} == {}


def test_lookups_by_key_still_keep_to_their_workspace(
    engine: Engine, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    ingest_simulated_traffic(
        engine, session_factory, workspace.id, start=START, seed=9, messages=40
    )
    with unit_of_work(session_factory) as s:
        other = ensure_workspace(s, "another-brand").id
    with session_factory() as s:
        inbound = s.execute(
            select(Message.id, Conversation.customer_id, Message.created_at)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.direction == "inbound")
        ).all()
        message_ids = [m for m, _, _ in inbound]
        customers = {c for _, c, _ in inbound if c is not None}
        since, until = datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)

        assert len(stored_triage(s, workspace.id, message_ids)) == len(message_ids)
        assert stored_triage(s, other, message_ids) == {}
        assert earlier_inbound_times(s, workspace.id, customers, since, until, set())
        assert earlier_inbound_times(s, other, customers, since, until, set()) == []
        tasks = list(s.scalars(select(Task.id)))
        assert len(scoring_rows(s, workspace.id, tasks)) == len(tasks)
        assert scoring_rows(s, other, tasks) == []
        stored = len(s.scalars(select(TriageResultRow.id)).all())
        s.execute(  # the check replace_results uses: another workspace deletes nothing here
            delete(TriageResultRow).where(
                workspace_check(TriageResultRow.workspace_id, other),
                TriageResultRow.message_id.in_(message_ids),
            )
        )
        assert len(s.scalars(select(TriageResultRow.id)).all()) == stored == len(message_ids)
