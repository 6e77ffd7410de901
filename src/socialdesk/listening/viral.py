"""Viral complaints: one negative post that may reach many people.

Two ways a complaint goes viral, judged separately so the reason can be shown:

- **reach**: its author has a large audience (followers at or above ``reach_followers``,
  or a verified account with at least ``verified_followers``);
- **velocity**: it gathers replies, reposts and quotes unusually fast. The expected
  engagement of a post grows with its author's audience (roughly ``engagement_rate`` per
  follower per hour); a post is fast when its engagement per hour since posting exceeds
  ``velocity_factor`` times that expectation and an absolute floor (``min_engagement``
  interactions, so three replies to a tiny account are not a crisis).

Only negative posts qualify: a praise that goes viral is marketing's good news.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class PostSignal:
    """What is known of one post at one moment (plain data from the message and its author)."""

    followers: int
    negative: bool
    age: timedelta
    """Time since the post was published when the counts below were read."""
    replies: int = 0
    reposts: int = 0
    quotes: int = 0
    likes: int = 0
    verified: bool = False

    @property
    def engagement(self) -> int:
        """Interactions that spread a post or show a crowd forming (likes only count a tenth)."""
        return self.replies + self.reposts + self.quotes + self.likes // 10


@dataclass(frozen=True)
class ViralPolicy:
    reach_followers: int = 100_000
    verified_followers: int = 20_000
    engagement_rate: float = 0.002
    """Expected spreading interactions per follower per hour for an ordinary post."""
    velocity_factor: float = 15.0
    min_engagement: int = 25
    min_age: timedelta = timedelta(minutes=1)
    """Younger posts are judged as if this old (a post seconds old has no meaningful rate)."""


@dataclass(frozen=True, slots=True)
class ViralVerdict:
    viral: bool
    reason: str
    """``reach``, ``velocity``, ``reach+velocity`` or why not."""
    score: float
    """0..1, how strongly: the task's value boost can scale with it."""


def viral_verdict(post: PostSignal, policy: ViralPolicy | None = None) -> ViralVerdict:
    """Whether a post is a viral complaint, why, and how strongly."""
    p = policy or ViralPolicy()
    if not post.negative:
        return ViralVerdict(False, "not negative", 0.0)
    big = post.followers >= p.reach_followers or (
        post.verified and post.followers >= p.verified_followers
    )
    hours = max(post.age, p.min_age) / timedelta(hours=1)
    velocity = post.engagement / hours
    expected = max(1.0, post.followers * p.engagement_rate)
    fast = post.engagement >= p.min_engagement and velocity >= p.velocity_factor * expected
    reach_score = min(1.0, math.log10(max(post.followers, 1)) / math.log10(p.reach_followers * 10))
    speed_score = min(1.0, velocity / (p.velocity_factor * expected * 10)) if fast else 0.0
    score = round(max(reach_score if big else 0.0, 0.5 + 0.5 * speed_score if fast else 0.0), 3)
    if big and fast:
        return ViralVerdict(True, "reach+velocity", max(score, 0.9))
    if big:
        return ViralVerdict(True, "reach", score)
    if fast:
        return ViralVerdict(True, "velocity", score)
    return ViralVerdict(False, "ordinary reach and engagement", 0.0)
