"""Turn inbound events into the work items a simulated care team handles.

Each item is scored and given its first-response due time by the production code
(socialdesk.priority.scoring and socialdesk.priority.sla), and gets its handling time drawn
once, so that every policy in a run faces exactly the same work.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from socialdesk.core.clock import as_utc
from socialdesk.ingest.schemas import InboundEvent
from socialdesk.priority.scoring import ScoringInput, ValuePolicy, score_value
from socialdesk.priority.sla import BusinessHours, SlaClock, SlaPolicy, due_at, select_target
from socialdesk.simulation.handling import HandlingTimes

# Sentiment of the generator's ground truth as a compound score (-1 angry .. 1 happy).
_SENTIMENT_SCORE = {"negative": -0.6, "neutral": 0.0, "positive": 0.6}


@dataclass(frozen=True, slots=True)
class SimItem:
    index: int
    external_id: str
    created_at: datetime
    arrival: float  # seconds after the simulation start
    channel: str
    visibility: str
    kind: str | None
    topic: str | None
    language: str | None
    customer: str
    conversation: str
    tier: str | None
    value: float  # production value score
    reasons: tuple[str, ...]
    intended_value: float | None  # the generator's ground truth, when known
    due_at: datetime
    sla_target_minutes: float
    handling_minutes: float


@dataclass(frozen=True, slots=True)
class ItemSource:
    """Items of one run plus what was left out, for the report."""

    items: list[SimItem]
    start: datetime
    end: datetime
    events: int
    skipped_outbound: int
    skipped_no_response: int
    skipped_other_team: int


def _truth(event: InboundEvent) -> Mapping[str, Any]:
    sim = event.extra.get("sim")
    return sim if isinstance(sim, Mapping) else {}


def build_items(
    events: Iterable[InboundEvent],
    *,
    value_policy: ValuePolicy,
    sla_policy: SlaPolicy,
    handling: HandlingTimes,
    seed: int,
    hours: BusinessHours | None = None,
    queues: tuple[str, ...] = ("care",),
    start: datetime | None = None,
) -> ItemSource:
    """Items that need a response from the given queues, in arrival order.

    Kinds, sentiment and the team come from the generator's ground truth
    (``extra["sim"]``) where present; replayed messages without it are all taken as
    needing a response from care, with an unknown kind (scored as the policy says).
    """
    hours = hours or BusinessHours()
    rng = random.Random(seed)
    ordered = sorted(events, key=lambda e: as_utc(e.created_at))
    if not ordered:
        raise ValueError("no events to simulate")
    begin = as_utc(start) if start else ordered[0].created_at.replace(minute=0, second=0)
    begin = as_utc(begin).replace(microsecond=0)
    conversation_of: dict[str, str] = {}
    contacts: dict[str, int] = {}
    items: list[SimItem] = []
    outbound = no_response = other_team = 0
    for event in ordered:
        truth = _truth(event)
        root = truth.get("conversation")
        if not isinstance(root, str):
            parent = event.reply_to
            root = conversation_of.get(parent, parent) if parent else event.external_id
        conversation_of[event.external_id] = root
        if event.direction != "inbound" or event.author.is_brand:
            outbound += 1
            continue
        if truth and not truth.get("needs_response", True):
            no_response += 1
            continue
        if str(truth.get("route_to", "care")) not in queues:
            other_team += 1
            continue
        created = as_utc(event.created_at)
        customer = str(truth.get("customer") or f"{event.channel}:{event.author.id}")
        kind = truth.get("kind")
        kind = str(kind) if kind is not None else None
        repeat = contacts.get(customer, 0)
        contacts[customer] = repeat + 1
        scoring = ScoringInput(
            channel=event.channel,
            visibility=event.visibility,
            created_at=created,
            kind=kind,
            sentiment=_SENTIMENT_SCORE.get(str(truth.get("sentiment"))),
            severity=float(truth.get("severity", 0.0) or 0.0),
            sales_opportunity=1.0 if kind == "sales_lead" else 0.0,
            customer_tier=truth.get("tier"),
            lifetime_value=truth.get("lifetime_value"),
            followers=event.author.followers,
            verified=event.author.verified,
            likes=event.metrics.likes,
            reposts=event.metrics.reposts,
            replies=event.metrics.replies,
            quotes=event.metrics.quotes,
            repeat_contacts=repeat,
        )
        score = score_value(scoring, value_policy, created)
        target = select_target(sla_policy, event.channel, kind, score.total)
        due = due_at(SlaClock(started_at=created, target=target), hours)
        intended = truth.get("value")
        items.append(
            SimItem(
                index=len(items),
                external_id=event.external_id,
                created_at=created,
                arrival=max(0.0, (created - begin).total_seconds()),
                channel=event.channel,
                visibility=event.visibility,
                kind=kind,
                topic=truth.get("topic"),
                language=truth.get("language"),
                customer=customer,
                conversation=root,
                tier=truth.get("tier"),
                value=score.total,
                reasons=tuple(score.top_reasons()),
                intended_value=float(intended) if intended is not None else None,
                due_at=due,
                sla_target_minutes=target / timedelta(minutes=1),
                handling_minutes=handling.sample(rng, kind, event.channel),
            )
        )
    end = as_utc(ordered[-1].created_at)
    return ItemSource(
        items=items,
        start=begin,
        end=end,
        events=len(ordered),
        skipped_outbound=outbound,
        skipped_no_response=no_response,
        skipped_other_team=other_team,
    )
