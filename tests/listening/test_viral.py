"""Viral complaints: reach, velocity, or neither."""

from __future__ import annotations

from datetime import timedelta

from socialdesk.listening.viral import PostSignal, viral_verdict


def test_a_negative_post_from_a_large_audience_is_viral_by_reach() -> None:
    verdict = viral_verdict(PostSignal(followers=250_000, negative=True, age=timedelta(minutes=2)))
    assert verdict.viral and verdict.reason == "reach"
    assert 0.5 < verdict.score <= 1


def test_a_small_account_gathering_replies_fast_is_viral_by_velocity() -> None:
    post = PostSignal(
        followers=800, negative=True, age=timedelta(minutes=20), replies=40, reposts=90
    )
    verdict = viral_verdict(post)
    assert verdict.viral and verdict.reason == "velocity"


def test_ordinary_engagement_and_positive_posts_are_not_viral() -> None:
    slow = PostSignal(followers=800, negative=True, age=timedelta(hours=5), replies=3, reposts=2)
    praise = PostSignal(followers=900_000, negative=False, age=timedelta(minutes=1))
    assert viral_verdict(slow).viral is False
    assert viral_verdict(praise) == viral_verdict(praise)
    assert viral_verdict(praise).viral is False and viral_verdict(praise).reason == "not negative"


def test_a_big_account_whose_complaint_also_spreads_fast_scores_highest() -> None:
    both = PostSignal(
        followers=300_000, negative=True, age=timedelta(minutes=10), replies=900, reposts=3_000
    )
    verdict = viral_verdict(both)
    assert verdict.reason == "reach+velocity" and verdict.score >= 0.9
    # A verified account counts as large from a lower audience.
    verified = PostSignal(followers=30_000, negative=True, age=timedelta(minutes=1), verified=True)
    assert viral_verdict(verified).reason == "reach"
