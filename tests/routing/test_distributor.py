"""The distributor: the right agent, at once, within capacity, and never twice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.clock import FrozenClock
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task, TaskAssignment
from socialdesk.people.models import User
from socialdesk.routing.distributor import Distributor
from socialdesk.routing.selection import RoutingPolicy
from tests.routing.factories import T0, agent, assignee, finish, held, status, task


def make(
    factory: sessionmaker[Session], ws: Workspace, **kwargs: object
) -> tuple[Distributor, FrozenClock]:
    clock = FrozenClock(T0)
    return Distributor(factory, ws.id, clock=clock, **kwargs), clock  # type: ignore[arg-type]


def test_a_new_task_goes_at_once_to_the_free_agent_who_fits_best(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    generalist = agent(session_factory, workspace.id, "Gen")
    billing = agent(session_factory, workspace.id, "Bill", topics=["billing"])
    dist, _ = make(session_factory, workspace)
    dist.load()
    t = task(session_factory, workspace.id, topic="billing")
    claims = dist.on_tasks([t])
    assert [(c.task_id, c.user_id) for c in claims] == [(t, billing)]
    assert assignee(session_factory, t) == billing and status(session_factory, t) == "assigned"
    other = task(session_factory, workspace.id, topic="network")
    dist.on_tasks([other])
    assert assignee(session_factory, other) == generalist
    with session_factory() as s:
        history = s.scalars(select(TaskAssignment).order_by(TaskAssignment.id)).all()
        assert [(h.task_id, h.user_id, h.reason) for h in history] == [
            (t, billing, "auto"),
            (other, generalist, "auto"),
        ]
        assert s.get(User, billing).last_assigned_at == T0  # type: ignore[union-attr]
        assert s.get(Task, t).assigned_at == T0  # type: ignore[union-attr]
        assert s.scalars(select(Task.id).where(Task.assigned_at >= T0)).all() != []


def test_the_most_valuable_tasks_are_assigned_first_and_capacity_is_never_exceeded(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    a = agent(session_factory, workspace.id, "A", capacity={"x": 2})
    ids = [task(session_factory, workspace.id, priority=p) for p in (5, 50, 20, 80, 1)]
    dist, _ = make(session_factory, workspace)
    claims = dist.distribute()
    assert sorted(c.task_id for c in claims) == sorted([ids[1], ids[3]])
    assert held(session_factory, a) == 2
    assert dist.distribute() == []
    # A freed slot is filled at once with the next most valuable task.
    finish(session_factory, ids[3])
    claims = dist.on_agents([a])
    assert [c.task_id for c in claims] == [ids[2]]
    assert held(session_factory, a) == 2


def test_marketing_and_sales_items_stay_in_their_teams_queues(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    care = agent(session_factory, workspace.id, "Carla", capacity={"x": 5})
    seller = agent(
        session_factory, workspace.id, "Sam", capacity={"x": 5}, teams=(("Sales", "sales"),)
    )
    lead = task(session_factory, workspace.id, queue="sales", priority=90)
    promo = task(session_factory, workspace.id, queue="marketing", priority=95)
    question = task(session_factory, workspace.id, queue="care")
    dist, _ = make(session_factory, workspace)
    dist.distribute()
    assert assignee(session_factory, lead) == seller
    assert assignee(session_factory, question) == care
    assert assignee(session_factory, promo) is None  # no marketing agent: it waits for one
    assert status(session_factory, promo) == "open"


def test_presence_changes_trigger_distribution(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    a = agent(session_factory, workspace.id, "A", presence="away")
    t = task(session_factory, workspace.id)
    dist, _ = make(session_factory, workspace)
    assert dist.distribute() == []
    with session_factory() as s:
        s.execute(update(User).values(presence="online"))
        s.commit()
    assert [c.task_id for c in dist.on_agents([a])] == [t]


def test_a_returning_customer_goes_back_to_their_agent(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    agent(session_factory, workspace.id, "A", last_assigned_at=T0 - timedelta(hours=3))
    b = agent(session_factory, workspace.id, "B", last_assigned_at=T0)
    t = task(session_factory, workspace.id, last_agent_id=b)
    dist, _ = make(session_factory, workspace)
    dist.distribute()
    assert assignee(session_factory, t) == b


def test_overflow_widens_skills_after_the_configured_wait(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    agent(session_factory, workspace.id, "Net", topics=["network"])
    t = task(session_factory, workspace.id, topic="billing", minutes_waiting=1)
    policy = RoutingPolicy(overflow_after=timedelta(minutes=5))
    dist, clock = make(session_factory, workspace, policy=policy)
    assert dist.distribute() == []
    clock.advance(timedelta(minutes=4, seconds=1))
    assert [c.task_id for c in dist.distribute()] == [t]


def test_a_stale_view_loses_the_race_and_recovers(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    a = agent(session_factory, workspace.id, "A", capacity={"x": 1})
    b = agent(session_factory, workspace.id, "B", capacity={"x": 1})
    t1 = task(session_factory, workspace.id, priority=50)
    t2 = task(session_factory, workspace.id, priority=40)
    first, _ = make(session_factory, workspace)
    second, _ = make(session_factory, workspace)
    first.load()
    second.load()
    assert len(first.distribute()) == 2
    # The second distributor still believes both tasks are open and both agents free.
    assert second.distribute() == []
    assert second.stats.lost_races >= 1
    assert {assignee(session_factory, t1), assignee(session_factory, t2)} == {a, b}
    assert held(session_factory, a) == 1 and held(session_factory, b) == 1
    assert len(second.worklist) == 0


def test_sync_picks_up_tasks_and_freed_slots_changed_elsewhere(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    a = agent(session_factory, workspace.id, "A", capacity={"x": 1})
    dist, _ = make(session_factory, workspace)
    dist.load()
    t1 = task(session_factory, workspace.id)
    dist.sync()
    dist.distribute()
    assert assignee(session_factory, t1) == a
    t2 = task(session_factory, workspace.id)
    finish(session_factory, t1)
    dist.sync()
    dist.distribute()
    assert assignee(session_factory, t2) == a
    with session_factory() as s:
        assert s.scalar(select(Task.status).where(Task.id == t1)) == "pending"


def test_the_indexed_distributor_decides_exactly_like_the_reference_planner(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    """Same pairs as ``selection.plan_assignments`` over every agent and every task."""
    import random

    from socialdesk.routing.selection import plan_assignments

    rng = random.Random(3)
    ids = []
    for i in range(25):
        ids.append(
            agent(
                session_factory,
                workspace.id,
                f"A{i}",
                capacity={"x": rng.randint(0, 3), "email": rng.randint(1, 3)},
                teams=(("Care", "care"),) if i % 5 else (("Sales", "sales"),),
                languages=rng.choice([[], ["en"], ["en", "fr"], ["fr"]]),
                topics=rng.choice([[], ["billing"], ["network"], ["billing", "network"]]),
                tiers=rng.choice([[], [], ["gold"]]),
                last_assigned_at=T0 - timedelta(minutes=rng.randint(0, 300)),
                presence=rng.choice(["online", "online", "online", "away"]),
            )
        )
    for _ in range(150):
        task(
            session_factory,
            workspace.id,
            channel=rng.choice(["x", "email"]),
            priority=round(rng.uniform(0, 100), 2),
            minutes_waiting=rng.uniform(0, 40),
            queue=rng.choice(["care", "care", "sales"]),
            language=rng.choice([None, "en", "fr"]),
            topic=rng.choice([None, "billing", "network"]),
            customer_tier=rng.choice([None, "gold"]),
        )
    dist, _ = make(
        session_factory, workspace, policy=RoutingPolicy(sticky=False), batch_size=10_000
    )
    dist.load()
    agents = list(dist.agents.values())
    tasks = list(dist.worklist.tasks.values())
    expected = plan_assignments(tasks, agents, T0, dist.policy)
    got = [(c.task_id, c.user_id) for c in dist.plan(T0, 10_000)]
    assert len(expected) > 40
    assert got == expected


def test_the_work_list_orders_each_bucket_by_the_selection_order_key() -> None:
    """The work list's bucket heaps, rebuilt at a later time, agree with order_key."""
    import random

    from socialdesk.routing.selection import TaskView, order_key
    from socialdesk.routing.worklist import WorkList

    rng = random.Random(9)
    wl = WorkList(RoutingPolicy(overflow_after=None), rekey_every=timedelta(seconds=1))
    tasks = [
        TaskView(
            i,
            "x",
            T0 - timedelta(minutes=rng.uniform(0, 90)),
            priority=rng.uniform(0, 100),
            due_at=None if i % 7 == 0 else T0 + timedelta(minutes=rng.uniform(-60, 60)),
        )
        for i in range(1, 300)
    ]
    for t in tasks:
        wl.upsert(t, T0)
    later = T0 + timedelta(minutes=20)
    (key,) = list(wl.bucket_keys())
    order = []
    while (top := wl.top(key, later)) is not None:
        order.append(top.id)
        wl.remove(top.id)
    assert order == [t.id for t in sorted(tasks, key=lambda t: order_key(t, later))]


def test_a_task_committed_after_a_sync_with_an_earlier_change_time_is_still_assigned(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    # A worker's transaction stamps updated_at when it runs and commits later: by then the
    # distributor has looked past that time, so no time window can find the task.
    a = agent(session_factory, workspace.id, "A")
    dist, clock = make(session_factory, workspace)
    dist.load()
    clock.advance(timedelta(seconds=30))
    dist.sync()
    late = task(session_factory, workspace.id, now=T0)  # stamped T0, committed at T0+30s
    clock.advance(timedelta(seconds=1))
    dist.sync()
    dist.distribute()
    clock.advance(dist.sweep_every)
    dist.sync()
    dist.distribute()
    assert assignee(session_factory, late) == a


def test_a_slot_freed_by_a_late_commit_is_seen_by_the_sweep(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    a = agent(session_factory, workspace.id, "A", capacity={"x": 1})
    dist, clock = make(session_factory, workspace)
    dist.load()
    first = task(session_factory, workspace.id)
    dist.on_tasks([first])
    assert assignee(session_factory, first) == a
    clock.advance(timedelta(seconds=30))
    dist.sync()
    finish(session_factory, first)
    with session_factory() as s:  # the reply's transaction ran before the last look
        s.execute(update(Task).where(Task.id == first).values(updated_at=T0))
        s.commit()
    waiting = task(session_factory, workspace.id, now=clock())
    dist.on_tasks([waiting])
    assert assignee(session_factory, waiting) is None  # the view still sees A's slot taken
    clock.advance(dist.sweep_every)
    dist.sync()
    dist.distribute()
    assert assignee(session_factory, waiting) == a
