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
from typing import TYPE_CHECKING, Any

from socialdesk.channels.events import InboundEvent
from socialdesk.core.clock import as_utc
from socialdesk.priority.scoring import ScoringInput, ValuePolicy, score_value
from socialdesk.priority.sla import BusinessHours, SlaClock, SlaPolicy, due_at, select_target
from socialdesk.simulation.handling import HandlingTimes

if TYPE_CHECKING:
    from socialdesk.triage.taxonomies import Taxonomy

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
    handling_minutes: float  # the agent's whole work on the item
    first_reply_minutes: float  # its first part, until the first reply is sent


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
    classified: int = 0  # messages whose content came from the triage classifier


def _truth(event: InboundEvent) -> Mapping[str, Any]:
    sim = event.extra.get("sim")
    return sim if isinstance(sim, Mapping) else {}


CLASSIFY_MODES = ("auto", "truth", "triage")
# Triage signals that make an item urgent (the classifier's own list).
_URGENT = ("churn_threat", "legal_threat", "safety", "outage", "vulnerable_customer")
# Triage grades severity 0 (nothing to worry about) .. 4 (someone may be at risk).
_TRIAGE_SEVERITY_MAX = 4.0


@dataclass(frozen=True, slots=True)
class Signals:
    """What is known about a message's content: from the generator's ground truth or from
    the production triage classifier."""

    kind: str | None
    needs_response: bool
    route_to: str
    sentiment: float | None
    severity: float
    urgency: float
    language: str | None
    topic: str | None


@dataclass(frozen=True, slots=True)
class StoredFacts:
    """What a workspace's storage knows of a message: its stored triage, its customer (CRM
    tier and lifetime value) and its conversation. Handed in by the reader of stored
    traffic, so a replay of last week uses last week's own triage."""

    signals: Signals
    customer: str
    conversation: str
    tier: str | None = None
    lifetime_value: float | None = None


@dataclass(frozen=True, slots=True)
class StoredTraffic:
    """A workspace's stored traffic as plain data, with its own policies."""

    events: list[InboundEvent]
    facts: dict[str, StoredFacts]
    value_policy: ValuePolicy
    sla_policy: SlaPolicy
    business_hours: BusinessHours
    untriaged: int = 0  # messages without a stored triage (classified afresh)


def urgent(signal_names: Iterable[str]) -> float:
    """1.0 when triage saw a signal that makes an item urgent."""
    return 1.0 if any(s in _URGENT for s in signal_names) else 0.0


def truth_signals(truth: Mapping[str, Any]) -> Signals:
    kind = truth.get("kind")
    return Signals(
        kind=str(kind) if kind is not None else None,
        needs_response=bool(truth.get("needs_response", True)),
        route_to=str(truth.get("route_to", "care")),
        sentiment=_SENTIMENT_SCORE.get(str(truth.get("sentiment"))),
        severity=float(truth.get("severity", 0.0) or 0.0),
        urgency=0.0,
        language=truth.get("language"),
        topic=truth.get("topic"),
    )


def triage_signals(events: list[InboundEvent], taxonomy: Taxonomy | None = None) -> list[Signals]:
    """Classify the texts with socialdesk's triage (the fast tier, seed models), with the
    workspace's topic taxonomy (the general one unless given)."""
    from socialdesk.triage.classifier import ModelSet, triage_batch
    from socialdesk.triage.result import MessageContext

    results = triage_batch(
        [e.text for e in events],
        ModelSet(taxonomy=taxonomy) if taxonomy is not None else None,
        [MessageContext(private=e.visibility == "private") for e in events],
    )
    return [
        Signals(
            kind=r.kind,
            needs_response=r.responds,
            route_to=r.route_to,
            sentiment=r.sentiment_score,
            severity=min(1.0, r.severity / _TRIAGE_SEVERITY_MAX),
            urgency=urgent(r.signals),
            language=None if r.language in ("", "und") else r.language,
            topic=r.topic,
        )
        for r in results
    ]


def _facts_as_truth(known: StoredFacts) -> dict[str, Any]:
    return {
        "conversation": known.conversation,
        "customer": known.customer,
        "tier": known.tier,
        "lifetime_value": known.lifetime_value,
    }


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
    classify: str = "auto",
    facts: Mapping[str, StoredFacts] | None = None,
    taxonomy: Taxonomy | None = None,
) -> ItemSource:
    """Items that need a response from the given queues, in arrival order.

    What a message is about (kind, sentiment, severity, team, whether it needs an answer)
    comes from the generator's ground truth (``extra["sim"]``) or from socialdesk's triage
    classifier: ``classify="truth"`` uses the ground truth (messages without it count as
    needing care, kind unknown), ``"triage"`` classifies every message, and ``"auto"`` uses
    the ground truth where present and triage elsewhere. Customer tier and lifetime value,
    which come from the CRM in production, are taken from the ground truth when present.
    ``facts`` (by external id) override both: a stored message's own triage, customer and
    conversation. ``taxonomy`` is the topic list triage reads with (the general one unless
    given), as the brand's workspace would.
    """
    facts = facts or {}
    if classify not in CLASSIFY_MODES:
        raise ValueError(f"classify must be one of {', '.join(CLASSIFY_MODES)}")
    hours = hours or BusinessHours()
    rng = random.Random(seed)
    # Its own random source, so the handling times of a seed stay what they were before
    # first replies were modelled.
    first_rng = random.Random(f"first-reply:{seed}")
    ordered = sorted(events, key=lambda e: as_utc(e.created_at))
    if not ordered:
        raise ValueError("no events to simulate")
    begin = as_utc(start) if start else ordered[0].created_at.replace(minute=0, second=0)
    begin = as_utc(begin).replace(microsecond=0)
    inbound = [e for e in ordered if e.direction == "inbound" and not e.author.is_brand]
    to_classify = [
        e
        for e in inbound
        if e.external_id not in facts
        and (classify == "triage" or (classify == "auto" and not _truth(e)))
    ]
    classified = dict(
        zip(
            (id(e) for e in to_classify),
            triage_signals(to_classify, taxonomy) if to_classify else [],
            strict=True,
        )
    )
    conversation_of: dict[str, str] = {}
    contacts: dict[str, int] = {}
    items: list[SimItem] = []
    outbound = no_response = other_team = 0
    for event in ordered:
        known = facts.get(event.external_id)
        truth = _truth(event) if known is None else _facts_as_truth(known)
        root = truth.get("conversation")
        if not isinstance(root, str):
            parent = event.reply_to
            root = conversation_of.get(parent, parent) if parent else event.external_id
        conversation_of[event.external_id] = root
        if event.direction != "inbound" or event.author.is_brand:
            outbound += 1
            continue
        signals = (
            known.signals
            if known is not None
            else classified.get(id(event)) or truth_signals(truth)
        )
        if not signals.needs_response:
            no_response += 1
            continue
        if signals.route_to not in queues:
            other_team += 1
            continue
        created = as_utc(event.created_at)
        customer = str(truth.get("customer") or f"{event.channel}:{event.author.id}")
        kind = signals.kind
        repeat = contacts.get(customer, 0)
        contacts[customer] = repeat + 1
        scoring = ScoringInput(
            channel=event.channel,
            visibility=event.visibility,
            created_at=created,
            kind=kind,
            sentiment=signals.sentiment,
            severity=signals.severity,
            urgency=signals.urgency,
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
        minutes = handling.sample(rng, kind, event.channel)
        items.append(
            SimItem(
                index=len(items),
                external_id=event.external_id,
                created_at=created,
                arrival=max(0.0, (created - begin).total_seconds()),
                channel=event.channel,
                visibility=event.visibility,
                kind=kind,
                topic=signals.topic,
                language=signals.language,
                customer=customer,
                conversation=root,
                tier=truth.get("tier"),
                value=score.total,
                reasons=tuple(score.top_reasons()),
                intended_value=float(intended) if intended is not None else None,
                due_at=due,
                sla_target_minutes=target / timedelta(minutes=1),
                handling_minutes=minutes,
                first_reply_minutes=handling.sample_first_reply(first_rng, event.channel, minutes),
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
        classified=len(to_classify),
    )
