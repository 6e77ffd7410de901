"""Where the console meets triage, routing/priority and channels.

Channels (replies, shifts) and routing (assignment, presence, skills, value weights, SLA
policies) are called directly. Triage results are read from ``socialdesk.triage.models``
when that table exists, so the badges light up as soon as triage stores its results.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from socialdesk.analytics.metrics import TrendPoint
from socialdesk.channels import outbox
from socialdesk.channels.actions import ALWAYS_PRIVATE
from socialdesk.channels.limits import limits_for
from socialdesk.channels.models import OutboxItem, OutboxStatus
from socialdesk.conversations import replies
from socialdesk.core.clock import Clock, utcnow
from socialdesk.core.errors import InvalidInput, NotFound
from socialdesk.priority import service as priority
from socialdesk.priority.scoring import FACTORS
from socialdesk.priority.sla import PriorityExplanation, explain_priority
from socialdesk.routing import service as routing
from socialdesk.routing.selection import RoutingPolicy
from socialdesk.triage import service as triage
from socialdesk.triage.models import TriageResultRow
from socialdesk.triage.taxonomies import DEFAULT_TAXONOMIES, taxonomy_from_settings
from socialdesk.web import console_repository as repo

SENTIMENT_WINDOW = timedelta(hours=24)


class PartMissing(InvalidInput):
    """The action needs a part of the product that this installation does not have yet."""


@dataclass(frozen=True, slots=True)
class TriageView:
    kind: str | None = None
    sentiment: str | None = None
    compound: float | None = None
    topic: str | None = None
    language: str | None = None
    severity: int | None = None
    route_to: str | None = None
    needs_response: float | None = None
    confidence: float | None = None
    signals: tuple[str, ...] = ()
    explanation: tuple[str, ...] = ()


# -- triage ------------------------------------------------------------------------------


def _view(row: Any) -> TriageView:
    """The console's view of a row of ``console_repository.triage_rows``."""
    signals = row.signals or {}
    explanation = row.explanation or ()
    return TriageView(
        kind=row.kind,
        sentiment=row.sentiment_label,
        compound=row.sentiment_score,
        topic=row.topic,
        language=row.language,
        severity=int(row.severity),
        route_to=row.route_to,
        needs_response=row.needs_response,
        confidence=row.kind_confidence,
        signals=tuple(sorted(signals)),
        explanation=tuple(str(e) for e in explanation),
    )


def triage_for_messages(
    session: Session, workspace_id: int, message_ids: Sequence[int]
) -> dict[int, TriageView]:
    if not message_ids:
        return {}
    rows = repo.triage_rows(session, TriageResultRow, workspace_id, message_ids)
    return {int(r.message_id): _view(r) for r in rows}


def sentiment_trend(
    session: Session, workspace_id: int, now: datetime, window: timedelta = SENTIMENT_WINDOW
) -> list[TrendPoint]:
    rows = repo.sentiment_by_hour(session, workspace_id, now - window)
    return [TrendPoint(hour, mean, count) for hour, mean, count in sorted(rows)]


def topic_counts(
    session: Session, workspace_id: int, now: datetime, window: timedelta = SENTIMENT_WINDOW
) -> list[tuple[str, int]]:
    return repo.recent_topics(session, workspace_id, now - window)


def taxonomy(session: Session, workspace_id: int) -> list[str] | None:
    ws = repo.workspace(session, workspace_id)
    tax = taxonomy_from_settings(ws.settings if ws else {})
    return [f"{t.id} — {t.description}" for t in tax.topics]


def topic_ids(session: Session, workspace_id: int) -> list[str]:
    """The topics of the workspace's taxonomy, for the inbox's topic filter."""
    ws = repo.workspace(session, workspace_id)
    return [t.id for t in taxonomy_from_settings(ws.settings if ws else {}).topics]


def taxonomy_choice(session: Session, workspace_id: int) -> tuple[str, list[str]]:
    """The workspace's taxonomy name and the sector taxonomies that ship with socialdesk."""
    current = triage.triage_settings(session, workspace_id).get("taxonomy", "general")
    name = current if isinstance(current, str) else "custom"
    return name, sorted(DEFAULT_TAXONOMIES)


def set_taxonomy(session: Session, workspace_id: int, name: str) -> None:
    triage.configure(session, workspace_id, taxonomy=name)


# -- routing and priority ------------------------------------------------------------------


def presence_of(session: Session, workspace_id: int) -> dict[int, str]:
    return {u.id: u.presence for u in repo.users(session, workspace_id).values()}


def capacity_of(session: Session, workspace_id: int) -> dict[int, int]:
    return {
        u.id: sum(int(v) for v in (u.capacity or {}).values())
        for u in repo.users(session, workspace_id).values()
    }


def agent_settings(session: Session, workspace_id: int) -> dict[int, dict[str, str]]:
    """Per agent: skills and capacity as routing keeps them, as editable text."""
    return {
        u.id: {
            "languages": ", ".join(u.languages or []),
            "topics": ", ".join(u.topics or []),
            "tiers": ", ".join(u.tiers or []),
            "capacity": ", ".join(f"{k}={v}" for k, v in sorted((u.capacity or {}).items())),
        }
        for u in repo.users(session, workspace_id).values()
    }


def _words(value: object) -> list[str]:
    return [w.strip() for w in str(value or "").split(",") if w.strip()]


def save_agent_settings(session: Session, workspace_id: int, user_id: int, form: FormData) -> None:
    capacity: dict[str, int] = {}
    for item in _words(form.get("routing_capacity")):
        channel, _, slots = item.partition("=")
        if not slots.strip().isdigit():
            raise InvalidInput(f"capacity is written channel=slots, e.g. x=3 (got {item!r})")
        capacity[channel.strip().lower()] = int(slots)
    routing.set_skills(
        session,
        workspace_id,
        user_id,
        languages=_words(form.get("routing_languages")),
        topics=_words(form.get("routing_topics")),
        tiers=_words(form.get("routing_tiers")),
        capacity=capacity,
    )


def value_weights(session: Session, workspace_id: int) -> dict[str, float] | None:
    return priority.load_policies(session, workspace_id).value.weights.as_dict()


def save_value_weights(
    session: Session, workspace_id: int, form: FormData, clock: Clock = utcnow
) -> None:
    """The weights form: store new weights and re-score the open work at once."""
    weights: dict[str, float] = {}
    for name in FACTORS:
        raw = form.get(name)
        if raw is None or raw == "":
            continue
        try:
            weights[name] = float(str(raw))
        except ValueError:
            raise InvalidInput(f"the weight of {name} must be a number") from None
    priority.set_value_weights(session, workspace_id, weights, clock())


def sla_policies(session: Session, workspace_id: int) -> list[dict[str, str]] | None:
    sla = priority.load_policies(session, workspace_id).sla.to_dict()
    rows = [
        {
            "channel": str(r["channel"] or "any"),
            "kind": str(r["kind"] or "any"),
            "min priority": str(r["min_priority"] if r["min_priority"] is not None else "–"),
            "first response": f"{r['first_response_minutes']:g} min",
            "next response": f"{r['next_response_minutes']:g} min",
        }
        for r in sla["rules"]
    ]
    rows.append(
        {
            "channel": "default",
            "kind": "any",
            "min priority": "–",
            "first response": f"{sla['default_first_response_minutes']:g} min",
            "next response": f"{sla['default_next_response_minutes']:g} min",
        }
    )
    return rows


def sla_policy_json(session: Session, workspace_id: int) -> str:
    return json.dumps(priority.load_policies(session, workspace_id).sla.to_dict(), indent=2)


def save_sla_policy(session: Session, workspace_id: int, text: str, clock: Clock = utcnow) -> None:
    """Replace the service-level policy (validated whole; a bad one changes nothing)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"the policy is not valid JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise InvalidInput("the policy is a JSON object")
    priority.change_policies(session, workspace_id, sla=data, now=clock())


def priority_explanation(
    session: Session,
    workspace_id: int,
    stored: float,
    since: datetime,
    due: datetime | None,
    now: datetime,
) -> PriorityExplanation:
    """The parts of a task's effective priority under the workspace's ordering rule."""
    sla = priority.load_policies(session, workspace_id).sla
    return explain_priority(
        stored, since, due, now, sla.pressure_weight, sla.rescue_after, sla.top_class_from
    )


def ordering(session: Session, workspace_id: int) -> RoutingPolicy:
    """The workspace's work-list order (the routing policy carries the SLA's knobs)."""
    return priority.load_routing_policy(session, workspace_id)


def warning_fraction(session: Session, workspace_id: int) -> float:
    fractions = priority.load_policies(session, workspace_id).sla.warning_fractions
    return float(min(fractions)) if fractions else 0.75


# -- channels ------------------------------------------------------------------------------


def replies_available() -> bool:
    return True


def reply_modes(channel: str, target_visibility: str) -> list[tuple[str, str]]:
    """The ways an answer can go on this channel to this message, as (visibility, label):
    an e-mail is answered by e-mail, a private message privately; a public post either way."""
    if channel in ALWAYS_PRIVATE:
        return [("private", "e-mail reply" if channel == "email" else "private reply")]
    if target_visibility == "private":
        return [("private", "private message")]
    return [("public", "public reply"), ("private", "private message")]


def channel_limit(channel: str, visibility: str = "public") -> int:
    try:
        return limits_for(channel, visibility).max_length
    except InvalidInput:
        return 10_000


def reply_windows(
    session: Session, workspace_id: int, conversation_id: int, now: datetime
) -> dict[str, Any]:
    """Per answer kind ("public", "private"): whether the platform takes it now, until when."""
    return dict(replies.reply_windows(session, workspace_id, conversation_id, now))


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one of our replies is getting to the customer, as the agent sees it."""

    item_id: int
    state: str  # queued, sent, failed or cancelled
    reason: str
    author_user_id: int | None


DELIVERY_STATE = {
    OutboxStatus.PENDING: "queued",
    OutboxStatus.SENDING: "queued",
    OutboxStatus.SENT: "sent",
    OutboxStatus.FAILED: "failed",
    OutboxStatus.CANCELLED: "cancelled",
}


def delivery_of(item: OutboxItem) -> Delivery:
    retrying = item.status == OutboxStatus.PENDING and item.error_reason
    return Delivery(
        item_id=item.id,
        state=DELIVERY_STATE.get(item.status, item.status),
        reason=(item.error_reason or "") if item.status == OutboxStatus.FAILED or retrying else "",
        author_user_id=item.author_user_id,
    )


def deliveries_by_message(
    session: Session, workspace_id: int, conversation_id: int
) -> dict[int, Delivery]:
    return {
        item.message_id: delivery_of(item)
        for item in outbox.deliveries(session, workspace_id, conversation_id)
    }


def retry_delivery(session: Session, workspace_id: int, conversation_id: int, item_id: int) -> None:
    for item in outbox.deliveries(session, workspace_id, conversation_id):
        if item.id == item_id:
            outbox.retry(session, workspace_id=workspace_id, item_id=item_id, now=utcnow())
            return
    raise NotFound(f"no delivery {item_id} on case {conversation_id}")
