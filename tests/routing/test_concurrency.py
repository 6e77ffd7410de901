"""Never assigned twice: many distributors at once, each with its own (soon stale) view.

Runs on the suite's database (SQLite or PostgreSQL) and always on PostgreSQL too, with
threads and, on PostgreSQL, separate processes.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.clock import FrozenClock
from socialdesk.core.db import make_engine, make_session_factory
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task, TaskAssignment, TaskStatus
from socialdesk.people.models import User
from socialdesk.routing.distributor import Distributor
from socialdesk.routing.repository import over_capacity
from tests.routing.factories import T0, agent, finish, task

AGENTS = 12
CAPACITY = {"x": 3, "email": 2}
TASKS = 240
DISTRIBUTORS = 8
PICKERS = 3


def _seed(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        ws = Workspace(slug="race", name="Race")
        s.add(ws)
        s.commit()
        ws_id = ws.id
    for i in range(AGENTS):
        agent(factory, ws_id, f"Agent{i}", capacity=dict(CAPACITY), topics=["a"] if i % 3 else [])
    for i in range(TASKS):
        task(
            factory,
            ws_id,
            channel="x" if i % 3 else "email",
            priority=float(i % 17),
            topic="a" if i % 2 else None,
        )
    return ws_id


def _distribute_together(factory: sessionmaker[Session], ws_id: int) -> list[int]:
    # A timeout, and an abort by a thread that fails before it: a thread that never reaches
    # the barrier must fail the test, not leave the others waiting forever.
    barrier = threading.Barrier(DISTRIBUTORS + PICKERS, timeout=60)
    claimed: list[int] = []
    errors: list[BaseException] = []
    guard = threading.Lock()

    def run() -> None:
        try:
            dist = Distributor(factory, ws_id, clock=FrozenClock(T0), batch_size=4)
            dist.load()
            barrier.wait()
            for _ in range(3):
                done = dist.distribute()
                with guard:
                    claimed.extend(c.task_id for c in done)
                dist.sync()
        except BaseException as exc:
            barrier.abort()
            errors.append(exc)

    def pick_by_hand(agent_offset: int) -> None:
        """Agents picking from the list while the distributors run."""
        from socialdesk.core.db import unit_of_work
        from socialdesk.core.errors import Conflict
        from socialdesk.routing import service

        try:
            with factory() as s:
                users = sorted(s.scalars(select(User.id).where(User.workspace_id == ws_id)))
                tasks = list(s.scalars(select(Task.id).where(Task.workspace_id == ws_id)))
            barrier.wait()
            for n, task_id in enumerate(tasks[agent_offset::5][:20]):
                try:
                    with unit_of_work(factory) as s:
                        service.assign_to_me(
                            s, ws_id, task_id, users[(agent_offset + n) % len(users)], T0
                        )
                    with guard:
                        claimed.append(task_id)
                except Conflict:
                    pass  # taken already, or the agent is full or not in the task's queue
        except BaseException as exc:
            barrier.abort()
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(DISTRIBUTORS)]
    threads += [threading.Thread(target=pick_by_hand, args=(i,)) for i in range(PICKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a distributor or picker is stuck"
    assert not errors, errors
    return claimed


def _check(factory: sessionmaker[Session], ws_id: int, claimed: list[int]) -> None:
    # Every claim a distributor believed it won is a distinct task.
    assert max(Counter(claimed).values(), default=1) == 1
    with factory() as s:
        per_task = Counter(s.scalars(select(TaskAssignment.task_id)))
        assert max(per_task.values(), default=1) == 1
        assert over_capacity(s, ws_id) == []
        assigned = s.scalar(
            select(func.count()).select_from(Task).where(Task.status == TaskStatus.ASSIGNED)
        )
    slots = AGENTS * sum(CAPACITY.values())
    # Not a single slot is left unused while tasks wait (there are more tasks than slots).
    assert assigned == slots == len(claimed)


def _race(factory: sessionmaker[Session]) -> None:
    ws_id = _seed(factory)
    claimed = _distribute_together(factory, ws_id)
    _check(factory, ws_id, claimed)
    # Free some slots and race again for the next tasks.
    with factory() as s:
        done_now = list(
            s.scalars(select(Task.id).where(Task.status == TaskStatus.ASSIGNED).limit(20))
        )
    for task_id in done_now:
        finish(factory, task_id, T0 + timedelta(minutes=1))
    more = _distribute_together(factory, ws_id)
    with factory() as s:
        per_task = Counter(s.scalars(select(TaskAssignment.task_id)))
        assert max(per_task.values()) == 1
        assert over_capacity(s, ws_id) == []
    assert len(more) == 20


def test_concurrent_distributors_never_assign_a_task_twice_or_overfill_an_agent(
    session_factory: sessionmaker[Session],
) -> None:
    _race(session_factory)


def test_concurrent_distributors_on_postgresql(pg_engine: Engine) -> None:
    _race(make_session_factory(pg_engine))


def _process_worker(url: str, ws_id: int, start: object, out: object) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    dist = Distributor(factory, ws_id, clock=FrozenClock(T0), batch_size=4)
    dist.load()
    start.wait()  # type: ignore[attr-defined]
    claimed = [c.task_id for c in dist.distribute()]
    out.put(claimed)  # type: ignore[attr-defined]
    engine.dispose()


@pytest.mark.postgres
def test_distributor_processes_on_postgresql_never_assign_twice(pg_engine: Engine) -> None:
    factory = make_session_factory(pg_engine)
    ws_id = _seed(factory)
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    url = pg_engine.url.render_as_string(hide_password=False)
    procs = [ctx.Process(target=_process_worker, args=(url, ws_id, start, out)) for _ in range(4)]
    for p in procs:
        p.start()
    start.set()
    claimed: list[int] = []
    for _ in procs:
        claimed.extend(out.get(timeout=120))
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    _check(factory, ws_id, claimed)
