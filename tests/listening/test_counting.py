"""Messages to per-step counts: each author once per series and dedup window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from socialdesk.listening.counting import (
    ALL,
    Mention,
    StepCount,
    bucket_counts,
    dense_series,
    hashtags,
    series_keys,
)

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_a_flood_of_identical_posts_by_one_bot_counts_once() -> None:
    flood = [
        Mention(T0 + timedelta(seconds=i), "bot-1", (ALL, "hashtag:#acmedown"), True, "#AcmeDown")
        for i in range(200)
    ]
    people = [Mention(T0 + timedelta(seconds=i), f"person-{i}", (ALL,), False) for i in range(3)]
    counts = bucket_counts(sorted(flood + people, key=lambda m: m.at), MINUTE, origin=T0)
    assert counts[ALL] == {T0: StepCount(4, 1)}
    assert sum(c.total for c in counts["hashtag:#acmedown"].values()) == 1


def test_an_author_counts_again_after_the_dedup_window() -> None:
    posts = [Mention(T0 + timedelta(minutes=m), "alice", (ALL,)) for m in (0, 30, 61, 62)]
    counts = bucket_counts(posts, MINUTE, origin=T0, dedup_window=timedelta(hours=1))
    assert sorted(counts[ALL]) == [T0, T0 + timedelta(minutes=61)]


def test_hashtags_and_series_keys() -> None:
    assert hashtags("Down again #AcmeDown #acmedown #Fail x#no") == ("#acmedown", "#fail")
    keys = series_keys(topic="outage", channel="x", text="so slow #AcmeDown", rules=("brand",))
    assert keys == (ALL, "topic:outage", "channel:x", "hashtag:#acmedown", "rule:brand")


def test_dense_series_fills_silent_steps_with_zero() -> None:
    steps = {T0 + MINUTE: StepCount(2, 1)}
    dense = dense_series(steps, T0, T0 + 3 * MINUTE, MINUTE)
    assert [c.total for _, c in dense] == [0, 2, 0]
