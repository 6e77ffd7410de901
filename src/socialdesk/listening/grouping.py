"""Grouping related messages into incidents.

An incident has a profile: the hashtags and topic that opened it, the terms its messages
use, and (when the embedding tier gives vectors) their centroid. A message belongs to an
incident when, within the incident's time window, it

1. replies in one of the incident's threads (a viral post's conversation), or carries one
   of the incident's hashtags (strongest evidence), or
2. has the incident's topic, or
3. shares at least ``min_shared_terms`` (3) of the incident's characteristic terms (terms used
   by at least ``term_support`` of its messages so far), or
4. has an embedding whose cosine similarity to the incident's centroid reaches
   ``vector_similarity``.

:func:`group_messages` is a single pass (leader clustering): each message joins the best
matching open incident, or starts a new group of its own when ``open_new`` is set. Seeds
(e.g. the series key of an alarm: ``hashtag:#acmedown``, ``topic:outage``) open incidents
before any message is seen.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from socialdesk.listening.counting import hashtags as find_hashtags

_WORD = re.compile(r"[a-z][a-z']{2,}")
_NOISE = re.compile(r"https?://\S+|[@#]\w+")
_STOP_TEXT = """the and for you your are was were this that with have has had not but all any can
    our out get got just now what when where who why how its it's i'm im they them their
    there then than too very been being from into over about again still yet also only
    will would could should did does doing done some more most much many one two three
    please thanks thank hello dear regards really today right here want need know like
    why's can't don't won't isn't aren't didn't doesn't it's you're we're i've"""
STOPWORDS = frozenset(_STOP_TEXT.split())


def content_terms(text: str) -> frozenset[str]:
    """Lower-case words of three letters or more, without stop words, handles, hashtags, links."""
    cleaned = _NOISE.sub(" ", text.lower())
    return frozenset(w for w in _WORD.findall(cleaned) if w not in STOPWORDS)


@dataclass(frozen=True, slots=True)
class GroupItem:
    id: str
    at: datetime
    text: str = ""
    topic: str | None = None
    hashtags: tuple[str, ...] | None = None
    """Lower-case hashtags with '#'; taken from the text when not given."""
    vector: Sequence[float] | None = None
    thread: str | None = None
    """The conversation (root message) it belongs to, when known."""

    def tags(self) -> tuple[str, ...]:
        return self.hashtags if self.hashtags is not None else find_hashtags(self.text)


@dataclass(frozen=True)
class GroupingPolicy:
    window: timedelta = timedelta(hours=12)
    """A message more than this after an incident's last message no longer joins it."""
    min_shared_terms: int = 3
    term_support: float = 0.15
    vector_similarity: float = 0.75
    ignore_hashtags: frozenset[str] = frozenset()
    """Hashtags too common to group by (e.g. the brand's own tag)."""
    match_topic: bool = True


@dataclass
class Incident:
    """A growing group of related messages and what characterises them."""

    key: str
    hashtags: set[str] = field(default_factory=set)
    topic: str | None = None
    threads: set[str] = field(default_factory=set)
    ids: list[str] = field(default_factory=list)
    terms: Counter[str] = field(default_factory=Counter)
    centroid: list[float] | None = None
    vectors: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None

    @classmethod
    def from_seed(cls, key: str, at: datetime | None = None) -> Incident:
        """An incident opened by an alarm on series ``key`` (``hashtag:#x``, ``topic:y``)."""
        kind, _, value = key.partition(":")
        incident = cls(key=key, first_at=at, last_at=at)
        if kind == "hashtag" and value:
            incident.hashtags.add(value.lower())
        elif kind == "topic" and value:
            incident.topic = value
        return incident

    @classmethod
    def from_message(cls, item: GroupItem, key: str | None = None) -> Incident:
        """An incident opened by one message (a viral complaint): its thread and hashtags."""
        incident = cls(key=key or f"message:{item.id}")
        if item.thread:
            incident.threads.add(item.thread)
        incident.hashtags.update(item.tags())
        incident.add(item)
        return incident

    def characteristic_terms(self, support: float) -> set[str]:
        if not self.ids:
            return set()
        floor = max(2.0, support * len(self.ids))
        return {t for t, n in self.terms.items() if n >= floor}

    def add(self, item: GroupItem) -> None:
        self.ids.append(item.id)
        self.terms.update(content_terms(item.text))
        if item.vector is not None:
            self._add_vector(item.vector)
        self.first_at = item.at if self.first_at is None else min(self.first_at, item.at)
        self.last_at = item.at if self.last_at is None else max(self.last_at, item.at)

    def _add_vector(self, vector: Sequence[float]) -> None:
        self.vectors += 1
        if self.centroid is None:
            self.centroid = list(vector)
            return
        n = self.vectors
        self.centroid = [c + (v - c) / n for c, v in zip(self.centroid, vector, strict=True)]


@dataclass(frozen=True, slots=True)
class Match:
    score: float
    reason: str


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def match(
    item: GroupItem, incident: Incident, policy: GroupingPolicy | None = None
) -> Match | None:
    """Whether (and how strongly, and why) a message belongs to an incident."""
    p = policy or GroupingPolicy()
    if incident.last_at is not None and item.at - incident.last_at > p.window:
        return None
    if item.thread is not None and item.thread in incident.threads:
        return Match(1.0, "same conversation")
    shared_tags = (set(item.tags()) - p.ignore_hashtags) & incident.hashtags
    if shared_tags:
        return Match(1.0, f"hashtag {sorted(shared_tags)[0]}")
    if p.match_topic and incident.topic is not None and item.topic == incident.topic:
        return Match(0.8, f"topic {item.topic}")
    if item.vector is not None and incident.centroid is not None:
        similarity = cosine(item.vector, incident.centroid)
        if similarity >= p.vector_similarity:
            return Match(0.5 + 0.3 * similarity, f"embedding similarity {similarity:.2f}")
    characteristic = incident.characteristic_terms(p.term_support)
    shared = content_terms(item.text) & characteristic
    if len(shared) >= p.min_shared_terms:
        return Match(min(0.75, 0.4 + 0.05 * len(shared)), "terms " + ", ".join(sorted(shared)[:4]))
    return None


def group_messages(
    items: Iterable[GroupItem],
    policy: GroupingPolicy | None = None,
    *,
    seeds: Iterable[Incident] = (),
    open_new: bool = True,
) -> list[Incident]:
    """Leader clustering in time order: each message joins its best incident or opens one.

    With ``open_new=False`` only the seeded incidents grow and unmatched messages are left
    out (how an alarm's incident collects its messages).
    """
    p = policy or GroupingPolicy()
    incidents = list(seeds)
    for item in sorted(items, key=lambda i: i.at):
        best: tuple[Match, Incident] | None = None
        for incident in incidents:
            found = match(item, incident, p)
            if found is not None and (best is None or found.score > best[0].score):
                best = (found, incident)
        if best is not None:
            best[1].add(item)
        elif open_new:
            incident = Incident(key=f"message:{item.id}", topic=item.topic)
            incident.hashtags.update(set(item.tags()) - p.ignore_hashtags)
            incident.add(item)
            incidents.append(incident)
    return incidents
