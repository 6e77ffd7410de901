"""The supervisor dashboard: every figure of the screen gathered in one read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from socialdesk.analytics import metrics
from socialdesk.analytics import repository as repo
from socialdesk.core.clock import Clock, utcnow

WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Dashboard:
    now: datetime
    volume: metrics.HourlyVolume
    queues: list[metrics.QueueState]
    sla_by_channel: list[metrics.ServiceLevel]
    sla_by_team: list[metrics.ServiceLevel]
    first_response: metrics.Histogram
    agents: list[metrics.AgentLoad]
    resolved_24h: int  # resolved within the window (24 h unless another was asked for)
    sentiment: list[metrics.TrendPoint] = field(default_factory=list)
    topics: list[tuple[str, int]] = field(default_factory=list)
    window: timedelta = WINDOW

    @property
    def open_total(self) -> int:
        return sum(q.depth for q in self.queues)

    @property
    def oldest_wait_seconds(self) -> float:
        return max((q.oldest_wait_seconds for q in self.queues), default=0.0)


def build_dashboard(
    session: Session,
    workspace_id: int,
    *,
    clock: Clock = utcnow,
    presence: dict[int, str] | None = None,
    capacity: dict[int, int] | None = None,
    sentiment_rows: list[tuple[datetime, float]] | None = None,
    sentiment_trend: list[metrics.TrendPoint] | None = None,
    topic_counts: list[tuple[str, int]] | None = None,
    window: timedelta = WINDOW,
) -> Dashboard:
    """Presence, capacity, sentiment and topics come from routing and triage. Counting and
    grouping happen in the database, so the cost does not grow with every open item."""
    now = clock()
    since = now - window
    hours = max(1, round(window.total_seconds() / 3600))
    volume = metrics.hourly_volume(
        repo.inbound_per_channel_hour(session, workspace_id, since), now=now, hours=hours
    )
    groups = repo.service_level_groups(session, workspace_id, since, now)
    teams = repo.team_names(session, workspace_id)
    by_channel = metrics.merge_levels((ch, n, a, d, w) for ch, _t, _q, n, a, d, w in groups)
    by_team = metrics.merge_levels(
        # Work not yet given to a team is counted under its department's list.
        ((teams.get(t, f"{q} list") if t else f"{q} list"), n, a, d, w)
        for _ch, t, q, n, a, d, w in groups
    )
    queues = [
        metrics.queue_state(q, depth, unassigned, oldest, now=now)
        for q, depth, unassigned, oldest in sorted(repo.queue_summary(session, workspace_id))
    ]
    minutes = repo.first_response_minutes(session, workspace_id, since)
    presence = presence or {}
    capacity = capacity or {}
    agents = [
        metrics.AgentLoad(
            user_id=u.id,
            name=u.name,
            presence=presence.get(u.id, "unknown"),
            load=load,
            capacity=capacity.get(u.id),
        )
        for u, load in repo.agents_with_load(session, workspace_id)
    ]
    return Dashboard(
        now=now,
        volume=volume,
        queues=queues,
        sla_by_channel=by_channel,
        sla_by_team=by_team,
        first_response=metrics.first_response_histogram(minutes),
        agents=agents,
        resolved_24h=repo.resolved_count_since(session, workspace_id, since),
        sentiment=sentiment_trend
        if sentiment_trend is not None
        else metrics.hourly_mean(sentiment_rows or [], now=now, hours=hours),
        topics=topic_counts or [],
        window=window,
    )
