"""Service-level transitions in real time: warnings, breaches, and taking work back.

Each active task carries the moment its next transition is due (``sla_next_check_at``),
so the engine's timer looks only at tasks whose moment has come and wakes exactly then:
no polling of the whole list and no hourly job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from socialdesk.core.clock import as_utc
from socialdesk.core.work import TaskStatus
from socialdesk.priority.service import Policies, load_policies, team_business_hours
from socialdesk.priority.sla import SlaClock, SlaState, next_transition, sla_status
from socialdesk.routing import assignment_repository as assignments
from socialdesk.routing import repository as repo
from socialdesk.routing.models import NotificationKind


@dataclass
class SlaOutcome:
    changed: list[int] = field(default_factory=list)  # tasks to re-rank or re-route
    warnings: int = 0
    breaches: int = 0
    taken_back: int = 0


def check_due(
    session: Session,
    workspace_id: int,
    now: datetime,
    policies: Policies | None = None,
    limit: int = 500,
) -> SlaOutcome:
    """Apply every transition due by ``now`` (flushes; the caller commits)."""
    policies = policies or load_policies(session, workspace_id)
    sla = policies.sla
    hours_of = team_business_hours(session, workspace_id, policies.business_hours)
    outcome = SlaOutcome()
    for row in repo.tasks_due_for_sla_check(session, workspace_id, now, limit):
        if (
            row.status not in TaskStatus.ACTIVE
            or row.sla_started_at is None
            or not row.sla_target_seconds
        ):
            # Answered or closed meanwhile: nothing to watch until it reopens.
            repo.update_task_fields(session, workspace_id, row.id, sla_next_check_at=None)
            continue
        hours = hours_of.get(row.team_id, policies.business_hours)
        clock = SlaClock(
            as_utc(row.sla_started_at),
            timedelta(seconds=row.sla_target_seconds),
            timedelta(seconds=row.sla_paused_seconds or 0.0),
            None if row.sla_paused_at is None else as_utc(row.sla_paused_at),
        )
        status = sla_status(clock, hours, now, sla.warning_fractions)
        upcoming = [
            moment
            for fraction, moment in next_transition(clock, hours, sla.warning_fractions)
            if fraction > status.elapsed_fraction
        ]
        next_check = upcoming[0] if upcoming else None
        detail = {
            "channel": row.channel,
            "due_at": status.due_at.isoformat(),
            "assignee_id": row.assignee_id,
            "elapsed_fraction": round(status.elapsed_fraction, 3),
        }
        if status.state is SlaState.BREACHED and row.sla_state != SlaState.BREACHED:
            outcome.breaches += 1
            values = {
                "priority": float(row.priority or 0.0) + sla.breach_boost,
                "sla_state": SlaState.BREACHED.value,
                "sla_warning_level": status.warning_level,
                "breached_at": now,
                "breach_count": int(row.breach_count or 0) + 1,
                "sla_next_check_at": None,
                "updated_at": now,
            }
            repo.add_notification(
                session,
                workspace_id,
                row.id,
                NotificationKind.SLA_BREACH,
                detail,
                now,
                team_id=row.team_id,
                user_id=row.assignee_id,
            )
            holder = row.assignee_id
            if (
                sla.reassign_on_breach
                and row.status == TaskStatus.ASSIGNED
                and holder is not None
                # Stickiness must not hand it straight back to the same agent.
                and assignments.take_back(
                    session,
                    workspace_id,
                    row.id,
                    holder,
                    now,
                    last_agent_id=None,
                    avoid_agent_id=holder,
                )
            ):
                assignments.close_assignment(session, row.id, holder, now, "sla_breach")
                repo.add_notification(
                    session,
                    workspace_id,
                    row.id,
                    NotificationKind.REASSIGNED,
                    detail,
                    now,
                    team_id=row.team_id,
                    user_id=holder,
                )
                outcome.taken_back += 1
            repo.update_task_fields(session, workspace_id, row.id, **values)
            outcome.changed.append(row.id)
        elif status.state is SlaState.WARNING and status.warning_level > row.sla_warning_level:
            outcome.warnings += 1
            repo.add_notification(
                session,
                workspace_id,
                row.id,
                NotificationKind.SLA_WARNING,
                detail | {"level": status.warning_level},
                now,
                team_id=row.team_id,
                user_id=row.assignee_id,
            )
            repo.update_task_fields(
                session,
                workspace_id,
                row.id,
                sla_state=SlaState.WARNING.value,
                sla_warning_level=status.warning_level,
                sla_next_check_at=next_check,
                updated_at=now,
            )
            outcome.changed.append(row.id)
        else:
            repo.update_task_fields(session, workspace_id, row.id, sla_next_check_at=next_check)
    session.flush()
    return outcome
