"""The console tells routing what changed, so work flows without waiting for a timer."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.clock import FrozenClock
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task, TaskStatus
from socialdesk.people.models import User
from socialdesk.routing.engine import RoutingEngine
from tests.web.conftest import START, sign_in
from tests.web.factories import make_case


def test_an_agent_going_online_is_handed_waiting_work_at_once(
    app: FastAPI,
    client: TestClient,
    agent: User,
    clock: FrozenClock,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    app.state.routing = RoutingEngine(session_factory, clock=clock)
    with session_factory() as s:
        conv, _, _ = make_case(s, workspace.id, text="my phone line is dead", at=START)
        s.commit()
    token = sign_in(client, agent.email)
    assert f'data-id="{conv.id}"' not in client.get("/console/inbox?scope=mine").text
    client.post("/console/presence", data={"csrf_token": token, "status": "online"})
    with session_factory() as s:
        task = s.scalars(select(Task)).one()
        assert (task.assignee_id, task.status) == (agent.id, TaskStatus.ASSIGNED)
    assert f'data-id="{conv.id}"' in client.get("/console/inbox?scope=mine").text
