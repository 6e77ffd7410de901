"""Scoring and the response clock applied to the tasks the pipeline opens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.events import InboundEvent
from socialdesk.core.clock import FrozenClock
from socialdesk.core.db import unit_of_work
from socialdesk.core.errors import InvalidInput
from socialdesk.core.models import Workspace
from socialdesk.core.processing import PipelineHooks
from socialdesk.core.work import Task
from socialdesk.customers.models import Customer, Identity
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.priority import service
from socialdesk.priority.service import ScoringHook, TriageSignals

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def post(
    external_id: str, author: str, *, channel: str = "x", followers: int = 0, **extra: object
) -> InboundEvent:
    return InboundEvent.model_validate(
        {
            "channel": channel,
            "external_id": external_id,
            "author": {"id": author, "handle": f"@{author}", "followers": followers},
            "text": "my order never arrived",
            "created_at": T0,
            **extra,
        }
    )


def tasks_by_author(session: Session) -> dict[str, Task]:
    from socialdesk.conversations.models import Conversation

    rows = session.execute(
        select(Identity.external_id, Task)
        .join(Customer, Customer.id == Identity.customer_id)
        .join(Conversation, Conversation.customer_id == Customer.id)
        .join(Task, Task.conversation_id == Conversation.id)
    ).all()
    return {author: t for author, t in rows}


def pipeline(factory: sessionmaker[Session], **hook_args: object) -> Pipeline:
    clock = FrozenClock(T0 + timedelta(minutes=2))
    hooks = PipelineHooks(on_tasks_changed=[ScoringHook(clock, **hook_args)])  # type: ignore[arg-type]
    return Pipeline(factory, hooks, clock=clock)


def test_opened_tasks_get_a_value_a_breakdown_and_a_due_time(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    pipeline(session_factory).ingest(
        workspace.id,
        [
            post("1", "star", followers=2_000_000, metrics={"likes": 300, "reposts": 80}),
            post("2", "quiet", followers=12),
            post("3", "mailer", channel="email", visibility="private"),
        ],
    )
    with session_factory() as s:
        tasks = tasks_by_author(s)
    star, quiet, mailer = tasks["star"], tasks["quiet"], tasks["mailer"]
    assert star.value_score > quiet.value_score > mailer.value_score > 0
    assert star.priority == star.value_score
    assert star.value_breakdown["influence"] > quiet.value_breakdown["influence"]
    assert star.value_breakdown["virality"] > 0 == quiet.value_breakdown["virality"]
    assert sum(star.value_breakdown.values()) == pytest.approx(star.value_score)
    assert star.due_at == T0 + timedelta(minutes=30)
    assert mailer.due_at == T0 + timedelta(hours=24)
    assert star.sla_next_check_at == T0 + timedelta(minutes=15)  # first warning at 50%
    assert star.sla_state == "ok"


def test_crm_value_and_triage_signals_raise_the_score(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    def triage(s: Session, ws: int, message_ids: object) -> dict[int, TriageSignals]:
        from socialdesk.conversations.models import Message

        ids = list(message_ids)  # type: ignore[call-overload]
        rows = s.execute(select(Message.id, Message.external_id).where(Message.id.in_(ids)))
        return {
            mid: TriageSignals(kind="complaint", sentiment=-0.9, language="fr", topic="billing")
            for mid, ext in rows
            if ext == "1"
        }

    pipe = pipeline(session_factory, triage_lookup=triage)
    pipe.ingest(workspace.id, [post("1", "angry"), post("2", "calm")])
    with session_factory() as s:
        tasks = tasks_by_author(s)
    angry, calm = tasks["angry"], tasks["calm"]
    assert (angry.kind, angry.language, angry.topic) == ("complaint", "fr", "billing")
    assert angry.value_score > calm.value_score
    assert angry.value_breakdown["sentiment"] == pytest.approx(15 * 0.9)
    # A CRM tier lifts the next contact of the calm customer.
    with unit_of_work(session_factory) as s:
        customer = s.get(Customer, calm_customer(s))
        assert customer is not None
        customer.tier, customer.lifetime_value = "Platinum", Decimal("25000")
    with unit_of_work(session_factory) as s:
        service.score_tasks(s, workspace.id, [calm.id], T0, triage_lookup=triage)
    with session_factory() as s:
        rescored = s.get(Task, calm.id)
        assert rescored is not None
        assert rescored.customer_tier == "platinum"
        assert rescored.value_breakdown["customer_value"] == pytest.approx(20.0)


def calm_customer(session: Session) -> int:
    return session.scalars(select(Identity.customer_id).where(Identity.external_id == "calm")).one()  # type: ignore[return-value]


def test_policies_are_stored_per_workspace_and_bad_ones_change_nothing(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with unit_of_work(session_factory) as s:
        service.update_policies(
            s,
            workspace.id,
            value={"weights": {"influence": 40}},
            sla={"rules": [{"channel": "x", "first_response_minutes": 10}]},
            routing={"overflow_after_minutes": 3},
            business_hours={"timezone": "Europe/Paris", "weekly": {"0": ["09:00", "17:00"]}},
        )
    with session_factory() as s:
        policies = service.load_policies(s, workspace.id)
    assert policies.value.weights.influence == 40
    assert policies.routing.overflow_after == timedelta(minutes=3)
    assert policies.business_hours.timezone == "Europe/Paris"
    with session_factory() as s, pytest.raises(InvalidInput, match="value policy: weight"):
        service.update_policies(s, workspace.id, sla={}, value={"weights": {"kind": -5}})
    with session_factory() as s:
        assert service.load_policies(s, workspace.id) == policies
    pipeline(session_factory).ingest(workspace.id, [post("9", "dana")])
    with session_factory() as s:
        assert tasks_by_author(s)["dana"].due_at == T0 + timedelta(minutes=10)
