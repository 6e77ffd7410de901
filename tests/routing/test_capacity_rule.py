"""Capacity counts the items an agent is working: an answered item waiting on the customer
holds no slot, unless the agent's team says it does."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.clock import FrozenClock
from socialdesk.core.db import unit_of_work
from socialdesk.core.models import Workspace
from socialdesk.people.models import Team
from socialdesk.routing import repository as repo
from socialdesk.routing import service
from socialdesk.routing.distributor import Distributor
from tests.routing.factories import T0, agent, assignee, finish, status, task, team


def set_rule(factory: sessionmaker[Session], ws: int, name: str, on: bool) -> None:
    with unit_of_work(factory) as s:
        service.set_team_capacity_rule(s, ws, team(s, ws, name), waiting_holds_slot=on)


def test_by_default_an_answered_item_frees_its_slot_for_the_next(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    a = agent(session_factory, workspace.id, "A", capacity={"x": 1})
    dist = Distributor(session_factory, workspace.id, clock=FrozenClock(T0))
    dist.load()
    first = task(session_factory, workspace.id)
    dist.on_tasks([first])
    second = task(session_factory, workspace.id)
    dist.on_tasks([second])
    assert assignee(session_factory, second) is None  # the one slot is taken
    finish(session_factory, first)
    dist.on_agents([a])
    assert assignee(session_factory, second) == a
    with session_factory() as s:
        assert repo.agent_loads(s, workspace.id) == {a: {"x": 1}}


def test_a_team_that_counts_waiting_items_keeps_the_slot_until_the_case_moves_on(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    a = agent(session_factory, workspace.id, "A", capacity={"x": 1})
    set_rule(session_factory, workspace.id, "Care", True)
    dist = Distributor(session_factory, workspace.id, clock=FrozenClock(T0))
    dist.load()
    first = task(session_factory, workspace.id)
    dist.on_tasks([first])
    assert assignee(session_factory, first) == a
    finish(session_factory, first)
    second = task(session_factory, workspace.id)
    dist.on_agents([a])
    dist.on_tasks([second])
    assert assignee(session_factory, second) is None  # the waiting item holds the slot
    assert dist.agents[a].load == {"x": 1}
    with session_factory() as s:
        assert repo.agent_loads(s, workspace.id) == {a: {"x": 1}}
        assert repo.over_capacity(s, workspace.id) == []
    # Picking by hand meets the same count (and may go one over, once).
    with unit_of_work(session_factory) as s, pytest.raises(service.AtCapacity):
        service.assign_to_me(s, workspace.id, second, a, T0)
    # The team turns the rule off: the slot is free at once.
    set_rule(session_factory, workspace.id, "Care", False)
    dist.on_agents([a])
    assert assignee(session_factory, second) == a and status(session_factory, second) == "assigned"


def test_a_distributor_in_another_process_learns_the_rule_on_its_agents_refresh(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    a = agent(session_factory, workspace.id, "A", capacity={"x": 1})
    clock = FrozenClock(T0)
    other = Distributor(session_factory, workspace.id, clock=clock)
    other.load()  # loaded before the rule
    first = task(session_factory, workspace.id)
    other.on_tasks([first])
    finish(session_factory, first)
    set_rule(session_factory, workspace.id, "Care", True)  # told to this process only
    clock.advance(other.agents_refresh_every)
    other.sync()
    assert other.agents[a].load == {"x": 1}
    second = task(session_factory, workspace.id)
    other.sync()
    other.distribute()
    assert assignee(session_factory, second) is None


def test_admins_set_the_rule_per_team_through_the_api(
    engine: Engine, workspace: Workspace, session_factory: sessionmaker[Session]
) -> None:
    from tests.routing.test_api import client_for

    with session_factory() as s:
        care = team(s, workspace.id, "Care")
        s.commit()
    body = {"waiting_holds_slot": True}
    agent_client = client_for(engine, workspace, "agent")
    assert agent_client.put(f"/api/v1/teams/{care}/capacity", json=body).status_code == 403
    admin = client_for(engine, workspace, "admin")
    assert admin.put(f"/api/v1/teams/{care}/capacity", json=body).status_code == 204
    assert admin.put("/api/v1/teams/999999/capacity", json=body).status_code == 404
    with session_factory() as s:
        assert repo.agents_holding_waiting(s, workspace.id) == set()  # nobody in it yet
        assert repo.waiting_holds_slot(s.get(Team, care).settings)  # type: ignore[union-attr]
