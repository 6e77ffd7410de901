"""Tasks' assignee and SLA-check indexes hold only the tasks that have one, and still serve
every query of those columns."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.models import Workspace
from socialdesk.core.work import Task
from socialdesk.routing import repository as repo
from tests.query_plans import sqlite_plan, statements_run
from tests.routing.factories import T0, agent, task

PARTIAL = {
    "ix_tasks_assignee_status": "assignee_id IS NOT NULL",
    "ix_tasks_ws_sla_next_check": "sla_next_check_at IS NOT NULL",
}


def test_the_migrated_indexes_leave_out_tasks_without_a_value(engine: Engine) -> None:
    with engine.connect() as connection:
        definitions: dict[str, str]
        if engine.dialect.name == "sqlite":
            definitions = dict(
                connection.exec_driver_sql(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                ).all()
            )
        else:
            definitions = dict(
                connection.execute(
                    text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tasks'")
                ).all()
            )
    for name, condition in PARTIAL.items():
        assert condition in definitions[name].replace("(", "").replace(")", "")


def test_the_next_sla_check_is_the_earliest_set_one(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    task(session_factory, workspace.id, sla_next_check_at=T0 + timedelta(minutes=30))
    task(session_factory, workspace.id, sla_next_check_at=T0 + timedelta(minutes=5))
    task(session_factory, workspace.id)  # no check due
    with session_factory() as s:
        assert repo.next_sla_check(s, workspace.id) == T0 + timedelta(minutes=5)
        due = repo.tasks_due_for_sla_check(s, workspace.id, T0 + timedelta(minutes=10))
        assert len(due) == 1
        s.execute(update(Task).values(sla_next_check_at=None))
        s.commit()
        assert repo.next_sla_check(s, workspace.id) is None


def test_queries_of_assignees_and_due_checks_use_the_partial_indexes(
    engine: Engine, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the query plan checked is SQLite's; PostgreSQL plans from statistics")
    holder = agent(session_factory, workspace.id, "Ana")
    for i in range(20):
        task(
            session_factory,
            workspace.id,
            assignee_id=holder if i % 2 else None,
            sla_next_check_at=T0 + timedelta(minutes=i) if i % 3 else None,
        )
    with session_factory() as s:
        with statements_run(engine) as due_checks:
            repo.next_sla_check(s, workspace.id)
            repo.tasks_due_for_sla_check(s, workspace.id, T0 + timedelta(minutes=5))
        with statements_run(engine) as by_assignee:
            s.execute(select(Task.id).where(Task.assignee_id == holder, Task.status == "open"))
        expected = [
            ("ix_tasks_ws_sla_next_check", due_checks),
            ("ix_tasks_assignee_status", by_assignee),
        ]
        for index, statements in expected:
            assert statements
            for sql, params in statements:
                plan = sqlite_plan(s, sql, params)
                assert index in plan, (sql, plan)
