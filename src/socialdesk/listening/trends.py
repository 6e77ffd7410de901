"""Trends: volume, sentiment, top terms and hashtags over time, per rule, topic or channel.

``summarise`` is pure (messages in, figures out); ``build`` reads the range's inbound
messages with their triage and rule matches and hands them over.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from socialdesk.core.errors import InvalidInput
from socialdesk.listening import repository as repo
from socialdesk.listening.grouping import content_terms
from socialdesk.listening.repository import HeardMessage
from socialdesk.listening.rules import hashtags_of

MAX_RANGE = timedelta(days=92)
MAX_BUCKETS = 2000
TOP = 10
GroupBy = Literal["rule", "topic", "channel", "hashtag"]


class GroupTrend(BaseModel):
    group: str
    total: int
    counts: list[int]
    negative: list[int]


class TrendsOut(BaseModel):
    since: datetime
    until: datetime
    by: str
    buckets: list[datetime]
    volume: list[int]
    negative: list[int]
    mean_sentiment: list[float | None]
    groups: list[GroupTrend]
    top_terms: list[tuple[str, int]]
    top_hashtags: list[tuple[str, int]]


def _groups_of(m: HeardMessage, by: GroupBy, rule_names: dict[int, str]) -> list[str]:
    if by == "rule":
        return [rule_names.get(r, f"rule {r}") for r in m.rule_ids]
    if by == "topic":
        return [m.topic or "(none)"]
    if by == "channel":
        return [m.channel]
    return sorted(hashtags_of(m.text))


def summarise(
    messages: Sequence[HeardMessage],
    since: datetime,
    until: datetime,
    *,
    by: GroupBy,
    bucket: timedelta,
    rule_names: dict[int, str] | None = None,
    top: int = TOP,
) -> TrendsOut:
    if until <= since:
        raise InvalidInput("the range must end after it starts")
    if until - since > MAX_RANGE:
        raise InvalidInput(f"the range is at most {MAX_RANGE.days} days")
    count = -(-(until - since) // bucket)
    if count > MAX_BUCKETS:
        raise InvalidInput(f"{count} buckets; choose a larger bucket (at most {MAX_BUCKETS})")
    names = rule_names or {}
    starts = [since + i * bucket for i in range(count)]
    volume = [0] * count
    negative = [0] * count
    score_sum = [0.0] * count
    scored = [0] * count
    per_group: dict[str, list[int]] = defaultdict(lambda: [0] * count)
    per_group_neg: dict[str, list[int]] = defaultdict(lambda: [0] * count)
    words: Counter[str] = Counter()
    tags: Counter[str] = Counter()
    for m in messages:
        at = m.created_at
        if at < since or at >= until:
            continue
        i = int((at - since) // bucket)
        volume[i] += 1
        bad = m.sentiment == "negative"
        negative[i] += int(bad)
        if m.sentiment_score is not None:
            score_sum[i] += m.sentiment_score
            scored[i] += 1
        for group in _groups_of(m, by, names):
            per_group[group][i] += 1
            per_group_neg[group][i] += int(bad)
        words.update(content_terms(m.text))
        tags.update(hashtags_of(m.text))
    groups = sorted(
        (
            GroupTrend(group=g, total=sum(c), counts=c, negative=per_group_neg[g])
            for g, c in per_group.items()
        ),
        key=lambda g: (-g.total, g.group),
    )
    return TrendsOut(
        since=since,
        until=until,
        by=by,
        buckets=starts,
        volume=volume,
        negative=negative,
        mean_sentiment=[
            round(score_sum[i] / scored[i], 3) if scored[i] else None for i in range(count)
        ],
        groups=groups[: top * 2],
        top_terms=words.most_common(top),
        top_hashtags=tags.most_common(top),
    )


def build(
    session: Session,
    workspace_id: int,
    since: datetime,
    until: datetime,
    *,
    by: GroupBy,
    bucket: timedelta,
) -> TrendsOut:
    if until <= since:
        raise InvalidInput("the range must end after it starts")
    if until - since > MAX_RANGE:
        raise InvalidInput(f"the range is at most {MAX_RANGE.days} days")
    messages = repo.inbound_between(session, workspace_id, since, until)
    names = {r.id: r.name for r in repo.rules(session, workspace_id)}
    return summarise(messages, since, until, by=by, bucket=bucket, rule_names=names)
