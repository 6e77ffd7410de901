"""The pipeline's bulk lookups find the right rows, through an index, however many rows the
workspace holds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.models import Workspace
from socialdesk.customers.models import Customer
from socialdesk.ingest import repository as repo
from tests.query_plans import sqlite_plan, statements_run

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _customer(workspace: Workspace, name: str, **fields: Any) -> Customer:
    return Customer(workspace_id=workspace.id, display_name=name, created_at=T0, **fields)


def test_a_shared_email_or_phone_finds_the_oldest_live_customer(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        merged_away = _customer(workspace, "merged", email="dana@example.com")
        s.add(merged_away)
        s.flush()
        oldest = _customer(workspace, "oldest", email="dana@example.com", phone="+441234")
        newer = _customer(workspace, "newer", email="dana@example.com", phone="+441234")
        s.add_all([oldest, newer])
        s.flush()
        merged_away.merged_into_id = oldest.id
        s.commit()
        by_email, by_phone = repo.customers_by_contact(
            s, workspace.id, {"dana@example.com", "nobody@example.com"}, {"+441234"}
        )
    assert by_email == {"dana@example.com": oldest.id}
    assert by_phone == {"+441234": oldest.id}


def test_contact_lookups_use_the_contact_indexes_not_a_walk_through_every_customer(
    engine: Engine, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the query plan checked is SQLite's; PostgreSQL plans from statistics")
    with session_factory() as s:
        s.add_all(_customer(workspace, f"c{i}", email=f"c{i}@example.com") for i in range(50))
        s.commit()
        with statements_run(engine) as seen:
            repo.customers_by_contact(
                s,
                workspace.id,
                {f"c{i}@example.com" for i in (3, 7, 11)},
                {"+441234", "+441235", "+441236"},
            )
        plans = [sqlite_plan(s, sql, params) for sql, params in seen]
    assert len(plans) == 2
    assert "ix_customers_workspace_email" in plans[0]
    assert "ix_customers_workspace_phone" in plans[1]
