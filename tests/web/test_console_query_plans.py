"""What an agent's screen and the distributor look up by key, they find by key.

A case page reads the customer's identities, their recent messages and the triage of the
messages shown; the inbox loads the tasks it ranked; the distributor reloads the tasks a
batch opened. Each of these once walked every identity, message or task of the workspace
(on a one-brand install, every row), because SQLite without statistics preferred an index
on workspace_id to the key the query named.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.conversations.models import Conversation, Message
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task
from socialdesk.routing import repository as routing_repo
from socialdesk.triage.models import TriageResultRow
from socialdesk.web import console_repository as console
from tests.query_plans import (
    ingest_simulated_traffic,
    skip_unless_sqlite,
    sqlite_plan_steps,
    statements_run,
    walks_through_workspace,
)

START = datetime(2026, 1, 5, tzinfo=UTC)


def test_case_pages_the_inbox_and_the_distributor_read_by_key(
    engine: Engine, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    skip_unless_sqlite(engine)
    ingest_simulated_traffic(
        engine, session_factory, workspace.id, start=START, seed=5, messages=400, batch_size=400
    )
    ws = workspace.id
    with session_factory() as s:
        conversation = s.scalars(
            select(Conversation).where(Conversation.customer_id.is_not(None))
        ).first()
        assert conversation is not None and conversation.customer_id is not None
        customer_id = conversation.customer_id
        message_ids = list(s.scalars(select(Message.id).limit(50)))
        identity_ids = [i.id for i in console.identities_of(s, ws, customer_id)]
        task_ids = list(s.scalars(select(Task.id).limit(50)))
        lookups: dict[str, Callable[[], object]] = {
            "inbox": lambda: console.inbox_rows(s, ws, now=datetime.now(UTC), everything=True),
            "case messages": lambda: console.messages_of(s, ws, conversation.id),
            "case task": lambda: console.task_of(s, ws, conversation.id),
            "latest inbound": lambda: console.latest_inbound(s, ws, [conversation.id]),
            "triage shown": lambda: console.triage_rows(s, TriageResultRow, ws, message_ids),
            "customer": lambda: console.customer(s, ws, customer_id),
            "identities": lambda: console.identities_of(s, ws, customer_id),
            "their cases": lambda: console.conversations_of(s, ws, customer_id),
            "their messages": lambda: console.recent_messages_by(s, ws, identity_ids),
            "tasks a batch opened": lambda: routing_repo.tasks_by_id(s, ws, task_ids),
        }
        walks: dict[str, list[str]] = {}
        for name, lookup in lookups.items():
            with statements_run(engine) as seen:
                assert lookup()  # each finds something: the plan checked is a real one
            assert seen, name
            for sql, params in seen:
                walks[name] = walks.get(name, []) + walks_through_workspace(
                    sqlite_plan_steps(s, sql, params)
                )
    assert identity_ids and message_ids and task_ids
    assert {name: steps for name, steps in walks.items() if steps} == {}
