"""Per-workspace policies, and scoring plus SLA applied to tasks as the pipeline opens them."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.core.clock import Clock, as_utc, utcnow
from socialdesk.core.errors import InvalidInput
from socialdesk.priority import repository as repo
from socialdesk.priority.scoring import ScoringInput, ValuePolicy, score_value
from socialdesk.priority.sla import (
    BusinessHours,
    ResponseKind,
    SlaClock,
    SlaPolicy,
    business_hours_from_dict,
    business_hours_to_dict,
    next_transition,
    select_target,
)
from socialdesk.routing.repository import last_agents_of_customers
from socialdesk.routing.selection import RoutingPolicy

# How far back earlier conversations count as repeat contact.
REPEAT_CONTACT_WINDOW = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Policies:
    value: ValuePolicy
    sla: SlaPolicy
    routing: RoutingPolicy
    business_hours: BusinessHours


def routing_policy_to_dict(policy: RoutingPolicy) -> dict[str, Any]:
    def minutes(value: timedelta | None) -> float | None:
        return None if value is None else value.total_seconds() / 60

    return {
        "overflow_after_minutes": minutes(policy.overflow_after),
        "overflow_languages_after_minutes": minutes(policy.overflow_languages_after),
        "sticky": policy.sticky,
    }


def routing_policy_from_dict(data: Mapping[str, Any]) -> RoutingPolicy:
    unknown = set(data) - set(routing_policy_to_dict(RoutingPolicy()))
    if unknown:
        raise ValueError(f"unknown routing settings: {', '.join(sorted(unknown))}")
    kwargs: dict[str, Any] = {}
    for key, name in (
        ("overflow_after_minutes", "overflow_after"),
        ("overflow_languages_after_minutes", "overflow_languages_after"),
    ):
        if key in data:
            value = data[key]
            if value is not None and float(value) < 0:
                raise ValueError(f"{key} must be >= 0")
            kwargs[name] = None if value is None else timedelta(minutes=float(value))
    if "sticky" in data:
        kwargs["sticky"] = bool(data["sticky"])
    return RoutingPolicy(**kwargs)


def _parse(kind: str, parser: Callable[[Mapping[str, Any]], Any], data: Mapping[str, Any]) -> Any:
    try:
        return parser(data)
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(f"{kind} policy: {exc}") from exc


def load_policies(session: Session, workspace_id: int) -> Policies:
    row = repo.get_policy(session, workspace_id)
    if row is None:
        return Policies(ValuePolicy(), SlaPolicy(), RoutingPolicy(), BusinessHours())
    sla: SlaPolicy = _parse("SLA", SlaPolicy.from_dict, row.sla or {})
    routing: RoutingPolicy = _parse("routing", routing_policy_from_dict, row.routing or {})
    return Policies(
        value=_parse("value", ValuePolicy.from_dict, row.value or {}),
        sla=sla,
        routing=replace(routing, pressure_weight=sla.pressure_weight),
        business_hours=_parse("business hours", business_hours_from_dict, row.business_hours or {}),
    )


def load_routing_policy(session: Session, workspace_id: int) -> RoutingPolicy:
    return load_policies(session, workspace_id).routing


def policies_to_dict(policies: Policies) -> dict[str, Any]:
    return {
        "value": policies.value.to_dict(),
        "sla": policies.sla.to_dict(),
        "routing": routing_policy_to_dict(policies.routing),
        "business_hours": business_hours_to_dict(policies.business_hours),
    }


def update_policies(
    session: Session,
    workspace_id: int,
    *,
    value: Mapping[str, Any] | None = None,
    sla: Mapping[str, Any] | None = None,
    routing: Mapping[str, Any] | None = None,
    business_hours: Mapping[str, Any] | None = None,
) -> Policies:
    """Replace the given parts (validated first: a bad part changes nothing)."""
    parsed_value = None if value is None else _parse("value", ValuePolicy.from_dict, value)
    parsed_sla = None if sla is None else _parse("SLA", SlaPolicy.from_dict, sla)
    parsed_routing = (
        None if routing is None else _parse("routing", routing_policy_from_dict, routing)
    )
    parsed_hours = (
        None
        if business_hours is None
        else _parse("business hours", business_hours_from_dict, business_hours)
    )
    row = repo.get_or_create_policy(session, workspace_id)
    if parsed_value is not None:
        row.value = parsed_value.to_dict()
    if parsed_sla is not None:
        row.sla = parsed_sla.to_dict()
    if parsed_routing is not None:
        row.routing = routing_policy_to_dict(parsed_routing)
    if parsed_hours is not None:
        row.business_hours = business_hours_to_dict(parsed_hours)
    session.flush()
    return load_policies(session, workspace_id)


def team_business_hours(
    session: Session, workspace_id: int, default: BusinessHours
) -> dict[int, BusinessHours]:
    out = {}
    for team_id, settings in repo.team_settings(session, workspace_id).items():
        raw = settings.get("business_hours")
        if raw:
            out[team_id] = _parse("business hours", business_hours_from_dict, raw)
    return out


# -- triage signals, read where triage is installed -------------------------------------------


@dataclass(frozen=True, slots=True)
class TriageSignals:
    kind: str | None = None
    sentiment: float | None = None
    severity: float = 0.0
    urgency: float = 0.0
    sales_opportunity: float = 0.0
    language: str | None = None
    topic: str | None = None


TriageLookup = Callable[[Session, int, Sequence[int]], Mapping[int, TriageSignals]]

_TRIAGE_FIELDS = {
    "kind": ("kind", "category", "label"),
    "sentiment": ("sentiment", "sentiment_score", "compound"),
    "severity": ("severity",),
    "urgency": ("urgency", "urgency_score"),
    "sales_opportunity": ("sales_opportunity", "sales_score"),
    "language": ("language", "lang"),
    "topic": ("topic",),
}


def stored_triage(
    session: Session, workspace_id: int, message_ids: Sequence[int]
) -> dict[int, TriageSignals]:
    """Triage results per message id, if the triage domain is installed (else nothing).

    Reads ``socialdesk.triage.models.TriageResult`` (one row per message, keyed by
    ``message_id``) and takes the columns it recognises by name; absent ones default.
    """
    try:
        model = importlib.import_module("socialdesk.triage.models").TriageResult
    except (ImportError, AttributeError):
        return {}
    if not message_ids or not hasattr(model, "message_id"):
        return {}
    out: dict[int, TriageSignals] = {}
    for row in session.scalars(select(model).where(model.message_id.in_(list(message_ids)))):
        values: dict[str, Any] = {}
        for target, names in _TRIAGE_FIELDS.items():
            for name in names:
                value = getattr(row, name, None)
                if value is not None:
                    values[target] = value
                    break
        for number in ("severity", "urgency", "sales_opportunity"):
            if number in values:
                values[number] = float(values[number])
        if "sentiment" in values:
            values["sentiment"] = float(values["sentiment"])
        for text in ("kind", "language", "topic"):
            if text in values:
                values[text] = str(values[text])
        out[int(row.message_id)] = TriageSignals(**values)
    return out


# -- scoring the pipeline's tasks --------------------------------------------------------------


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def score_tasks(
    session: Session,
    workspace_id: int,
    task_ids: Sequence[int],
    now: datetime,
    *,
    triage_lookup: TriageLookup = stored_triage,
    policies: Policies | None = None,
) -> None:
    """Score opened or reopened tasks and start their response clock (flushes only)."""
    if not task_ids:
        return
    policies = policies or load_policies(session, workspace_id)
    team_hours = team_business_hours(session, workspace_id, policies.business_hours)
    rows = repo.scoring_rows(session, workspace_id, task_ids)
    signals = triage_lookup(
        session, workspace_id, [r.message_id for r in rows if r.message_id is not None]
    )
    customers = sorted({r.customer_id for r in rows if r.customer_id is not None})
    contacts = repo.earlier_contacts(session, workspace_id, customers, now - REPEAT_CONTACT_WINDOW)
    last_agents = last_agents_of_customers(session, workspace_id, customers)
    updates = []
    for r in rows:
        sig = signals.get(r.message_id, TriageSignals()) if r.message_id else TriageSignals()
        metrics = r.metrics or {}
        profile = r.profile or {}
        kind = sig.kind or r.task_kind
        item = ScoringInput(
            channel=r.channel,
            visibility=r.visibility or "public",
            created_at=as_utc(r.message_created_at or r.waiting_since),
            kind=kind,
            sentiment=sig.sentiment,
            severity=sig.severity,
            urgency=sig.urgency,
            sales_opportunity=max(sig.sales_opportunity, 1.0 if kind == "sales_lead" else 0.0),
            customer_tier=r.tier,
            lifetime_value=_float(r.lifetime_value),
            followers=int(r.followers or 0),
            verified=bool(r.verified),
            engagement=float(profile.get("engagement", 0.0) or 0.0),
            likes=int(metrics.get("likes", 0)),
            reposts=int(metrics.get("reposts", 0)),
            replies=int(metrics.get("replies", 0)),
            quotes=int(metrics.get("quotes", 0)),
            repeat_contacts=max(contacts.get(r.customer_id, 1) - 1, 0) if r.customer_id else 0,
        )
        score = score_value(item, policies.value, now)
        response = ResponseKind.FIRST if r.first_response_at is None else ResponseKind.NEXT
        target = select_target(policies.sla, r.channel, kind, score.total, response)
        hours = (
            team_hours.get(r.team_id, policies.business_hours)
            if r.team_id
            else policies.business_hours
        )
        clock = SlaClock(as_utc(r.waiting_since), target)
        moments = next_transition(clock, hours, policies.sla.warning_fractions)
        updates.append(
            {
                "b_id": r.task_id,
                "b_priority": score.total,
                "b_value": score.total,
                "b_breakdown": dict(score.breakdown),
                "b_due": moments[-1][1],
                "b_kind": kind,
                "b_language": sig.language,
                "b_topic": sig.topic,
                "b_tier": (r.tier or None) and str(r.tier).strip().lower(),
                "b_last_agent": last_agents.get(r.customer_id) if r.customer_id else None,
                "b_sla_started": clock.started_at,
                "b_sla_target": target.total_seconds(),
                "b_next_check": moments[0][1],
                "b_now": now,
            }
        )
    repo.write_scores(session, updates)


class ScoringHook:
    """The pipeline's ``on_tasks_changed`` hook: scores tasks inside its transaction."""

    def __init__(self, clock: Clock = utcnow, triage_lookup: TriageLookup = stored_triage) -> None:
        self.clock = clock
        self.triage_lookup = triage_lookup

    def __call__(self, session: Session, workspace_id: int, task_ids: Sequence[int]) -> None:
        score_tasks(session, workspace_id, task_ids, self.clock(), triage_lookup=self.triage_lookup)
