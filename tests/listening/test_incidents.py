"""Incidents from real traffic: grouping, bulk answers (once each), public posts, resolving."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.models import OutboxItem
from socialdesk.channels.registry import default_connectors
from socialdesk.conversations.models import Conversation, Message
from socialdesk.conversations.outbox_sender import OutboxSender
from socialdesk.core.errors import InvalidInput
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.listening import bulk, incidents, rule_service
from socialdesk.listening.models import ListeningMatch
from socialdesk.listening.rules import RuleSpec
from socialdesk.people.models import User
from tests.listening.conftest import NOW, SECRET, post

BURST = [
    "No signal at all since 8am #AcmeDown",
    "is anyone else's phone dead?? #acmedown",
    "third outage this month, I'm done #AcmeDown",
    "#AcmeDown my business line is down, customers can't reach me",
    "can't call my mum, #acmedown again",
]


def ingest_burst(pipeline: Pipeline, workspace: Workspace) -> None:
    events = [post(i, text, minutes=i) for i, text in enumerate(BURST)]
    events.append(post(50, "what time does the shop on Main St open?", minutes=2))
    events.append(post(51, "thanks for the quick help yesterday!", minutes=3))
    pipeline.ingest(workspace.id, events)


def conversation_of(session: Session, external_id: str) -> int:
    message = session.scalars(select(Message).where(Message.external_id == external_id)).one()
    return message.conversation_id


def test_rules_mark_mentions_and_leave_the_task_to_triage(
    pipeline: Pipeline, session_factory: sessionmaker[Session], workspace: Workspace, x_account: int
) -> None:
    with session_factory() as s:
        rule = rule_service.create_rule(
            s, workspace.id, RuleSpec(name="Brand", terms=["acme"]), user_id=None, now=NOW
        )
        s.commit()
        rule_id = rule.id
    pipeline.ingest(
        workspace.id,
        [
            post(1, "acme lost my parcel and nobody answers", minutes=1),
            post(2, "@AcmeCare acme lost my parcel", minutes=2),
            post(3, "acme, where is my refund?", minutes=3, private=True),
            post(4, "the weather is lovely", minutes=4),
        ],
    )
    with session_factory() as s:
        matches = {
            s.get(Message, m.message_id).external_id: m  # type: ignore[union-attr]
            for m in s.scalars(select(ListeningMatch))
        }
        assert sorted(matches) == ["p1", "p2", "p3"]
        assert matches["p1"].mention and matches["p1"].rule_ids == [rule_id]
        assert not matches["p2"].mention  # addressed to our handle
        assert not matches["p3"].mention  # a private message to us
        # The complaint needs a response: a task, like any message triage says needs one.
        conv = conversation_of(s, "p1")
        assert s.scalars(select(Task).where(Task.conversation_id == conv)).one_or_none()


def test_an_incident_groups_a_burst_and_answers_each_customer_once(
    pipeline: Pipeline,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    supervisor: User,
    x_account: int,
) -> None:
    ingest_burst(pipeline, workspace)
    with session_factory() as s:
        incident = incidents.open_incident(
            s,
            workspace.id,
            title="Network outage",
            criteria={"hashtags": ["#AcmeDown"]},
            now=NOW,
            user_id=supervisor.id,
        )
        s.commit()
        members = incidents.view(s, workspace.id, incident.id).members
        assert sorted(m.text for m in members) == sorted(BURST)
        removed = members[0]
        incidents.remove_message(
            s, workspace.id, incident.id, removed.message_id, user_id=supervisor.id, now=NOW
        )
        s.commit()
        user = s.get(User, supervisor.id)
        assert user is not None
        first = bulk.bulk_reply(
            s,
            workspace.id,
            incident.id,
            user=user,
            template="Hi {customer_name}, we know about the outage and are fixing it. ({case_id})",
            now=NOW,
        )
        s.commit()
        assert len(first.sent) == 4 and not first.failed
        assert removed.conversation_id not in first.sent
        again = bulk.bulk_reply(
            s, workspace.id, incident.id, user=user, template="Hi again", now=NOW
        )
        s.commit()
        assert again.sent == [] and sorted(again.skipped) == sorted(first.sent)
        # A person puts the message back: only that customer is answered now.
        incidents.add_message(
            s, workspace.id, incident.id, removed.message_id, user_id=supervisor.id, now=NOW
        )
        last = bulk.bulk_reply(
            s, workspace.id, incident.id, user=user, template="Hi {customer_name}", now=NOW
        )
        s.commit()
        assert last.sent == [removed.conversation_id]
        replies = s.scalars(select(Message).where(Message.direction == "outbound")).all()
        assert len(replies) == 5
        conv = s.get(Conversation, first.sent[0])
        assert conv is not None
        name = s.scalars(
            select(Message.text).where(
                Message.conversation_id == conv.id, Message.direction == "outbound"
            )
        ).one()
        assert name.startswith("Hi User") and name.endswith(f"({conv.id})")
        keys = s.scalars(select(OutboxItem.idempotency_key)).all()
        assert len(set(keys)) == 5

    report = OutboxSender(session_factory, default_connectors(), secret_key=SECRET).run_once()
    assert report.sent == 5
    with session_factory() as s:
        v = incidents.view(s, workspace.id, incident.id)
        assert {m.reply_state for m in v.members} == {"sent"}
        assert v.replies == {"sent": 5}
        assert v.authors == 5 and v.sentiment.get("negative", 0) >= 3
        kinds = [kind for _, kind, _, _ in v.timeline]
        assert kinds == [
            "opened",
            "message_removed",
            "bulk_reply",
            "bulk_reply",
            "message_added",
            "bulk_reply",
        ]
        assert {who for _, kind, who, _ in v.timeline if kind != "opened"} == {"Sam"}


def test_a_subset_outside_the_incident_is_refused(
    pipeline: Pipeline,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    supervisor: User,
    x_account: int,
) -> None:
    ingest_burst(pipeline, workspace)
    with session_factory() as s:
        incident = incidents.open_incident(
            s, workspace.id, title="Outage", criteria={"hashtags": ["acmedown"]}, now=NOW
        )
        outsider = conversation_of(s, "p50")
        user = s.get(User, supervisor.id)
        assert user is not None
        with pytest.raises(InvalidInput, match="not part of incident"):
            bulk.bulk_reply(
                s,
                workspace.id,
                incident.id,
                user=user,
                template="x",
                now=NOW,
                conversation_ids=[outsider],
            )
        chosen = conversation_of(s, "p1")
        result = bulk.bulk_reply(
            s,
            workspace.id,
            incident.id,
            user=user,
            template="We're on it",
            now=NOW,
            conversation_ids=[chosen],
        )
        assert result.sent == [chosen]


def test_a_public_post_goes_out_from_the_brand_account_linked_to_the_incident(
    pipeline: Pipeline,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    supervisor: User,
    x_account: int,
) -> None:
    with session_factory() as s:
        incident = incidents.open_incident(
            s,
            workspace.id,
            title="Outage",
            criteria={"hashtags": ["#acmedown"]},
            now=NOW,
            user_id=supervisor.id,
        )
        user = s.get(User, supervisor.id)
        assert user is not None
        with pytest.raises(InvalidInput, match="280"):
            bulk.public_post(
                s, workspace.id, incident.id, user=user, text="x" * 300, channel="x", now=NOW
            )
        message = bulk.public_post(
            s,
            workspace.id,
            incident.id,
            user=user,
            text="We're aware of a network outage in the north; engineers are on it.",
            channel="x",
            now=NOW,
        )
        s.commit()
        item = s.scalars(select(OutboxItem).where(OutboxItem.message_id == message.id)).one()
        assert item.action == "x.post" and item.channel_account_id == x_account
    OutboxSender(session_factory, default_connectors(), secret_key=SECRET).run_once()
    with session_factory() as s:
        v = incidents.view(s, workspace.id, incident.id)
        assert v.public_posts == [
            ("We're aware of a network outage in the north; engineers are on it.", "sent")
        ]
        assert [k for _, k, _, _ in v.timeline] == ["opened", "public_post"]


def test_resolving_closes_the_answered_cases_and_keeps_the_waiting_ones(
    pipeline: Pipeline,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    supervisor: User,
    x_account: int,
) -> None:
    ingest_burst(pipeline, workspace)
    with session_factory() as s:
        incident = incidents.open_incident(
            s, workspace.id, title="Outage", criteria={"hashtags": ["#acmedown"]}, now=NOW
        )
        user = s.get(User, supervisor.id)
        assert user is not None
        answered = conversation_of(s, "p1")
        bulk.bulk_reply(
            s,
            workspace.id,
            incident.id,
            user=user,
            template="Fixed soon",
            now=NOW,
            conversation_ids=[answered],
        )
        incidents.resolve(
            s, workspace.id, incident.id, user=user, now=NOW + timedelta(hours=1), note="fixed"
        )
        s.commit()
        statuses = {
            c.id: c.status
            for c in s.scalars(
                select(Conversation).where(
                    Conversation.id.in_([conversation_of(s, f"p{i}") for i in range(5)])
                )
            )
        }
        assert statuses.pop(answered) == "resolved"
        assert set(statuses.values()) == {"open"}
        task = s.scalars(select(Task).where(Task.conversation_id == answered)).one()
        assert task.status == "done"
        resolved = incidents.view(s, workspace.id, incident.id).timeline[-1]
        assert resolved[1] == "resolved" and resolved[2] == "Sam"
        assert resolved[3]["closed_cases"] == [answered]
