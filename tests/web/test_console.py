"""The agent console: the inbox order, the case view, and what agents do to a case."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.conversations.action_models import Notification
from socialdesk.conversations.models import Conversation
from socialdesk.core.clock import FrozenClock
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task, TaskStatus
from socialdesk.knowledge.service import save_article, save_canned_reply
from socialdesk.people.models import Team, User
from tests.web.conftest import START, add_user, sign_in
from tests.web.factories import make_case


def _order(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'class="item [^"]*" data-id="(\d+)"', html)]


def test_the_inbox_puts_the_most_valuable_item_first_with_its_badges(
    client: TestClient, agent: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        low, _, _ = make_case(s, workspace.id, text="just saying hi", at=START, value=5)
        high, _, _ = make_case(
            s,
            workspace.id,
            text="My internet is down for 3 days\nsecond line is hidden",
            at=START + timedelta(minutes=1),
            value=80,
            channel="facebook",
            name="Grace Hopper",
            tier="gold",
        )
        s.commit()
    sign_in(client, agent.email)
    html = client.get("/console").text
    assert _order(html) == [high.id, low.id]
    assert '<span id="inbox-count">2</span> open items' in html
    assert "My internet is down for 3 days" in html
    assert "second line is hidden" not in html
    assert "Grace Hopper" in html and ">gold<" in html and "ch-facebook" in html
    assert 'data-due="2026-11-23T09:31:00Z"' in html


def test_the_countdown_turns_amber_then_red_as_the_due_time_nears(
    client: TestClient,
    agent: User,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    clock: FrozenClock,
) -> None:
    with session_factory() as s:
        make_case(
            s, workspace.id, text="where is my parcel", at=START, due_in=timedelta(minutes=40)
        )
        s.commit()
    sign_in(client, agent.email)
    assert "item sla-ok" in client.get("/console/inbox").text
    clock.advance(timedelta(minutes=31))
    assert "item sla-warn" in client.get("/console/inbox").text
    clock.advance(timedelta(minutes=10))
    assert "item sla-breach" in client.get("/console/inbox").text


def test_assign_to_me_takes_the_item_and_a_colleague_cannot_take_it_too(
    client: TestClient,
    agent: User,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    app: object,
) -> None:
    other = add_user(session_factory, workspace, "bo@acme.test", "agent", "Bo")
    with session_factory() as s:
        conv, _, _ = make_case(s, workspace.id, text="refund please", at=START)
        s.commit()
    token = sign_in(client, agent.email)
    assert (
        client.post(f"/console/c/{conv.id}/assign", data={"csrf_token": token}).status_code == 200
    )
    with session_factory() as s:
        task = s.scalars(select(Task)).one()
        assert task.assignee_id == agent.id and task.status == TaskStatus.ASSIGNED
    client.cookies.clear()
    token = sign_in(client, other.email)
    taken = client.post(f"/console/c/{conv.id}/assign", data={"csrf_token": token})
    assert taken.status_code == 409
    assert "already taken by Ana Agent" in taken.text
    mine = client.get("/console?scope=mine").text
    assert _order(mine) == []


def test_resolve_then_reopen_a_case(
    client: TestClient, agent: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        conv, _, _ = make_case(s, workspace.id, text="thanks, fixed", at=START)
        s.commit()
    token = sign_in(client, agent.email)
    client.post(f"/console/c/{conv.id}/resolve", data={"csrf_token": token})
    assert _order(client.get("/console/inbox").text) == []
    page = client.get(f"/console/c/{conv.id}").text
    assert 'id="case-status">resolved<' in page and "resolved" in page
    client.post(f"/console/c/{conv.id}/reopen", data={"csrf_token": token})
    with session_factory() as s:
        assert s.get(Conversation, conv.id).status == "open"  # type: ignore[union-attr]
        task = s.scalars(select(Task)).one()
        assert task.status == TaskStatus.ASSIGNED and task.reopen_count == 1
    assert _order(client.get("/console/inbox?scope=mine").text) == [conv.id]


def test_snoozed_cases_leave_the_list_until_their_time(
    client: TestClient,
    agent: User,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    clock: FrozenClock,
) -> None:
    with session_factory() as s:
        conv, _, _ = make_case(s, workspace.id, text="call me tomorrow", at=START)
        s.commit()
    token = sign_in(client, agent.email)
    client.post(f"/console/c/{conv.id}/snooze", data={"csrf_token": token, "minutes": "120"})
    assert _order(client.get("/console/inbox").text) == []
    clock.advance(timedelta(minutes=121))
    assert _order(client.get("/console/inbox").text) == [conv.id]


def test_a_note_with_a_mention_notifies_the_colleague_and_stays_internal(
    client: TestClient, agent: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    colleague = add_user(session_factory, workspace, "bo@acme.test", "agent", "Bo Builder")
    with session_factory() as s:
        conv, _, _ = make_case(s, workspace.id, text="my bill doubled", at=START)
        s.commit()
    token = sign_in(client, agent.email)
    client.post(
        f"/console/c/{conv.id}/note",
        data={"csrf_token": token, "text": "@bo can you check billing? cc nobody@example.com"},
    )
    page = client.get(f"/console/c/{conv.id}").text
    assert "internal note" in page and "can you check billing?" in page
    with session_factory() as s:
        notes = s.scalars(select(Notification)).all()
        assert [(n.user_id, n.conversation_id) for n in notes] == [(colleague.id, conv.id)]
    client.cookies.clear()
    sign_in(client, colleague.email)
    mentions = client.get("/console/notifications").text
    assert "Ana Agent mentioned you in a note" in mentions
    assert f"/console/c/{conv.id}" in mentions


def test_transfer_to_a_team_puts_the_item_back_in_that_teams_list(
    client: TestClient, agent: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        sales = Team(workspace_id=workspace.id, name="Sales", kind="sales", settings={})
        s.add(sales)
        conv, _, _ = make_case(
            s, workspace.id, text="I want to upgrade", at=START, assignee_id=agent.id
        )
        s.commit()
        sales_id = sales.id
    token = sign_in(client, agent.email)
    client.post(
        f"/console/c/{conv.id}/transfer", data={"csrf_token": token, "target": f"t:{sales_id}"}
    )
    with session_factory() as s:
        task = s.scalars(select(Task)).one()
        assert (task.team_id, task.queue, task.assignee_id, task.status) == (
            sales_id,
            "sales",
            None,
            TaskStatus.OPEN,
        )
    assert _order(client.get("/console/inbox").text) == []


def test_a_canned_reply_comes_with_its_placeholders_filled(
    client: TestClient, agent: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        conv, _, _ = make_case(s, workspace.id, text="my refund is late", at=START, name="Lin")
        canned = save_canned_reply(
            s,
            workspace_id=workspace.id,
            shortcut="sorry",
            title="Apology",
            body="Hi {customer_name}, {agent_name} here. Order {order_number}?",
        )
        save_article(
            s,
            workspace_id=workspace.id,
            title="How refunds work",
            url="https://help.acme.test/refunds",
            body="Refund timelines and status.",
        )
        s.commit()
    sign_in(client, agent.email)
    page = client.get(f"/console/c/{conv.id}").text
    assert "/sorry · Apology" in page
    assert "How refunds work" in page  # suggested for a message about a refund
    filled = client.get(f"/console/c/{conv.id}/canned/{canned.id}").json()
    assert filled == {"text": "Hi Lin, Ana Agent here. Order {order_number}?"}


def test_hostile_text_is_escaped_in_every_screen(
    client: TestClient,
    supervisor: User,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    payload = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    with session_factory() as s:
        conv, _, _ = make_case(
            s, workspace.id, text=payload, at=START, name='"><svg onload=alert(3)>'
        )
        s.commit()
    sign_in(client, supervisor.email)
    for url in ("/console", f"/console/c/{conv.id}", "/console?scope=all"):
        html = client.get(url).text
        assert (
            "<script>alert" not in html and "<img src=x" not in html and "<svg onload" not in html
        )
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    response = client.get("/console")
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_the_dashboard_counts_a_resolution_at_once(
    client: TestClient,
    supervisor: User,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    with session_factory() as s:
        conv, _, _ = make_case(s, workspace.id, text="sorted, thanks", at=START)
        s.commit()
    token = sign_in(client, supervisor.email)

    def resolved() -> int:
        html = client.get("/dashboard/live").text
        match = re.search(r'id="resolved-24h">(\d+)<', html)
        assert match
        return int(match.group(1))

    assert resolved() == 0
    client.post(f"/console/c/{conv.id}/resolve", data={"csrf_token": token})
    assert resolved() == 1


def test_why_is_this_first_follows_the_ordering_rule_as_time_passes(
    client: TestClient,
    agent: User,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    clock: FrozenClock,
) -> None:
    with session_factory() as s:
        conv, _, _ = make_case(s, workspace.id, text="no signal", at=START, value=40)
        s.commit()
    sign_in(client, agent.email)

    def why() -> str:
        page = client.get(f"/console/c/{conv.id}").text
        return page[page.index('id="why"') : page.index("</p>", page.index('id="why"'))]

    assert "Ordered by value." in why()
    clock.advance(timedelta(minutes=15))  # half the 30-minute target: 2.5 of 10 points
    assert ">42.5<" in why() and "2.5 of 10 points of time pressure" in why()
    clock.advance(timedelta(hours=2))
    assert ">50.0<" in why() and "stays in value order among overdue items" in why()
    clock.advance(timedelta(hours=11))  # overdue by more than the 12-hour rescue time
    client.cookies.clear()
    sign_in(client, agent.email)  # the sign-in of the morning has expired
    assert ">rescued<" in why() and "served before every other item" in why()


def test_why_is_this_first_names_the_top_value_class(
    client: TestClient, agent: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        conv, _, _ = make_case(s, workspace.id, text="outage again", at=START, value=80)
        s.commit()
    sign_in(client, agent.email)
    page = client.get(f"/console/c/{conv.id}").text
    why = page[page.index('id="why"') : page.index("</p>", page.index('id="why"'))]
    assert ">top class<" in why and "In the top value class (worth 55 points or more)" in why


def test_the_inbox_follows_the_distributors_order_not_the_stored_priority(
    client: TestClient,
    agent: User,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    clock: FrozenClock,
) -> None:
    with session_factory() as s:
        nearly_due, _, _ = make_case(s, workspace.id, text="still waiting", at=START, value=50)
        s.commit()
    clock.advance(timedelta(minutes=29))
    with session_factory() as s:
        fresh, _, _ = make_case(s, workspace.id, text="hello", at=clock(), value=54)
        s.commit()
    sign_in(client, agent.email)
    # 50 plus 9.3 points of time pressure a minute before its due time passes 54 (both
    # below the top value class, which would come first, oldest first).
    assert _order(client.get("/console").text) == [nearly_due.id, fresh.id]


def test_assign_to_me_when_full_offers_one_item_over_capacity_once(
    client: TestClient, agent: User, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        for n in range(3):  # capacity on X is 3
            make_case(s, workspace.id, text=f"held {n}", at=START, assignee_id=agent.id)
        _, answered, _ = make_case(s, workspace.id, text="answered", at=START, assignee_id=agent.id)
        answered.status = TaskStatus.PENDING  # waiting on the customer: holds no slot
        first, _, _ = make_case(s, workspace.id, text="urgent one", at=START)
        second, _, _ = make_case(s, workspace.id, text="and another", at=START)
        s.commit()
    token = sign_in(client, agent.email)
    full = client.post(f"/console/c/{first.id}/assign", data={"csrf_token": token})
    assert full.status_code == 409
    assert "no free x slot (3 of 3 in use)" in full.text
    assert 'name="exceed" value="true"' in full.text and 'id="exceed-once"' in full.text
    taken = client.post(
        f"/console/c/{first.id}/assign", data={"csrf_token": token, "exceed": "true"}
    )
    assert taken.status_code == 200
    with session_factory() as s:
        task = s.scalars(select(Task).where(Task.conversation_id == first.id)).one()
        assert task.assignee_id == agent.id and task.status == TaskStatus.ASSIGNED
    again = client.post(
        f"/console/c/{second.id}/assign", data={"csrf_token": token, "exceed": "true"}
    )
    assert again.status_code == 409
    assert "already holds one x item over capacity" in again.text
