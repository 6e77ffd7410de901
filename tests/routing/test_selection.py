"""Choosing the agent for a task, and the order of the work list."""

from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from socialdesk.routing.selection import (
    AgentView,
    Presence,
    RoutingPolicy,
    TaskView,
    choose_agent,
    choose_task,
    order_tasks,
    plan_assignments,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def agent(agent_id: int, **overrides: object) -> AgentView:
    fields: dict[str, object] = {
        "capacity": MappingProxyType({"x": 3, "email": 5}),
        "idle_since": NOW - timedelta(minutes=5),
    }
    fields.update(overrides)
    return AgentView(agent_id, **fields)  # type: ignore[arg-type]


def task(task_id: int = 1, **overrides: object) -> TaskView:
    fields: dict[str, object] = {"channel": "x", "waiting_since": NOW - timedelta(minutes=1)}
    fields.update(overrides)
    return TaskView(task_id, **fields)  # type: ignore[arg-type]


def chosen(t: TaskView, agents: list[AgentView], policy: RoutingPolicy = RoutingPolicy()) -> int:
    selection = choose_agent(t, agents, NOW, policy)
    assert selection is not None
    return selection.agent_id


def test_only_online_agents_with_a_free_slot_on_the_channel_are_chosen() -> None:
    agents = [
        agent(1, presence=Presence.AWAY),
        agent(2, presence=Presence.OFFLINE),
        agent(3, load={"x": 3}),
        agent(4, capacity={"email": 5}),  # does not work X
        agent(5, load={"x": 2}),
    ]
    assert chosen(task(), agents) == 5
    assert choose_agent(task(), agents[:4], NOW) is None


def test_marketing_and_sales_items_never_land_with_care() -> None:
    care = agent(1, queues=frozenset({"care"}))
    marketing = agent(2, queues=frozenset({"marketing"}), load={"x": 2})
    assert chosen(task(queue="marketing"), [care, marketing]) == 2
    assert choose_agent(task(queue="sales"), [care, marketing], NOW) is None
    assert chosen(task(queue="care"), [care, marketing]) == 1


def test_a_task_transferred_to_a_team_goes_only_to_its_members() -> None:
    agents = [agent(1, team_ids=frozenset({10})), agent(2, team_ids=frozenset({20}))]
    assert chosen(task(team_id=20), agents) == 2


def test_languages_topics_and_tiers_must_match() -> None:
    agents = [
        agent(1, languages=frozenset({"en"}), topics=frozenset({"billing"})),
        agent(2, languages=frozenset({"fr", "en"}), topics=frozenset({"network"})),
        agent(3, languages=frozenset({"en"}), tiers=frozenset({"standard"})),
    ]
    assert chosen(task(language="fr"), agents) == 2
    assert chosen(task(topic="network", language="en"), agents) == 2
    assert chosen(task(customer_tier="vip", topic="billing"), agents) == 1
    assert choose_agent(task(language="de", topic="billing"), agents[:1], NOW) is None


def test_the_best_fit_wins_over_a_generalist() -> None:
    generalist = agent(1, idle_since=NOW - timedelta(hours=2))
    specialist = agent(2, topics=frozenset({"billing"}), load={"x": 2})
    assert chosen(task(topic="billing"), [generalist, specialist]) == 2


def test_ties_go_to_the_least_loaded_then_the_longest_idle() -> None:
    busy = agent(1, load={"x": 2}, idle_since=NOW - timedelta(hours=1))
    calm = agent(2, load={"x": 1}, idle_since=NOW - timedelta(minutes=1))
    calm_and_idle = agent(3, load={"x": 1}, idle_since=NOW - timedelta(minutes=30))
    never_assigned = agent(4, load={"x": 1}, idle_since=None)
    assert chosen(task(), [busy, calm]) == 2
    assert chosen(task(), [busy, calm, calm_and_idle]) == 3
    assert chosen(task(), [busy, calm, calm_and_idle, never_assigned]) == 4


def test_a_returning_customer_goes_back_to_their_agent_if_free() -> None:
    agents = [agent(1), agent(2, load={"x": 2})]
    selection = choose_agent(task(last_agent_id=2), agents, NOW)
    assert selection is not None and selection.agent_id == 2 and selection.sticky
    full = [agent(1), agent(2, load={"x": 3})]
    assert chosen(task(last_agent_id=2), full) == 1
    assert chosen(task(last_agent_id=2), agents, RoutingPolicy(sticky=False)) == 1


def test_after_the_overflow_wait_skill_requirements_widen() -> None:
    network_only = agent(1, topics=frozenset({"network"}), languages=frozenset({"en"}))
    fresh = task(topic="billing", language="en", waiting_since=NOW - timedelta(minutes=2))
    stale = task(topic="billing", language="en", waiting_since=NOW - timedelta(minutes=11))
    policy = RoutingPolicy(overflow_after=timedelta(minutes=10))
    assert choose_agent(fresh, [network_only], NOW, policy) is None
    selection = choose_agent(stale, [network_only], NOW, policy)
    assert selection is not None and selection.widened
    # Languages stay required unless the policy widens them too.
    spanish = task(language="es", waiting_since=NOW - timedelta(hours=1))
    assert choose_agent(spanish, [network_only], NOW, policy) is None
    wide = RoutingPolicy(overflow_languages_after=timedelta(minutes=30))
    assert choose_agent(spanish, [network_only], NOW, wide) is not None
    # A strict match is still preferred to a widened one.
    billing = agent(2, topics=frozenset({"billing"}), load={"x": 2})
    assert chosen(stale, [network_only, billing], policy) == 2


def test_the_work_list_puts_the_highest_effective_priority_first() -> None:
    # About to breach, it passes fresh items worth up to the pressure weight (10) more.
    # (All below the top value class, 55, which comes first oldest first: see below.)
    low_old = task(
        1,
        priority=45.0,
        waiting_since=NOW - timedelta(minutes=29),
        due_at=NOW + timedelta(minutes=1),
    )
    high_new = task(2, priority=50.0, waiting_since=NOW, due_at=NOW + timedelta(minutes=30))
    mid = task(3, priority=30.0, waiting_since=NOW, due_at=NOW + timedelta(minutes=30))
    assert [t.id for t in order_tasks([mid, high_new, low_old], NOW)] == [1, 2, 3]
    # Without time pressure, pure value.
    early = NOW - timedelta(minutes=29)
    assert [t.id for t in order_tasks([mid, low_old, high_new], early)] == [2, 1, 3]


def test_the_top_value_class_goes_first_oldest_first_and_can_be_switched_off() -> None:
    breached = task(
        1, priority=54.0, waiting_since=NOW - timedelta(hours=2), due_at=NOW - timedelta(hours=1)
    )
    top_new = task(2, priority=90.0, waiting_since=NOW, due_at=NOW + timedelta(minutes=30))
    top_old = task(3, priority=56.0, waiting_since=NOW - timedelta(minutes=5))
    assert [t.id for t in order_tasks([breached, top_new, top_old], NOW)] == [3, 2, 1]
    off = RoutingPolicy(top_class_from=None)
    assert [t.id for t in order_tasks([breached, top_new, top_old], NOW, off)] == [2, 1, 3]


def test_equal_priorities_are_served_oldest_first() -> None:
    older = task(7, priority=20.0, waiting_since=NOW - timedelta(minutes=5))
    newer = task(3, priority=20.0, waiting_since=NOW - timedelta(minutes=1))
    assert [t.id for t in order_tasks([newer, older], NOW)] == [7, 3]


def test_an_agent_with_a_free_slot_takes_the_most_urgent_task_it_may_take() -> None:
    me = agent(1, topics=frozenset({"billing"}), load={"x": 3})
    tasks = [
        task(1, priority=90.0, topic="network"),
        task(2, priority=50.0, topic="billing", channel="email"),
        task(3, priority=70.0, topic="billing"),  # X, but my X slots are full
        task(4, priority=30.0),
    ]
    picked = choose_task(me, tasks, NOW)
    assert picked is not None and picked.id == 2


def test_a_plan_never_exceeds_any_agents_capacity() -> None:
    agents = [agent(1, capacity={"x": 2}), agent(2, capacity={"x": 1})]
    tasks = [task(i, priority=float(i)) for i in range(1, 7)]
    plan = plan_assignments(tasks, agents, NOW)
    assert [t for t, _ in plan] == [6, 5, 4]
    per_agent = {a: sum(1 for _, x in plan if x == a) for a in (1, 2)}
    assert per_agent == {1: 2, 2: 1}
