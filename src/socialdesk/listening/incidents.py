"""Incidents: one outage or backlash handled as one piece of work.

An alert opens an incident (or joins the open one of the same series); a supervisor can
open one by hand. The related messages are grouped into it by its criteria (topic,
hashtags, terms) through ``listening.grouping``; a person can add or remove a message, and
a removal sticks. Resolving updates or closes the grouped cases. Every step lands in the
incident's timeline with who took it and when. Services flush; the caller commits.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from socialdesk.conversations import actions
from socialdesk.core.errors import InvalidInput, NotFound
from socialdesk.core.work import TaskStatus
from socialdesk.listening import grouping, similarity
from socialdesk.listening import repository as repo
from socialdesk.listening.models import (
    Alert,
    Incident,
    IncidentEvent,
    IncidentMessage,
    IncidentStatus,
)
from socialdesk.listening.rules import hashtags_of
from socialdesk.people.models import User

# How far back an incident's grouping looks for related messages before it was opened.
log = logging.getLogger(__name__)

LOOKBACK = timedelta(hours=6)
SAMPLE_POSTS = 8
# The latest members that teach grouping an incident's characteristic terms.
MAX_SEED = 500
# An incident stays open for days: grouping's window is measured from its last message.
GROUPING = grouping.GroupingPolicy()


def record(
    session: Session,
    incident: Incident,
    kind: str,
    user_id: int | None,
    now: datetime,
    **detail: Any,
) -> None:
    repo.add(
        session,
        IncidentEvent(
            workspace_id=incident.workspace_id,
            incident_id=incident.id,
            kind=kind,
            user_id=user_id,
            detail=dict(detail),
            created_at=now,
        ),
    )


def clean_criteria(criteria: Mapping[str, Any]) -> dict[str, Any]:
    topic = str(criteria.get("topic") or "").strip() or None
    hashtags = sorted(
        {
            "#" + str(t).strip().lstrip("#").lower()
            for t in criteria.get("hashtags") or []
            if str(t).strip().lstrip("#")
        }
    )
    terms = sorted({str(t).strip().lower() for t in criteria.get("terms") or [] if str(t).strip()})
    rule_ids = sorted({int(r) for r in criteria.get("rule_ids") or []})
    channel = str(criteria.get("channel") or "").strip() or None
    out: dict[str, Any] = {"hashtags": hashtags, "terms": terms, "rule_ids": rule_ids}
    if topic:
        out["topic"] = topic
    if channel:
        out["channel"] = channel
    return out


def open_incident(
    session: Session,
    workspace_id: int,
    *,
    title: str,
    criteria: Mapping[str, Any],
    now: datetime,
    user_id: int | None = None,
    message_ids: Sequence[int] = (),
) -> Incident:
    title = " ".join(title.split())
    if not title:
        raise InvalidInput("an incident needs a title")
    clean = clean_criteria(criteria)
    incident = repo.add(
        session,
        Incident(
            workspace_id=workspace_id,
            title=title[:300],
            status=IncidentStatus.OPEN,
            criteria=clean,
            opened_by_id=user_id,
            opened_at=now,
        ),
    )
    record(session, incident, "opened", user_id, now, title=incident.title, criteria=clean)
    for message_id in message_ids:
        add_message(session, workspace_id, incident.id, message_id, user_id=user_id, now=now)
    regroup(session, incident, now)
    return incident


def open_from_alert(session: Session, alert: Alert, now: datetime) -> Incident:
    """The alert's incident: the open one of the same series, or a new one."""
    found = repo.open_incident_for_series(session, alert.workspace_id, alert.series)
    if found is not None:
        alert.incident_id = found.id
        record(session, found, "alert", None, now, alert_id=alert.id, title=alert.title)
        regroup(session, found, now)
        return found
    incident = open_incident(
        session,
        alert.workspace_id,
        title=alert.title,
        criteria=criteria_of_series(alert.series, alert.detail),
        now=now,
        message_ids=[alert.message_id] if alert.message_id else (),
    )
    alert.incident_id = incident.id
    record(session, incident, "alert", None, now, alert_id=alert.id, title=alert.title)
    session.flush()
    return incident


def open_for_alerts(session: Session, alerts: Sequence[Alert], now: datetime) -> Incident:
    """One incident for alerts raised together (a burst fires its hashtag, topic and rule
    series at once): the open incident of any of their series, or a new one. Its criteria
    grow by each alert's series."""
    found = None
    for alert in alerts:
        found = repo.open_incident_for_series(session, alert.workspace_id, alert.series)
        if found is not None:
            break
    merged: dict[str, Any] = dict(found.criteria or {}) if found else {}
    for alert in alerts:
        extra = criteria_of_series(alert.series, alert.detail)
        for name in ("hashtags", "terms", "rule_ids"):
            merged[name] = list(merged.get(name) or []) + list(extra.get(name) or [])
        if extra.get("topic") and not merged.get("topic"):
            merged["topic"] = extra["topic"]
    if found is None:
        found = open_incident(
            session, alerts[0].workspace_id, title=alerts[0].title, criteria=merged, now=now
        )
    else:
        found.criteria = clean_criteria(merged)
    for alert in alerts:
        alert.incident_id = found.id
        record(session, found, "alert", None, now, alert_id=alert.id, title=alert.title)
    session.flush()
    regroup(session, found, now)
    return found


def criteria_of_series(series: str, detail: Mapping[str, Any]) -> dict[str, Any]:
    """What an alert on ``series`` groups by: its topic, hashtag, rule or channel."""
    kind, _, value = series.partition(":")
    criteria: dict[str, Any] = {}
    if kind == "topic":
        criteria["topic"] = value
    elif kind == "hashtag":
        criteria["hashtags"] = [value]
    elif kind == "rule":
        criteria["rule_ids"] = [int(value)] if value.isdigit() else []
    elif kind == "channel":
        criteria["channel"] = value
    for name in ("hashtags", "terms"):
        extra = detail.get(name)
        if extra:
            criteria[name] = list(criteria.get(name, [])) + list(extra)
    return criteria


def _incident(session: Session, workspace_id: int, incident_id: int) -> Incident:
    found = repo.lock_incident(session, workspace_id, incident_id)
    if found is None:
        raise NotFound(f"incident {incident_id} not found")
    return found


def regroup(session: Session, incident: Incident, now: datetime) -> int:
    """Group the stored messages that belong to the incident and are not yet decided on
    (from ``LOOKBACK`` before it opened until now)."""
    if incident.status != IncidentStatus.OPEN:
        return 0
    criteria = dict(incident.criteria or {})
    candidates = repo.candidate_messages(
        session,
        incident.workspace_id,
        incident.opened_at - LOOKBACK,
        now,
        topic=criteria.get("topic"),
        like_terms=[*criteria.get("hashtags", []), *criteria.get("terms", [])],
    )
    if criteria.get("rule_ids") or criteria.get("channel"):
        candidates += repo.inbound_between(
            session, incident.workspace_id, incident.opened_at - LOOKBACK, now, limit=5000
        )
    return absorb(session, incident, candidates, now)


def absorb(
    session: Session, incident: Incident, messages: Sequence[repo.HeardMessage], now: datetime
) -> int:
    """Add the messages that belong to the incident (a person's removal sticks)."""
    if incident.status != IncidentStatus.OPEN or not messages:
        return 0
    known = repo.known_member_ids(session, incident.id)
    fresh = {m.message_id: m for m in messages if m.message_id not in known}
    if not fresh:
        return 0
    members = repo.heard_messages(
        session,
        incident.workspace_id,
        [m.message_id for m in repo.incident_members(session, incident.id)][-MAX_SEED:],
    )
    seed = _profile(incident, members)
    criteria = dict(incident.criteria or {})
    ordered = sorted(fresh.values(), key=lambda m: m.created_at)
    chosen = [m for m in ordered if _belongs(criteria, seed, m)]
    taken = {m.message_id for m in chosen}
    rest = [m for m in ordered if m.message_id not in taken and _on_channel(criteria, m)]
    chosen += _close_in_meaning(members, rest)
    for m in chosen:
        session.add(
            IncidentMessage(
                incident_id=incident.id,
                message_id=m.message_id,
                conversation_id=m.conversation_id,
                removed=False,
                added_by_id=None,
                added_at=now,
            )
        )
    if chosen:
        session.flush()
    return len(chosen)


def _close_in_meaning(
    members: Sequence[repo.HeardMessage], rest: Sequence[repo.HeardMessage]
) -> list[repo.HeardMessage]:
    """The messages close in meaning to the incident's, where the embedding tier is
    installed (none elsewhere, or when it fails: grouping then stays with its other cues)."""
    encode = similarity.installed_encoder()
    if encode is None or not rest:
        return []
    try:
        found = similarity.close_in_meaning(
            [m.text for m in members], [m.text for m in rest], encode
        )
    except Exception:
        log.exception("embedding similarity failed; grouping by hashtags, topic and terms")
        return []
    return [rest[i] for i in found]


def _on_channel(criteria: Mapping[str, Any], message: repo.HeardMessage) -> bool:
    channel = criteria.get("channel")
    return not channel or message.channel == channel


def _item(m: repo.HeardMessage) -> grouping.GroupItem:
    return grouping.GroupItem(id=str(m.message_id), at=m.created_at, text=m.text, topic=m.topic)


def _profile(incident: Incident, members: Sequence[repo.HeardMessage]) -> grouping.Incident:
    """The incident as grouping sees it: its hashtags and topic, and the terms its messages
    use so far (grouping learns the characteristic ones)."""
    criteria = dict(incident.criteria or {})
    profile = grouping.Incident(
        key=f"incident:{incident.id}",
        hashtags={str(t) for t in criteria.get("hashtags") or []},
        topic=criteria.get("topic"),
    )
    for m in members:
        profile.add(_item(m))
    return profile


def _belongs(
    criteria: Mapping[str, Any], profile: grouping.Incident, message: repo.HeardMessage
) -> bool:
    """Grouping's verdict (hashtag, topic, characteristic terms), or one of the incident's
    explicit terms or rules; on the incident's channel when one is set."""
    channel = criteria.get("channel")
    if not _on_channel(criteria, message):
        return False
    if grouping.match(_item(message), profile, GROUPING) is not None:
        return True
    lowered = message.text.lower()
    if any(term in lowered for term in criteria.get("terms") or []):
        return True
    rules = set(criteria.get("rule_ids") or [])
    if rules and not rules.isdisjoint(message.rule_ids):
        return True
    only_channel = channel and not (
        criteria.get("topic") or criteria.get("hashtags") or criteria.get("terms") or rules
    )
    return bool(only_channel)


def add_message(
    session: Session,
    workspace_id: int,
    incident_id: int,
    message_id: int,
    *,
    user_id: int | None,
    now: datetime,
) -> None:
    incident = _incident(session, workspace_id, incident_id)
    message = repo.message_in_workspace(session, workspace_id, message_id)
    if message is None:
        raise NotFound(f"message {message_id} not found")
    member = repo.incident_member(session, incident.id, message_id)
    if member is None:
        repo.add(
            session,
            IncidentMessage(
                incident_id=incident.id,
                message_id=message_id,
                conversation_id=message.conversation_id,
                removed=False,
                added_by_id=user_id,
                added_at=now,
            ),
        )
    elif member.removed:
        member.removed = False
        member.added_by_id = user_id
        member.added_at = now
    else:
        return
    record(session, incident, "message_added", user_id, now, message_id=message_id)
    session.flush()


def remove_message(
    session: Session,
    workspace_id: int,
    incident_id: int,
    message_id: int,
    *,
    user_id: int,
    now: datetime,
) -> None:
    incident = _incident(session, workspace_id, incident_id)
    member = repo.incident_member(session, incident.id, message_id)
    if member is None or member.removed:
        raise NotFound(f"message {message_id} is not part of incident {incident_id}")
    member.removed = True
    record(session, incident, "message_removed", user_id, now, message_id=message_id)
    session.flush()


def resolve(
    session: Session,
    workspace_id: int,
    incident_id: int,
    *,
    user: User,
    now: datetime,
    note: str = "",
    close_cases: bool = True,
) -> Incident:
    """Resolve the incident. With ``close_cases`` the grouped cases we answered are resolved
    (a customer still waiting for a personal answer keeps their task); without it each
    case's history gets a line saying the incident was resolved."""
    incident = _incident(session, workspace_id, incident_id)
    if incident.status == IncidentStatus.RESOLVED:
        return incident
    members = repo.incident_members(session, incident.id)
    conv_ids = sorted({m.conversation_id for m in members})
    tasks = repo.tasks_of_conversations(session, conv_ids)
    closed: list[int] = []
    for conv_id in conv_ids:
        task = tasks.get(conv_id)
        answered = task is None or task.status not in (TaskStatus.OPEN, TaskStatus.ASSIGNED)
        if close_cases and answered:
            actions.resolve(
                session,
                workspace_id=workspace_id,
                conversation_id=conv_id,
                actor=user,
                clock=lambda: now,
            )
            closed.append(conv_id)
        else:
            actions.record_event(
                session,
                workspace_id=workspace_id,
                conversation_id=conv_id,
                actor=user,
                event="incident_resolved",
                clock=lambda: now,
                incident_id=incident.id,
            )
    incident.status = IncidentStatus.RESOLVED
    incident.resolved_at = now
    incident.resolved_by_id = user.id
    incident.resolution = note.strip()[:4000]
    record(
        session,
        incident,
        "resolved",
        user.id,
        now,
        note=incident.resolution,
        closed_cases=closed,
        still_waiting=[c for c in conv_ids if c not in closed],
    )
    session.flush()
    return incident


# -- the incident page ------------------------------------------------------------------------


@dataclass
class MemberView:
    message_id: int
    conversation_id: int
    channel: str
    text: str
    created_at: datetime
    author: str
    followers: int
    sentiment: str | None
    task_status: str | None
    reply_state: str | None  # queued / sending / sent / failed, for our bulk answer
    reply_error: str | None


@dataclass
class IncidentView:
    incident: Incident
    members: list[MemberView]
    timeline: list[tuple[datetime, str, str, dict[str, Any]]]  # when, kind, who, detail
    volume: list[tuple[datetime, int]]  # per bucket
    sentiment: dict[str, int]
    reach: int
    authors: int
    samples: list[MemberView]
    top_hashtags: list[tuple[str, int]] = field(default_factory=list)
    replies: dict[str, int] = field(default_factory=dict)  # state -> count
    public_posts: list[tuple[str, str]] = field(default_factory=list)  # (text, state)


def view(
    session: Session, workspace_id: int, incident_id: int, bucket: timedelta = timedelta(minutes=15)
) -> IncidentView:
    incident = _incident(session, workspace_id, incident_id)
    members = repo.incident_members(session, incident.id)
    heard = repo.heard_messages(session, workspace_id, [m.message_id for m in members])
    conv_ids = sorted({m.conversation_id for m in heard})
    tasks = repo.tasks_of_conversations(session, conv_ids)
    replies = repo.incident_replies(session, incident.id)
    states = repo.outbox_states(session, [r.message_id for r in replies if r.message_id])
    reply_of = {r.conversation_id: r for r in replies if r.kind == "reply"}
    views: list[MemberView] = []
    for m in heard:
        reply = reply_of.get(m.conversation_id)
        state = states.get(reply.message_id) if reply and reply.message_id else None
        task = tasks.get(m.conversation_id)
        views.append(
            MemberView(
                message_id=m.message_id,
                conversation_id=m.conversation_id,
                channel=m.channel,
                text=m.text,
                created_at=m.created_at,
                author=m.author_handle or m.author_name,
                followers=m.followers,
                sentiment=m.sentiment,
                task_status=task.status if task else None,
                reply_state=state[0] if state else None,
                reply_error=state[1] if state else None,
            )
        )
    counts: Counter[datetime] = Counter()
    seconds = bucket.total_seconds()
    for m in heard:
        stamp = m.created_at.timestamp()
        counts[datetime.fromtimestamp(stamp - stamp % seconds, tz=m.created_at.tzinfo)] += 1
    events = repo.incident_events(session, incident.id)
    names = repo.user_names(session, [e.user_id for e in events])
    reach: dict[str, int] = {}
    for m in heard:
        reach[m.author_handle or str(m.author_id)] = m.followers
    tags: Counter[str] = Counter()
    for m in heard:
        tags.update(hashtags_of(m.text))
    reply_states: Counter[str] = Counter(
        states[r.message_id][0] for r in replies if r.kind == "reply" and r.message_id in states
    )
    posts = [
        (p.detail_text, states.get(p.message_id or 0, ("queued", None))[0])
        for p in _public_posts(session, workspace_id, replies)
    ]
    return IncidentView(
        incident=incident,
        members=views,
        timeline=[
            (e.created_at, e.kind, names.get(e.user_id or 0, "system"), dict(e.detail or {}))
            for e in events
        ],
        volume=sorted(counts.items()),
        sentiment=dict(Counter(m.sentiment or "unknown" for m in heard)),
        reach=sum(reach.values()),
        authors=len(reach),
        samples=sorted(views, key=lambda v: (-v.followers, v.created_at))[:SAMPLE_POSTS],
        top_hashtags=tags.most_common(8),
        replies=dict(reply_states),
        public_posts=posts,
    )


@dataclass(frozen=True, slots=True)
class _Post:
    message_id: int | None
    detail_text: str


def _public_posts(session: Session, workspace_id: int, replies: Sequence[Any]) -> list[_Post]:
    ids = [r.message_id for r in replies if r.kind == "public_post" and r.message_id]
    texts = {m.message_id: m.text for m in repo.heard_messages(session, workspace_id, ids)}
    return [_Post(i, texts.get(i, "")) for i in ids]
