"""`socialdesk bench listening`: a simulated week with an outage, a backlash and a viral
complaint, run through the production listening code.

The traffic is the generator's normal traffic (no built-in bursts) with three injected
events (``socialdesk.simulation.injected``). Every message goes, in time order, through
the same :class:`ListeningMonitor` production runs (one-minute steps, authors counted once),
and every public negative post through :func:`viral_verdict` as its engagement grows. An
alarm is credited to an event when at least ``credit_share`` of the messages its series
received in the alarm's window belong to that event; every other alarm is a false alarm.
Each event's incident is seeded by its alarms' series keys (or by the viral post) and
collects messages with :func:`group_messages`; the report gives the share of the event's
messages it holds, and the share of what it holds that belongs to the event.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from socialdesk.channels.events import InboundEvent
from socialdesk.listening.counting import Mention, series_keys
from socialdesk.listening.detection import Detection
from socialdesk.listening.grouping import GroupItem, Incident, group_messages
from socialdesk.listening.monitor import ListeningMonitor, MonitorConfig
from socialdesk.listening.viral import PostSignal, viral_verdict
from socialdesk.simulation.injected import InjectedEvent
from socialdesk.simulation.traffic import BrandProfile, generate

# Ages at which a public post's engagement is read (a poller's schedule), minutes.
POLL_MINUTES = (1, 2, 3, 5, 10, 15, 20, 30, 45, 60)
# Generated engagement counts are what a post has gathered after this long.
ENGAGEMENT_SETTLES = timedelta(hours=1)
TARGETS = {"surge_delay_minutes": 5.0, "false_alarms_per_week": 1.0, "grouped_share": 0.9}


def default_events(days: float) -> tuple[InjectedEvent, ...]:
    """A week: an outage on Thursday afternoon, a backlash on Friday evening, a viral
    complaint on Saturday morning. Shorter traffic: the three on its last day, four hours
    apart (the first day is the detectors' warm-up)."""
    if days >= 6:
        at = (timedelta(days=3, hours=14), timedelta(days=4, hours=20), timedelta(days=5, hours=9))
    elif days >= 2:
        last = timedelta(days=int(days) - 1)
        at = (last + timedelta(hours=10), last + timedelta(hours=14), last + timedelta(hours=18))
    else:
        raise ValueError("the listening benchmark needs at least two days of traffic")
    return (
        InjectedEvent("outage", "topic_surge", at[0], multiplier=10),
        InjectedEvent("backlash", "hashtag_backlash", at[1], multiplier=100, topic="billing"),
        InjectedEvent("viral", "viral_complaint", at[2]),
    )


@dataclass(frozen=True)
class BenchConfig:
    days: float = 7.0
    rate: float = 300.0
    seed: int = 1
    start: datetime = datetime(2026, 11, 23, tzinfo=UTC)
    classify: str = "truth"
    """Topic and sentiment from the generator's ground truth, or 'triage' (production)."""
    credit_share: float = 0.3
    monitor: MonitorConfig = field(default_factory=MonitorConfig)


@dataclass(slots=True)
class _Seen:
    at: datetime
    event: str | None


def _signals(
    events: list[InboundEvent], classify: str, sector: str
) -> list[tuple[str | None, bool]]:
    if classify == "truth":
        return [
            (e.extra["sim"].get("topic"), e.extra["sim"].get("sentiment") == "negative")
            for e in events
        ]
    if classify != "triage":
        raise ValueError("classify must be 'truth' or 'triage'")
    from socialdesk.simulation.items import triage_signals
    from socialdesk.triage.taxonomies import DEFAULT_TAXONOMIES, taxonomy_for_sector

    # Triage as the brand's workspace runs it: with its sector's topic taxonomy.
    taxonomy = DEFAULT_TAXONOMIES[taxonomy_for_sector(sector)]
    return [
        (s.topic, s.sentiment is not None and s.sentiment <= -0.05)
        for s in triage_signals(events, taxonomy)
    ]


def run_listening_benchmark(config: BenchConfig | None = None) -> dict[str, Any]:
    cfg = config or BenchConfig()
    events_spec = default_events(cfg.days)
    profile = BrandProfile(bursts_per_day=0.0, events=events_spec)
    began = time.perf_counter()
    traffic = list(generate(profile, cfg.start, timedelta(days=cfg.days), cfg.rate, cfg.seed))
    traffic = [e for e in traffic if not e.author.is_brand]
    generated = time.perf_counter() - began
    signals = _signals(traffic, cfg.classify, profile.sector)
    began = time.perf_counter()
    monitor = ListeningMonitor(cfg.start, cfg.monitor)
    step = cfg.monitor.step
    # Per series, the recent messages and the event each belongs to (for crediting alarms).
    recent: dict[str, deque[_Seen]] = defaultdict(deque)
    alarms: list[tuple[Detection, str | None]] = []
    longest = max(cfg.monitor.volume.scales + cfg.monitor.share.scales) + step
    for inbound, (topic, negative) in zip(traffic, signals, strict=True):
        for hit in monitor.advance(inbound.created_at):
            alarms.append((hit, _credit(hit, recent.get(hit.key, ()), step, cfg.credit_share)))
        keys = series_keys(topic=topic, channel=inbound.channel, text=inbound.text)
        event = inbound.extra["sim"].get("event")
        for key in keys:
            window = recent[key]
            window.append(_Seen(inbound.created_at, event))
            while window and inbound.created_at - window[0].at > longest:
                window.popleft()
        monitor.observe(Mention(inbound.created_at, inbound.author.id, keys, negative))
    end = cfg.start + timedelta(days=cfg.days)
    for hit in monitor.advance(end):
        alarms.append((hit, _credit(hit, recent.get(hit.key, ()), step, cfg.credit_share)))
    detect_seconds = time.perf_counter() - began
    viral = _viral_alerts(traffic, signals)
    per_event = [_event_report(spec, cfg, traffic, signals, alarms, viral) for spec in events_spec]
    false_alarms = [a for a, credited in alarms if credited is None]
    weeks = (cfg.days - cfg.monitor.volume.warmup / timedelta(days=1)) / 7
    organic_viral = [v for v in viral if v[0].extra["sim"].get("event") is None]
    report: dict[str, Any] = {
        "traffic": {
            "days": cfg.days,
            "rate_per_hour": cfg.rate,
            "messages": len(traffic),
            "seed": cfg.seed,
            "classify": cfg.classify,
        },
        "events": per_event,
        "false_alarms": {
            "count": len(false_alarms),
            "per_week": round(len(false_alarms) / weeks, 2) if weeks > 0 else None,
            "watched_weeks": round(weeks, 2),
            "alarms": [_alarm_json(a) for a in false_alarms[:20]],
        },
        "alarms_total": len(alarms),
        "viral_alerts_on_organic_posts": {
            "count": len(organic_viral),
            "by_reason": _count(v[1] for v in organic_viral),
        },
        "targets": TARGETS,
        "seconds": {"generate": round(generated, 2), "detect": round(detect_seconds, 2)},
    }
    report["verdict"] = _verdict(report)
    return report


def _credit(hit: Detection, seen: Any, step: timedelta, share: float) -> str | None:
    """The event that most of the alarm window's messages belong to, if they are enough."""
    since = hit.at + step - hit.window
    counts: dict[str | None, int] = defaultdict(int)
    total = 0
    for item in seen:
        if since <= item.at < hit.at + step:
            counts[item.event] += 1
            total += 1
    best = max((e for e in counts if e is not None), key=lambda e: counts[e], default=None)
    if best is None or total == 0 or counts[best] / total < share:
        return None
    return best


def _viral_alerts(
    traffic: list[InboundEvent], signals: list[tuple[str | None, bool]]
) -> list[tuple[InboundEvent, str, datetime]]:
    """Each public negative post judged as a poller would read it; when it first turns viral."""
    found = []
    for inbound, (_, negative) in zip(traffic, signals, strict=True):
        if not negative or inbound.visibility != "public" or inbound.reply_to is not None:
            continue
        m = inbound.metrics
        for minutes in POLL_MINUTES:
            age = timedelta(minutes=minutes)
            grown = min(1.0, age / ENGAGEMENT_SETTLES)
            post = PostSignal(
                followers=inbound.author.followers or 0,
                negative=True,
                age=age,
                replies=int(m.replies * grown),
                reposts=int(m.reposts * grown),
                quotes=int(m.quotes * grown),
                likes=int(m.likes * grown),
                verified=inbound.author.verified,
            )
            verdict = viral_verdict(post)
            if verdict.viral:
                found.append((inbound, verdict.reason, inbound.created_at + age))
                break
    return found


def _event_report(
    spec: InjectedEvent,
    cfg: BenchConfig,
    traffic: list[InboundEvent],
    signals: list[tuple[str | None, bool]],
    alarms: list[tuple[Detection, str | None]],
    viral: list[tuple[InboundEvent, str, datetime]],
) -> dict[str, Any]:
    onset = cfg.start + spec.start
    mine = [e for e in traffic if e.extra["sim"].get("event") == spec.name]
    credited = [a for a, name in alarms if name == spec.name]
    step = cfg.monitor.step
    report: dict[str, Any] = {
        "name": spec.name,
        "kind": spec.kind,
        "onset": onset.isoformat(),
        "messages": len(mine),
        "alarms": [_alarm_json(a) for a in credited[:8]],
    }
    items = [
        GroupItem(
            id=e.external_id,
            at=e.created_at,
            text=e.text,
            topic=topic,
            thread=e.extra["sim"].get("conversation"),
        )
        for e, (topic, _) in zip(traffic, signals, strict=True)
    ]
    if spec.kind == "viral_complaint":
        post = next((v for v in viral if v[0].extra["sim"].get("event") == spec.name), None)
        report["viral_reason"] = post[1] if post else None
        detected_at = post[2] if post else None
        seeds = []
        if post is not None:
            first = next(i for i in items if i.id == post[0].external_id)
            seeds = [Incident.from_message(first, key="viral")]
    else:
        detected_at = credited[0].at + step if credited else None
        specific = [a.key for a in credited if a.key.split(":")[0] in ("topic", "hashtag")]
        seeds = [Incident.from_seed(k, detected_at) for k in dict.fromkeys(specific)]
        if len(seeds) > 1:
            merged = seeds[0]
            for other in seeds[1:]:
                merged.hashtags |= other.hashtags
                merged.topic = merged.topic or other.topic
            seeds = [merged]
    report["detected_at"] = detected_at.isoformat() if detected_at else None
    report["delay_minutes"] = (
        round((detected_at - onset) / timedelta(minutes=1), 2) if detected_at else None
    )
    if not seeds or detected_at is None:
        report["grouped_share"] = 0.0
        report["incident_precision"] = None
        return report
    # The incident collects from an hour before its alarm to two hours after the event.
    since = detected_at - timedelta(hours=1)
    until = onset + spec.duration + timedelta(hours=2)
    window = [i for i in items if since <= i.at <= until]
    [incident] = group_messages(window, seeds=seeds, open_new=False)
    ids = set(incident.ids)
    if spec.kind == "viral_complaint":
        ids.add(seeds[0].ids[0])
    event_ids = {e.external_id for e in mine}
    report["incident_key"] = incident.key
    report["incident_messages"] = len(ids)
    report["grouped_share"] = round(len(ids & event_ids) / max(1, len(event_ids)), 4)
    report["incident_precision"] = round(len(ids & event_ids) / max(1, len(ids)), 4)
    return report


def _alarm_json(hit: Detection) -> dict[str, Any]:
    return {
        "at": hit.at.isoformat(),
        "key": hit.key,
        "kind": hit.kind,
        "window_minutes": hit.window / timedelta(minutes=1),
        "observed": round(hit.observed, 1),
        "expected": round(hit.expected, 2),
        "z": round(hit.z, 2),
    }


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for v in values:
        out[v] += 1
    return dict(out)


def _verdict(report: dict[str, Any]) -> dict[str, Any]:
    by_name = {e["name"]: e for e in report["events"]}
    surge = by_name.get("outage", {})
    delay = surge.get("delay_minutes")
    grouped = [e["grouped_share"] for e in report["events"]]
    return {
        "surge_caught_within_5_minutes": delay is not None and delay < 5.0,
        "false_alarms_at_most_1_per_week": (report["false_alarms"]["per_week"] or 0) <= 1.0,
        "every_event_90_percent_grouped": bool(grouped) and min(grouped) >= 0.9,
    }
