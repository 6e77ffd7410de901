"""The traffic generator produces realistic, reproducible social care traffic for a brand."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from socialdesk.channels.events import InboundEvent
from socialdesk.simulation.traffic import BrandProfile, generate, generate_n
from socialdesk.simulation.vocabulary import KINDS

START = datetime(2026, 11, 23, tzinfo=UTC)


@pytest.fixture(scope="module")
def day() -> list[InboundEvent]:
    """One day of a telecom brand's traffic at 150 messages an hour."""
    return list(generate(BrandProfile(), START, timedelta(days=1), 150.0, seed=11))


def test_every_event_is_a_valid_inbound_event_and_survives_the_jsonl_round_trip(
    day: list[InboundEvent],
) -> None:
    for event in day:
        again = InboundEvent.model_validate_json(event.model_dump_json())
        assert again == event
        assert event.direction == "inbound"
        assert event.created_at.tzinfo is not None


def test_a_day_covers_every_channel_kind_and_visibility(day: list[InboundEvent]) -> None:
    assert {e.channel for e in day} == {"x", "facebook", "instagram", "email"}
    assert {e.extra["sim"]["kind"] for e in day} == set(KINDS)
    assert {e.visibility for e in day} == {"public", "private"}
    assert all(e.visibility == "private" for e in day if e.channel == "email")
    assert all(e.subject for e in day if e.channel == "email")
    private = [e for e in day if e.visibility == "private"]
    assert all(e.recipient is not None and e.recipient.is_brand for e in private)


def test_events_come_in_created_at_order_within_the_window(day: list[InboundEvent]) -> None:
    times = [e.created_at for e in day]
    assert times == sorted(times)
    assert times[0] >= START
    assert times[-1] < START + timedelta(days=1)
    assert len({e.external_id for e in day}) == len(day)


def test_same_seed_same_traffic_other_seed_other_traffic() -> None:
    def run(seed: int) -> list[str]:
        events = generate(BrandProfile(), START, timedelta(hours=6), 100.0, seed)
        return [e.model_dump_json() for e in events]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_nights_are_quiet_and_days_busy() -> None:
    events = generate(BrandProfile(bursts_per_day=0), START, timedelta(days=3), 200.0, seed=5)
    per_hour = Counter(e.created_at.hour for e in events)
    night = sum(per_hour[h] for h in (1, 2, 3, 4))
    midday = sum(per_hour[h] for h in (10, 11, 12, 13))
    assert midday > 8 * night


def test_the_daily_pattern_follows_the_brands_local_time() -> None:
    # A New York brand (UTC-5) is quiet at 1-4 local, that is 6-9 UTC.
    profile = BrandProfile(bursts_per_day=0, utc_offset_hours=-5)
    per_hour = Counter(
        e.created_at.hour for e in generate(profile, START, timedelta(days=2), 200.0, seed=5)
    )
    local_night = sum(per_hour[h] for h in (6, 7, 8, 9))
    local_midday = sum(per_hour[h] for h in (15, 16, 17, 18))
    assert local_midday > 8 * local_night


def test_a_burst_is_many_complaints_in_minutes_with_a_shared_hashtag(
    day: list[InboundEvent],
) -> None:
    burst = [e for e in day if e.extra["sim"]["burst"] and not e.extra["sim"]["followup"]]
    assert len(burst) >= 25
    assert len({e.extra["sim"]["burst"] for e in burst}) == 1
    span = burst[-1].created_at - burst[0].created_at
    assert span <= timedelta(minutes=12)
    kinds = Counter(e.extra["sim"]["kind"] for e in burst)
    assert kinds["complaint"] > 0.7 * len(burst)
    assert sum("#AcmeDown" in e.text for e in burst) > len(burst) / 2
    # In the burst's window traffic runs far above the day's average rate.
    average_per_window = len(day) / (24 * 60 / 12)
    assert len(burst) > 3 * average_per_window


def test_without_bursts_there_are_none() -> None:
    events = list(generate(BrandProfile(bursts_per_day=0), START, timedelta(days=1), 100.0, seed=2))
    assert not any(e.extra["sim"]["burst"] for e in events)


def test_replies_point_at_an_earlier_message_of_the_same_author_on_the_same_channel(
    day: list[InboundEvent],
) -> None:
    seen: dict[str, InboundEvent] = {}
    replies = 0
    for event in day:
        if event.reply_to is not None:
            parent = seen[event.reply_to]
            assert parent.author.id == event.author.id
            assert parent.channel == event.channel
            assert event.extra["sim"]["conversation"] == parent.extra["sim"]["conversation"]
            replies += 1
        seen[event.external_id] = event
    assert replies > 0.03 * len(day)
    emails = [e for e in day if e.channel == "email" and e.reply_to]
    assert emails
    assert all(e.references and e.references[-1] == e.reply_to for e in emails)


def test_a_public_post_is_followed_by_a_dm_of_the_same_author(
    day: list[InboundEvent],
) -> None:
    by_id = {e.external_id: e for e in day}
    dms = [
        e
        for e in day
        if e.visibility == "private"
        and e.channel != "email"
        and e.extra["sim"]["followup"]
        and e.reply_to is None
    ]
    assert dms
    for dm in dms:
        post = by_id[dm.extra["sim"]["conversation"]]
        assert post.visibility == "public"
        assert post.author.id == dm.author.id
        assert post.created_at < dm.created_at


def test_customers_come_back(day: list[InboundEvent]) -> None:
    originals = [e for e in day if not e.extra["sim"]["followup"]]
    per_customer = Counter(e.extra["sim"]["customer"] for e in originals)
    assert max(per_customer.values()) >= 3
    assert sum(1 for n in per_customer.values() if n > 1) > 20


def test_a_few_influencers_and_a_heavy_tail_of_followers(day: list[InboundEvent]) -> None:
    authors = {e.author.id: e.author for e in day if e.channel == "x"}
    followers = [a.followers for a in authors.values()]
    median = statistics.median(followers)
    assert median < 1_000
    assert max(followers) >= 100_000
    big = [a for a in authors.values() if a.followers >= 100_000]
    assert any(a.verified for a in big)
    assert len(big) < 0.02 * len(authors)


def test_texts_are_varied_and_social(day: list[InboundEvent]) -> None:
    texts = [e.text for e in day]
    assert len(set(texts)) > 0.6 * len(texts)
    public_x = [e for e in day if e.channel == "x" and e.visibility == "public"]
    assert sum("@AcmeCare" in e.text for e in public_x) > 0.5 * len(public_x)
    assert any("#" in t for t in texts)
    assert any(any(ord(ch) > 0x1F000 for ch in t) for t in texts)  # emoji
    languages = Counter(e.extra["sim"]["language"] for e in day)
    assert languages["en"] > 0.85 * len(day)
    assert len(languages) >= 3


def test_ground_truth_says_who_should_handle_each_item(day: list[InboundEvent]) -> None:
    for event in day:
        sim = event.extra["sim"]
        assert 0.0 <= sim["value"] <= 1.0
        if sim["kind"] == "marketing":
            assert sim["route_to"] == "marketing"
        if sim["kind"] == "sales_lead":
            assert sim["route_to"] == "sales"
        if sim["kind"] in ("spam", "other"):
            assert not sim["needs_response"]
        if sim["kind"] in ("complaint", "question", "request"):
            assert sim["needs_response"] and sim["route_to"] == "care"
    complaints = [e.extra["sim"]["value"] for e in day if e.extra["sim"]["kind"] == "complaint"]
    spam = [e.extra["sim"]["value"] for e in day if e.extra["sim"]["kind"] == "spam"]
    assert statistics.mean(complaints) > 2 * statistics.mean(spam)


def test_other_sectors_talk_about_their_own_topics() -> None:
    events = generate(BrandProfile(name="Shopco", sector="retail"), START, timedelta(hours=8),
                      100.0, seed=1)  # fmt: skip
    topics = {e.extra["sim"]["topic"] for e in events}
    assert "returns" in topics
    assert "outage" not in topics


def test_generate_n_gives_exactly_n_events() -> None:
    events = generate_n(BrandProfile(), 2_500, seed=9)
    assert len(events) == 2_500
    assert len({e.external_id for e in events}) == 2_500


def test_bad_arguments_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next(generate(BrandProfile(), datetime(2026, 1, 1), timedelta(hours=1), 10.0, 1))
    with pytest.raises(ValueError, match="rate_per_hour"):
        next(generate(BrandProfile(), START, timedelta(hours=1), 0.0, 1))
    with pytest.raises(ValueError, match="unknown sector"):
        BrandProfile(sector="bakery")
    with pytest.raises(ValueError, match="24"):
        BrandProfile(daily_pattern=(1.0,) * 12)
