"""What agents do by hand: presence, picking from the team's list, transfers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.conversations import actions
from socialdesk.core.db import unit_of_work
from socialdesk.core.errors import Conflict, InvalidInput, NotFound
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task, TaskAssignment
from socialdesk.people.models import User
from socialdesk.routing import service
from socialdesk.routing.selection import TaskView, order_tasks
from tests.routing.factories import T0, agent, assignee, held, status, task, team


def test_set_presence_validates_and_is_scoped_to_the_workspace(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    a = agent(session_factory, workspace.id, "A", presence="offline")
    with unit_of_work(session_factory) as s:
        service.set_presence(s, workspace.id, a, "online", T0)
    with session_factory() as s:
        user = s.get(User, a)
        assert user is not None and user.presence == "online"
        assert user.presence_changed_at == T0
    with session_factory() as s, pytest.raises(InvalidInput, match="presence must be one of"):
        service.set_presence(s, workspace.id, a, "busy", T0)
    with session_factory() as s, pytest.raises(NotFound):
        service.set_presence(s, workspace.id + 1, a, "away", T0)


def test_an_agent_picks_from_the_team_list_but_not_a_task_someone_holds(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    a = agent(session_factory, workspace.id, "A")
    b = agent(session_factory, workspace.id, "B")
    t = task(session_factory, workspace.id, priority=30)
    low = task(session_factory, workspace.id, priority=5)
    with session_factory() as s:
        listed = service.team_list(s, workspace.id, a, T0)
    assert [item.task_id for item in listed] == [t, low]
    with unit_of_work(session_factory) as s:
        service.assign_to_me(s, workspace.id, t, a, T0)
    assert assignee(session_factory, t) == a
    with session_factory() as s, pytest.raises(Conflict, match="no longer open"):
        service.assign_to_me(s, workspace.id, t, b, T0)
    with session_factory() as s:
        reason = s.scalars(select(TaskAssignment.reason)).one()
    assert reason == "picked"


def test_picking_respects_capacity_and_queues(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    a = agent(session_factory, workspace.id, "A", capacity={"x": 1})
    first, second = task(session_factory, workspace.id), task(session_factory, workspace.id)
    promo = task(session_factory, workspace.id, queue="marketing")
    with unit_of_work(session_factory) as s:
        service.assign_to_me(s, workspace.id, first, a, T0)
    with session_factory() as s, pytest.raises(Conflict, match="no free x slot"):
        service.assign_to_me(s, workspace.id, second, a, T0)
    with session_factory() as s, pytest.raises(Conflict, match="marketing list"):
        service.assign_to_me(s, workspace.id, promo, a, T0)
    assert held(session_factory, a) == 1


def test_transfer_to_a_person_moves_the_task_and_keeps_the_history(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    a = agent(session_factory, workspace.id, "A")
    b = agent(session_factory, workspace.id, "B")
    t = task(session_factory, workspace.id)
    with unit_of_work(session_factory) as s:
        service.assign_to_me(s, workspace.id, t, a, T0)
    with unit_of_work(session_factory) as s:
        service.transfer_to_user(s, workspace.id, t, b, T0)
    assert assignee(session_factory, t) == b and held(session_factory, a) == 0
    with session_factory() as s:
        history = s.scalars(select(TaskAssignment).order_by(TaskAssignment.id)).all()
    assert [(h.user_id, h.reason, h.release_reason) for h in history] == [
        (a, "picked", "transferred"),
        (b, "transfer", None),
    ]


def test_a_failed_transfer_changes_nothing(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    a = agent(session_factory, workspace.id, "A")
    full = agent(session_factory, workspace.id, "Full", capacity={"x": 1})
    busy = task(session_factory, workspace.id)
    t = task(session_factory, workspace.id)
    with unit_of_work(session_factory) as s:
        service.assign_to_me(s, workspace.id, busy, full, T0)
        service.assign_to_me(s, workspace.id, t, a, T0)
    with pytest.raises(Conflict), unit_of_work(session_factory) as s:
        service.transfer_to_user(s, workspace.id, t, full, T0)
    assert assignee(session_factory, t) == a and status(session_factory, t) == "assigned"


def test_transfer_to_a_team_puts_the_task_in_that_teams_list(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    a = agent(session_factory, workspace.id, "A")
    seller = agent(session_factory, workspace.id, "S", teams=(("Sales", "sales"),))
    t = task(session_factory, workspace.id)
    with unit_of_work(session_factory) as s:
        service.assign_to_me(s, workspace.id, t, a, T0)
        sales = team(s, workspace.id, "Sales", "sales")
    with unit_of_work(session_factory) as s:
        service.transfer_to_team(s, workspace.id, t, sales, T0)
    with session_factory() as s:
        row = s.get(Task, t)
        assert row is not None
        assert (row.status, row.assignee_id, row.team_id, row.queue) == (
            "open",
            None,
            sales,
            "sales",
        )
        assert [i.task_id for i in service.team_list(s, workspace.id, seller, T0)] == [t]
        assert service.team_list(s, workspace.id, a, T0) == []


def test_release_puts_a_task_back_and_only_its_holder_may(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    a = agent(session_factory, workspace.id, "A")
    b = agent(session_factory, workspace.id, "B")
    t = task(session_factory, workspace.id)
    with unit_of_work(session_factory) as s:
        service.assign_to_me(s, workspace.id, t, a, T0)
    with session_factory() as s, pytest.raises(Conflict, match="not assigned to you"):
        service.release(s, workspace.id, t, b, T0)
    with unit_of_work(session_factory) as s:
        service.release(s, workspace.id, t, a, T0)
    assert status(session_factory, t) == "open" and assignee(session_factory, t) is None


def test_agents_are_set_up_with_skills_capacity_and_teams(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with unit_of_work(session_factory) as s:
        user = service.upsert_agent(
            s,
            workspace.id,
            "Dana@Acme.test",
            "Dana",
            languages=["EN", "fr "],
            topics=["billing"],
            capacity={"x": 4, "email": 6},
            teams=(("Care", "care"), ("Sales", "sales")),
        )
        user_id = user.id
    with session_factory() as s:
        stored = s.get(User, user_id)
        assert stored is not None
        assert (stored.email, stored.languages, stored.capacity) == (
            "dana@acme.test",
            ["en", "fr"],
            {"x": 4, "email": 6},
        )
    with session_factory() as s, pytest.raises(InvalidInput, match="unknown channel 'fax'"):
        service.set_skills(s, workspace.id, user_id, capacity={"fax": 1})
    with session_factory() as s, pytest.raises(InvalidInput, match="team kind"):
        service.create_team(s, workspace.id, "Legal", "lawyers")


def test_the_team_list_follows_the_distributors_order_not_the_stored_priority(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    """One order everywhere: what the distributor would hand out first is listed first."""

    a = agent(session_factory, workspace.id, "A")
    fresh = task(session_factory, workspace.id, priority=54, minutes_waiting=0)
    nearly_due = task(session_factory, workspace.id, priority=50, minutes_waiting=29)
    forgotten = task(
        session_factory, workspace.id, priority=5, minutes_waiting=13 * 60
    )  # overdue by more than the 12-hour rescue time
    cheap = [task(session_factory, workspace.id, priority=1) for _ in range(3)]
    with session_factory() as s:
        listed = [i.task_id for i in service.team_list(s, workspace.id, a, T0, limit=3)]
        rows = s.scalars(select(Task)).all()
    views = [
        TaskView(r.id, r.channel, r.waiting_since, priority=r.priority, due_at=r.due_at)
        for r in rows
    ]
    expected = [t.id for t in order_tasks(views, T0)][:3]
    assert listed == expected == [forgotten, nearly_due, fresh]
    assert not set(cheap) & set(listed)
    # The top value class (55 points and more) comes before all of them, the longest
    # waiting first, however many more valuable ones arrived since.
    oldest_top = task(session_factory, workspace.id, priority=56, minutes_waiting=20)
    newer_top = [
        task(session_factory, workspace.id, priority=95, minutes_waiting=1) for _ in range(3)
    ]
    with session_factory() as s:
        listed = [i.task_id for i in service.team_list(s, workspace.id, a, T0, limit=3)]
    assert listed == [oldest_top, *newer_top[:2]]


def test_resolving_the_case_ends_the_agents_holding_of_it(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    a = agent(session_factory, workspace.id, "A")
    t = task(session_factory, workspace.id)
    with unit_of_work(session_factory) as s:
        service.assign_to_me(s, workspace.id, t, a, T0)
    later = T0 + timedelta(minutes=12)
    with unit_of_work(session_factory) as s:
        row = s.get(Task, t)
        actor = s.get(User, a)
        assert row is not None and actor is not None
        actions.resolve(
            s,
            workspace_id=workspace.id,
            conversation_id=row.conversation_id,
            actor=actor,
            clock=lambda: later,
        )
    with session_factory() as s:
        holding = s.scalars(select(TaskAssignment)).one()
    assert holding.release_reason == "resolved"
    assert holding.released_at is not None
    assert holding.released_at.replace(tzinfo=None) == later.replace(tzinfo=None)
