"""Retention: raw payloads and closed cases older than a workspace's limits are pruned.

Set per workspace (``settings["retention"]``): ``raw_payload_days`` drops the platforms' raw
payloads of processed events (their keys stay, so a late redelivery is still a duplicate);
``closed_case_days`` deletes resolved cases with everything that hangs off them. Either may
be absent (keep forever). The server applies them daily (``compliance.schedule``);
``socialdesk compliance prune`` and the API apply them at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from socialdesk.compliance import repository as repo
from socialdesk.core import audit
from socialdesk.core.errors import InvalidInput
from socialdesk.core.models import Workspace

SETTING = "retention"
FIELDS = ("raw_payload_days", "closed_case_days")


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    raw_payload_days: int | None = None
    closed_case_days: int | None = None

    def as_dict(self) -> dict[str, int | None]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class PruneReport:
    raw_payloads: int
    closed_cases: int
    raw_events_of_cases: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def policy_from_dict(data: Mapping[str, Any]) -> RetentionPolicy:
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise InvalidInput(f"unknown retention field(s): {', '.join(sorted(unknown))}")
    values: dict[str, int | None] = {}
    for name in FIELDS:
        value = data.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 36_500
        ):
            raise InvalidInput(f"{name} must be a whole number of days from 1 to 36500, or null")
        values[name] = value
    return RetentionPolicy(**values)


def policy_of(workspace: Workspace) -> RetentionPolicy:
    return policy_from_dict((workspace.settings or {}).get(SETTING, {}))


def set_policy(
    session: Session, workspace: Workspace, data: Mapping[str, Any], actor: audit.Actor
) -> RetentionPolicy:
    policy = policy_from_dict(data)
    before = policy_of(workspace)
    workspace.settings = {**(workspace.settings or {}), SETTING: policy.as_dict()}
    audit.record(
        session,
        workspace.id,
        actor,
        "retention.updated",
        "workspace",
        workspace.id,
        before=before.as_dict(),
        after=policy.as_dict(),
    )
    session.flush()
    return policy


def prune(
    session: Session, workspace: Workspace, now: datetime, actor: audit.Actor | None = None
) -> PruneReport:
    """Apply the workspace's limits once (flushes; the caller commits)."""
    actor = actor or audit.default_actor()
    policy = policy_of(workspace)
    payloads = cases = case_events = 0
    if policy.raw_payload_days is not None:
        cutoff = now - timedelta(days=policy.raw_payload_days)
        payloads = repo.prune_raw_payloads(session, workspace.id, cutoff, now)
    if policy.closed_case_days is not None:
        cutoff = now - timedelta(days=policy.closed_case_days)
        conversation_ids = repo.closed_conversation_ids(session, workspace.id, cutoff)
        raw_ids = repo.raw_event_ids_of_conversations(session, conversation_ids)
        cases = repo.delete_conversations(session, conversation_ids)
        case_events = repo.delete_raw_events(session, raw_ids)
    report = PruneReport(payloads, cases, case_events)
    if payloads or cases:
        audit.record(
            session,
            workspace.id,
            actor,
            "retention.pruned",
            "workspace",
            workspace.id,
            after=report.as_dict() | policy.as_dict(),
            now=now,
        )
    session.flush()
    return report
