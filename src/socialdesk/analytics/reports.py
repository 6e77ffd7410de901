"""Business reports over any range of days in a chosen timezone: the figures of the whole
range, broken down by channel, team, agent, topic and kind, and per day or hour."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from socialdesk.analytics import report_repository as repo
from socialdesk.analytics.report_metrics import (
    DIMENSIONS,
    FIGURE_NAMES,
    CaseFacts,
    Figures,
    ReportRange,
    ReportTally,
    SlaOutcome,
    handling_seconds,
    response_turns,
    sentiment_change,
    sla_outcome,
)
from socialdesk.conversations.models import Direction
from socialdesk.core.clock import as_utc

NONE = "none"


@dataclass(frozen=True, slots=True)
class Names:
    teams: dict[int, str]
    users: dict[int, str]

    def team(self, team_id: int | None) -> str:
        return NONE if team_id is None else self.teams.get(team_id, f"team {team_id}")

    def agent(self, user_id: int | None) -> str:
        return "unassigned" if user_id is None else self.users.get(user_id, f"user {user_id}")


def load_names(session: Session, workspace_id: int) -> Names:
    return Names(repo.team_names(session, workspace_id), repo.user_names(session, workspace_id))


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A case with its task and what the report derives from them."""

    row: Row[Any]
    facts: CaseFacts


def case_labels(row: Any, names: Names) -> dict[str, str]:
    agent = row.assignee_id if row.assignee_id is not None else row.last_agent_id
    return {
        "channel": row.channel,
        "team": names.team(row.team_id),
        "agent": names.agent(agent) if row.task_id is not None else NONE,
        "topic": row.topic or NONE,
        "kind": row.kind or NONE,
    }


def iter_cases(
    session: Session,
    workspace_id: int,
    span: ReportRange,
    now: datetime,
    names: Names,
    *,
    with_task: bool = False,
) -> Iterator[CaseRecord]:
    """The cases the customer started in the range, a chunk at a time."""
    rows = repo.cases_in_range(session, workspace_id, span.start, span.end, with_task=with_task)
    while chunk := list(islice(rows, repo.CHUNK)):
        ids = [int(r.id) for r in chunk]
        order = repo.message_order(session, ids)
        extras = repo.shifts_and_links(session, ids)
        assigned = repo.first_assignments(
            session, [int(r.task_id) for r in chunk if r.task_id is not None]
        )
        for row in chunk:
            yield CaseRecord(row, _facts(row, order[int(row.id)], extras, assigned, names, now))


def _facts(
    row: Any,
    messages: list[tuple[bool, datetime, float | None]],
    extras: dict[int, tuple[int, int, int]],
    assigned: dict[int, datetime],
    names: Names,
    now: datetime,
) -> CaseFacts:
    has_task = row.task_id is not None
    sequence = [(inbound, at) for inbound, at, _ in messages]
    shifts, links, opened = extras.get(int(row.id), (0, 0, 0))
    return CaseFacts(
        started_at=as_utc(row.first_message_at),
        labels=case_labels(row, names),
        has_task=has_task,
        turns=response_turns(sequence),
        resolved_at=row.resolved_at if row.status == "resolved" else None,
        sla=sla_outcome(
            status=row.task_status,
            due_at=row.due_at,
            first_response_at=row.first_response_at,
            breach_count=int(row.breach_count or 0),
            reopen_count=int(row.reopen_count or 0),
            now=now,
        )
        if has_task
        else SlaOutcome.NONE,
        handling_seconds=handling_seconds(sequence, assigned.get(int(row.task_id)))
        if has_task
        else None,
        sentiment_change=sentiment_change([score for inbound, _, score in messages if inbound]),
        shifts=shifts,
        kb_links=links,
        kb_links_opened=opened,
    )


def message_labels(row: Any, names: Names) -> dict[str, str]:
    inbound = row.direction == Direction.INBOUND
    if inbound or row.author_user_id is None:
        agent = row.assignee_id if row.assignee_id is not None else row.last_agent_id
    else:
        agent = row.author_user_id
    has_task = bool(row.has_task)
    return {
        "channel": row.channel,
        "team": names.team(row.team_id),
        "agent": names.agent(agent) if (has_task or not inbound) else NONE,
        "topic": (row.topic if inbound else None) or row.task_topic or NONE,
        "kind": (row.kind if inbound else None) or row.task_kind or NONE,
    }


@dataclass(frozen=True, slots=True)
class Report:
    span: ReportRange
    bucket: str
    generated_at: datetime
    total: Figures
    breakdowns: dict[str, dict[str, Figures]]
    buckets: dict[str, Figures]

    def as_dict(self) -> dict[str, Any]:
        return {
            "range": {
                "from": self.span.first.isoformat(),
                "to": self.span.last.isoformat(),
                "timezone": self.span.tz_name,
                "start": self.span.start.isoformat(),
                "end": self.span.end.isoformat(),
                "bucket": self.bucket,
            },
            "generated_at": self.generated_at.isoformat(),
            "total": self.total.summary(),
            "breakdowns": {
                dim: {label: f.summary() for label, f in sorted(values.items())}
                for dim, values in self.breakdowns.items()
            },
            "buckets": [{"bucket": key, **f.summary()} for key, f in self.buckets.items()],
        }

    def rows(self) -> Iterator[dict[str, Any]]:
        """One flat row per slice (the total, each breakdown value, each bucket), for CSV."""
        yield {"slice": "total", "value": "all", **self.total.summary()}
        for dim in DIMENSIONS:
            for label, figures in sorted(self.breakdowns[dim].items()):
                yield {"slice": dim, "value": label, **figures.summary()}
        for key, figures in self.buckets.items():
            yield {"slice": self.bucket, "value": key, **figures.summary()}


REPORT_COLUMNS = ("slice", "value", *FIGURE_NAMES)


def build_report(
    session: Session, workspace_id: int, span: ReportRange, *, bucket: str, now: datetime
) -> Report:
    """Streams the range's messages and cases once each into the tallies."""
    tally = ReportTally(span, bucket)
    names = load_names(session, workspace_id)
    for row in repo.message_groups(session, workspace_id, span.start, span.end):
        tally.add_message(
            inbound=row.direction == Direction.INBOUND,
            at=datetime.fromtimestamp(int(row.slot) * repo.SLOT_SECONDS, UTC),
            labels=message_labels(row, names),
            count=int(row.n),
        )
    for record in iter_cases(session, workspace_id, span, now, names):
        tally.add_case(record.facts)
    return Report(
        span=span,
        bucket=bucket,
        generated_at=now,
        total=tally.total,
        breakdowns=tally.breakdowns,
        buckets=tally.buckets,
    )
