"""A workspace's stored traffic as plain data for the simulator: "how would last week have
gone with two more agents, or with fifo?".

The simulator imports no storage; this reader turns stored messages, their authors and
customers, and their stored triage into inbound events plus ``StoredFacts`` (by external
id), together with the workspace's own value, SLA and business-hours policies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from socialdesk.analytics import repository as repo
from socialdesk.channels.events import InboundEvent, Metrics, Party
from socialdesk.core.clock import as_utc
from socialdesk.core.workspaces import get_workspace
from socialdesk.priority import service as priority
from socialdesk.simulation.items import Signals, StoredFacts, StoredTraffic, urgent

# Triage grades severity 0 (nothing to worry about) .. 4 (someone may be at risk).
_SEVERITY_MAX = 4.0


def _metrics(raw: Any) -> Metrics:
    data = raw if isinstance(raw, dict) else {}
    known = {k: int(v) for k, v in data.items() if k in Metrics.model_fields and _count(v)}
    return Metrics(**known)


def _count(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _signals(row: Any) -> Signals:
    names = row.signals.keys() if isinstance(row.signals, dict) else ()
    return Signals(
        kind=row.kind,
        needs_response=float(row.needs_response) >= 0.5,
        route_to=row.route_to,
        sentiment=None if row.sentiment_score is None else float(row.sentiment_score),
        severity=min(1.0, max(0.0, float(row.severity or 0) / _SEVERITY_MAX)),
        urgency=urgent(names),
        language=None if row.language in (None, "", "und") else row.language,
        topic=row.topic,
    )


def read_stored_traffic(
    session: Session, workspace_id: int, since: datetime | None, until: datetime | None
) -> StoredTraffic:
    """The inbound messages of ``[since, until)`` (all of them when open-ended)."""
    policies = priority.load_policies(session, workspace_id)
    events: list[InboundEvent] = []
    facts: dict[str, StoredFacts] = {}
    untriaged = 0
    for row in repo.stored_inbound(session, workspace_id, since, until):
        author = row.author_id or f"unknown-{row.id}"
        events.append(
            InboundEvent(
                channel=row.channel,
                external_id=row.external_id,
                visibility=row.visibility,
                author=Party(
                    id=author,
                    followers=int(row.followers or 0),
                    verified=bool(row.verified),
                    is_brand=bool(row.is_brand),
                ),
                created_at=as_utc(row.created_at),
                reply_to=row.reply_to_external_id,
                metrics=_metrics(row.metrics),
            )
        )
        if row.kind is None:
            untriaged += 1
            continue
        customer = (
            f"customer:{row.customer_id}"
            if row.customer_id is not None
            else f"{row.channel}:{author}"
        )
        facts[row.external_id] = StoredFacts(
            signals=_signals(row),
            customer=customer,
            conversation=f"conversation:{row.conversation_id}",
            tier=row.tier,
            lifetime_value=None if row.lifetime_value is None else float(row.lifetime_value),
        )
    return StoredTraffic(
        events=events,
        facts=facts,
        value_policy=policies.value,
        sla_policy=policies.sla,
        business_hours=policies.business_hours,
        untriaged=untriaged,
    )


def load_stored_traffic(
    session_factory: sessionmaker[Session],
    slug: str,
    since: datetime | None,
    until: datetime | None,
) -> StoredTraffic:
    """Read a workspace's traffic by its slug (NotFound if there is no such workspace)."""
    with session_factory() as session:
        workspace = get_workspace(session, slug)
        return read_stored_traffic(session, workspace.id, since, until)
