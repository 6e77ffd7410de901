"""Recording who changed what: one call at every place a change of the kinds below is made.

Actions are ``<target>.<verb>``: user.created, user.updated, token.created, token.revoked,
channel_account.created, channel_account.updated, policy.updated, team.created,
taxonomy.updated, webhook.*, retention.updated, retention.pruned, customer.exported,
customer.erased, signin.succeeded, signin.failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from socialdesk.compliance import repository as repo
from socialdesk.compliance.models import AuditEvent
from socialdesk.core.clock import utcnow

SECRET_FIELDS = frozenset({"password", "password_hash", "secret", "token", "credentials"})


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: a person (by email), an API token (``token:NAME``) or the command line."""

    label: str
    user_id: int | None = None
    client: str = ""


CLI = Actor("cli")


def _redacted(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Secrets never enter the log; that they changed is enough."""
    if not values:
        return {}
    return {k: ("[redacted]" if k in SECRET_FIELDS else v) for k, v in values.items()}


def record(
    session: Session,
    workspace_id: int,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: object = "",
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Append one event (flushed; the caller's unit of work commits it with the change)."""
    return repo.add_audit_event(
        session,
        AuditEvent(
            workspace_id=workspace_id,
            actor=actor.label[:400],
            actor_user_id=actor.user_id,
            action=action,
            target_type=target_type,
            target_id=str(target_id)[:200],
            before=_redacted(before),
            after=_redacted(after),
            client=actor.client[:200],
            created_at=now or utcnow(),
        ),
    )


def changed(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, on both sides: what an auditor wants to read."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def event_as_dict(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "created_at": event.created_at.isoformat(),
        "actor": event.actor,
        "actor_user_id": event.actor_user_id,
        "client": event.client,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "before": event.before,
        "after": event.after,
    }
