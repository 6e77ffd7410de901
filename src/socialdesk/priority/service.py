"""Per-workspace policies, and scoring plus SLA applied to tasks as the pipeline opens them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.core.bulk import id_in
from socialdesk.core.clock import Clock, as_utc, utcnow
from socialdesk.core.errors import InvalidInput
from socialdesk.core.scoping import workspace_check
from socialdesk.priority import repository as repo
from socialdesk.priority.scoring import FACTORS, ScoringInput, ValuePolicy, score_value
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

if TYPE_CHECKING:
    from socialdesk.triage.hook import FastTriageHook

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
        routing=replace(
            routing,
            pressure_weight=sla.pressure_weight,
            rescue_after=sla.rescue_after,
            top_class_from=sla.top_class_from,
        ),
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


def change_policies(
    session: Session,
    workspace_id: int,
    *,
    now: datetime,
    value: Mapping[str, Any] | None = None,
    sla: Mapping[str, Any] | None = None,
    routing: Mapping[str, Any] | None = None,
    business_hours: Mapping[str, Any] | None = None,
) -> Policies:
    """An admin's change of policy (the console's and the API's): store the given parts,
    then re-score the open work at once, so the lists re-sort and due times follow."""
    policies = update_policies(
        session,
        workspace_id,
        value=value,
        sla=sla,
        routing=routing,
        business_hours=business_hours,
    )
    score_tasks(session, workspace_id, repo.active_task_ids(session, workspace_id), now)
    return policies


def set_value_weights(
    session: Session, workspace_id: int, weights: Mapping[str, float], now: datetime
) -> Policies:
    """Change some of the business-value weights (the others stay) and re-score."""
    unknown = sorted(set(weights) - set(FACTORS))
    if unknown:
        raise InvalidInput(f"no weight {unknown[0]!r}: the weights are {', '.join(FACTORS)}")
    current = load_policies(session, workspace_id).value.to_dict()
    current["weights"] = {**current["weights"], **weights}
    return change_policies(session, workspace_id, value=current, now=now)


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

# How urgent each triage signal makes an item (the strongest one counts).
SIGNAL_URGENCY = {
    "safety": 1.0,
    "outage": 0.7,
    "legal_threat": 0.7,
    "churn_threat": 0.6,
    "vulnerable_customer": 0.6,
    "repeat_contact": 0.3,
    "shouting": 0.2,
}


def stored_triage(
    session: Session, workspace_id: int, message_ids: Sequence[int]
) -> dict[int, TriageSignals]:
    """The triage results stored for these messages (none where triage did not run)."""
    from socialdesk.triage.models import TriageResultRow

    if not message_ids:
        return {}
    # The columns scoring reads, not whole rows: no explanation or model versions decoded.
    rows = session.execute(
        select(
            TriageResultRow.message_id,
            TriageResultRow.kind,
            TriageResultRow.sentiment_score,
            TriageResultRow.severity,
            TriageResultRow.language,
            TriageResultRow.topic,
            TriageResultRow.signals,
        ).where(
            workspace_check(TriageResultRow.workspace_id, workspace_id),
            id_in(session, TriageResultRow.message_id, message_ids),
        )
    )
    return {
        row.message_id: _signals(
            row.kind, row.sentiment_score, row.severity, row.language, row.topic, row.signals
        )
        for row in rows
    }


def _signals(
    kind: str,
    sentiment: float,
    severity: int,
    language: str | None,
    topic: str | None,
    signals: Mapping[str, Any] | None,
) -> TriageSignals:
    return TriageSignals(
        kind=kind,
        sentiment=float(sentiment),
        severity=min(max(float(severity) / 4.0, 0.0), 1.0),
        urgency=max((SIGNAL_URGENCY.get(name, 0.0) for name in signals or {}), default=0.0),
        language=language or None,
        topic=topic,
    )


class HandedTriage:
    """A ``TriageLookup`` that takes the results the pipeline's triage hook has just stored
    in the same transaction (``FastTriageHook.take_results``) and reads only the others back
    (``stored_triage``): the same signals, without a query and a decoding of each row."""

    def __init__(self, hook: FastTriageHook) -> None:
        self.hook = hook

    def __call__(
        self, session: Session, workspace_id: int, message_ids: Sequence[int]
    ) -> Mapping[int, TriageSignals]:
        handed = self.hook.take_results(session, workspace_id, message_ids)
        out = {
            i: _signals(r.kind, r.sentiment_score, r.severity, r.language, r.topic, r.signals)
            for i, r in handed.items()
        }
        rest = [i for i in message_ids if i not in out]
        out.update(stored_triage(session, workspace_id, rest))
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
    restart_clock: bool = True,
) -> None:
    """Score opened or reopened tasks and start their response clock (flushes only).

    With ``restart_clock=False`` (new CRM data for a task already waiting) only the value
    changes; the response clock and any breach boost are kept."""
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
    if restart_clock:
        repo.write_scores(session, updates)
        return
    olds = {r.task_id: (float(r.old_priority or 0.0), float(r.old_value or 0.0)) for r in rows}
    repo.write_rescores(
        session,
        [
            {
                "b_id": u["b_id"],
                "b_priority": u["b_value"] + olds[u["b_id"]][0] - olds[u["b_id"]][1],
                "b_value": u["b_value"],
                "b_breakdown": u["b_breakdown"],
                "b_tier": u["b_tier"],
                "b_now": now,
            }
            for u in updates
        ],
    )


def rescore_customers(
    session: Session,
    workspace_id: int,
    customer_ids: Sequence[int],
    now: datetime,
    *,
    triage_lookup: TriageLookup = stored_triage,
) -> list[int]:
    """Re-score the active tasks of customers whose CRM data changed; returns their ids."""
    task_ids = repo.active_tasks_of_customers(session, workspace_id, customer_ids)
    score_tasks(
        session, workspace_id, task_ids, now, triage_lookup=triage_lookup, restart_clock=False
    )
    return task_ids


class ScoringHook:
    """The pipeline's ``on_tasks_changed`` hook: scores tasks inside its transaction."""

    def __init__(self, clock: Clock = utcnow, triage_lookup: TriageLookup = stored_triage) -> None:
        self.clock = clock
        self.triage_lookup = triage_lookup

    def __call__(self, session: Session, workspace_id: int, task_ids: Sequence[int]) -> None:
        score_tasks(session, workspace_id, task_ids, self.clock(), triage_lookup=self.triage_lookup)


# -- waiting on the customer -------------------------------------------------------------------


def _task_for_sla(session: Session, workspace_id: int, task_id: int) -> Any:
    from socialdesk.core.errors import NotFound
    from socialdesk.core.work import Task

    task = session.get(Task, task_id)
    if task is None or task.workspace_id != workspace_id:
        raise NotFound(f"no task {task_id} in this workspace")
    return task


def pause_sla(session: Session, workspace_id: int, task_id: int, now: datetime) -> None:
    """The item waits on the customer (details asked for): its response clock stops."""
    task = _task_for_sla(session, workspace_id, task_id)
    if task.sla_started_at is None or task.sla_paused_at is not None:
        return
    task.sla_paused_at = now
    task.sla_state = "paused"
    task.sla_next_check_at = None
    task.updated_at = now
    session.flush()


def resume_sla(session: Session, workspace_id: int, task_id: int, now: datetime) -> None:
    """The customer is back: the clock runs again, its due time moved by the pause."""
    task = _task_for_sla(session, workspace_id, task_id)
    if task.sla_paused_at is None or task.sla_started_at is None or not task.sla_target_seconds:
        return
    policies = load_policies(session, workspace_id)
    hours = team_business_hours(session, workspace_id, policies.business_hours).get(
        task.team_id, policies.business_hours
    )
    clock = SlaClock(
        as_utc(task.sla_started_at),
        timedelta(seconds=task.sla_target_seconds),
        timedelta(seconds=task.sla_paused_seconds or 0.0),
        as_utc(task.sla_paused_at),
    ).resume(now, hours)
    moments = next_transition(clock, hours, policies.sla.warning_fractions)
    task.sla_paused_at = None
    task.sla_paused_seconds = clock.paused_total.total_seconds()
    task.due_at = moments[-1][1]
    # The SLA timer looks again at once and sets the state from there.
    task.sla_state = "ok" if task.breached_at is None else "breached"
    task.sla_warning_level = 0 if task.breached_at is None else task.sla_warning_level
    task.sla_next_check_at = now if task.breached_at is None else None
    task.updated_at = now
    session.flush()
