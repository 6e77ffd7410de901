"""Locking agents for an assignment never blocks an agent's own writes (PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.conversations.action_models import CaseEvent
from socialdesk.routing.assignment_repository import lock_agents
from tests.routing.factories import agent


def test_a_case_event_by_an_agent_is_written_while_the_distributor_holds_the_agent(
    pg_factory: sessionmaker[Session],
    pg_workspace: int,
) -> None:
    # An agent resolving a case writes a case event that refers to them, which takes
    # PostgreSQL's KEY SHARE lock on their row. The distributor's lock must not conflict
    # with it: with FOR UPDATE the two waited on each other (a deadlock in the soak).
    agent_id = agent(pg_factory, pg_workspace, "Ann")
    with pg_factory() as distributor, pg_factory() as resolver:
        lock_agents(distributor, [agent_id])  # held until the distributor's commit
        resolver.execute(text("SET LOCAL lock_timeout = '3s'"))
        resolver.add(CaseEvent(workspace_id=pg_workspace, actor_user_id=agent_id, kind="resolved"))
        resolver.commit()  # would fail with LockNotAvailable under FOR UPDATE
        distributor.commit()
