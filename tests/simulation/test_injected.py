"""Injected events in generated traffic: an outage, a backlash, a viral complaint."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from socialdesk.channels.events import InboundEvent
from socialdesk.simulation.injected import InjectedEvent
from socialdesk.simulation.traffic import BrandProfile, generate

START = datetime(2026, 11, 23, tzinfo=UTC)
EVENTS = (
    InjectedEvent("outage", "topic_surge", timedelta(hours=10), multiplier=10),
    InjectedEvent(
        "backlash", "hashtag_backlash", timedelta(hours=14), multiplier=100, topic="billing"
    ),
    InjectedEvent("viral", "viral_complaint", timedelta(hours=18)),
)


def test_events_come_on_top_of_unchanged_organic_traffic() -> None:
    plain = list(generate(BrandProfile(bursts_per_day=0), START, timedelta(days=1), 150, 4))
    mixed = list(
        generate(BrandProfile(bursts_per_day=0, events=EVENTS), START, timedelta(days=1), 150, 4)
    )
    organic = [e for e in mixed if "event" not in e.extra["sim"]]
    assert [(e.text, e.created_at) for e in organic] == [(e.text, e.created_at) for e in plain]
    counts = Counter(e.extra["sim"]["event"] for e in mixed if "event" in e.extra["sim"])
    assert counts["viral"] == 41  # the post and its 40 replies
    assert counts["outage"] > 50 and counts["backlash"] >= 30


def test_each_event_looks_like_its_kind() -> None:
    traffic = list(
        generate(BrandProfile(bursts_per_day=0, events=EVENTS), START, timedelta(days=1), 150, 5)
    )
    by_event: dict[str, list[InboundEvent]] = {}
    for e in traffic:
        if "event" in e.extra["sim"]:
            by_event.setdefault(e.extra["sim"]["event"], []).append(e)
    outage = by_event["outage"]
    assert all(e.extra["sim"]["topic"] == "outage" for e in outage)
    assert all(
        START + timedelta(hours=10) <= e.created_at < START + timedelta(hours=11) for e in outage
    )
    backlash = by_event["backlash"]
    assert sum("#billing" in e.text for e in backlash) / len(backlash) > 0.7
    post, *replies = by_event["viral"]
    assert post.author.followers == 2_500 and post.metrics.reposts > 400
    assert all(r.reply_to == post.external_id for r in replies)
    assert all(
        e.extra["sim"]["sentiment"] == "negative"
        for e in outage
        if e.extra["sim"]["kind"] == "complaint"
    )


def test_a_bad_event_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown event kind"):
        InjectedEvent("x", "earthquake", timedelta(0))
    with pytest.raises(ValueError, match="multiplier"):
        InjectedEvent("x", "topic_surge", timedelta(0), multiplier=1.0)
    profile = BrandProfile(events=(InjectedEvent("x", "topic_surge", timedelta(0), topic="nope"),))
    with pytest.raises(ValueError, match="unknown topic 'nope'"):
        list(generate(profile, START, timedelta(hours=1), 50, 1))
