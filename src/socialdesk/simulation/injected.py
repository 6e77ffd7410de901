"""Events injected into generated traffic, with their ground truth, for listening benchmarks.

Three kinds a care team fears:

- ``topic_surge``: an outage. One topic's complaints arrive at ``multiplier`` times their
  usual rate (for the time of day) for ``duration``, all negative.
- ``hashtag_backlash``: a hashtag is suddenly everywhere: ``multiplier`` times its usual
  hourly use, front-loaded within ``duration``; most posts carry the hashtag, some only its
  story's words.
- ``viral_complaint``: one negative post from an ordinary account that gathers replies and
  reposts fast, and ``replies`` other customers answering it with their own complaints.

Every injected message carries ``sim.burst = "event:<name>"`` and ``sim.event = <name>``.
Event content draws from its own random source: the organic traffic of a seed is the same
with or without events (only message ids after an event's first message shift).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from socialdesk.channels.events import Metrics
from socialdesk.simulation.population import Population, pick_one
from socialdesk.simulation.vocabulary import EMOJI_NEGATIVE

if TYPE_CHECKING:
    from socialdesk.simulation.traffic import _Generator

EVENT_KINDS = ("topic_surge", "hashtag_backlash", "viral_complaint")
_CARE_KINDS = ("complaint", "question", "request")

BACKLASH_LINES = (
    "{handle} this is unacceptable, cancelling my contract {tag}",
    "never again. the new fees are a scam {tag}",
    "{handle} who approved these new fees?? {tag}",
    "everyone I know is leaving {brand} over the new fees {tag}",
    "{handle} reverse the price rise now {tag}",
    "new fees again, done with {brand} {tag}",
)
# Posts of the same story that leave the hashtag out: grouped by their words.
BACKLASH_UNTAGGED = (
    "{handle} these new fees are a scam, cancelling my contract",
    "the new fees from {brand} are a joke, cancelling",
)
VIRAL_POST = (
    "{handle} your engineer left my disabled mum without a phone line for a week. "
    "nobody calls back. shameful"
)
VIRAL_REPLIES = (
    "same happened to my dad, a week without a line and nobody calls back",
    "{handle} this is shameful, my line has been dead for days too",
    "nobody calls back, it's the same for us. shameful",
)


@dataclass(frozen=True)
class InjectedEvent:
    name: str
    kind: str
    start: timedelta
    """When it begins, from the start of the traffic."""
    duration: timedelta = timedelta(hours=1)
    topic: str | None = None
    """topic_surge: the sector topic that surges (by default the sector's burst topic)."""
    multiplier: float = 10.0
    hashtag: str | None = None
    """hashtag_backlash: the tag (by default the topic's first hashtag)."""
    followers: int = 2_500
    """viral_complaint: the author's audience (ordinary: its speed makes it viral)."""
    engagement: int = 800
    """viral_complaint: replies + reposts it has gathered after ``duration``."""
    replies: int = 40

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {self.kind!r}; known: {', '.join(EVENT_KINDS)}")
        if self.multiplier <= 1 and self.kind != "viral_complaint":
            raise ValueError("an event's multiplier must exceed 1")
        if self.duration <= timedelta(0) or self.start < timedelta(0):
            raise ValueError("an event needs a positive duration and a start within the traffic")


class EventSource:
    """Schedules and writes the injected messages of one generator."""

    def __init__(self, gen: _Generator) -> None:
        self.gen = gen
        self.rng = random.Random(f"events-{gen.seed}")
        self.population = Population(
            self.rng,
            repeat_rate=0.0,
            influencers=0,
            influencer_share=0.0,
            foreign_share=0.0,
            id_base=(gen.seed % 100_000) * 10_000_000 + 9_000_000,
        )
        self.viral_posts: dict[str, Any] = {}

    def topic_rate(self, topic: str, t: float) -> float:
        """Organic messages of one topic per second at time t (care kinds share the topics)."""
        gen = self.gen
        care = sum(gen.p.kind_mix.get(k, 0.0) for k in _CARE_KINDS)
        total = sum(gen.p.kind_mix.values()) or 1.0
        return gen.hour_rate[gen.local_hour(t)] * care / total / len(gen.sector.topics)

    def hashtag_hourly(self, topic: str) -> float:
        """The daily average of a topic hashtag's organic use per hour."""
        gen = self.gen
        tags = gen.topics[topic].hashtags or ("#x",)
        care = sum(gen.p.kind_mix.get(k, 0.0) for k in _CARE_KINDS)
        total = sum(gen.p.kind_mix.values()) or 1.0
        per_topic = gen.rate_per_hour * care / total / len(gen.sector.topics)
        return per_topic * gen.p.hashtag_rate / len(tags)

    def schedule(self, push: Any, entry: int) -> None:
        gen = self.gen
        for event in gen.p.events:
            begin = event.start.total_seconds()
            length = event.duration.total_seconds()
            if event.kind == "topic_surge":
                topic = event.topic or gen.sector.burst_topic
                self._check_topic(topic)
                t = begin
                peak = max(self.topic_rate(topic, begin + x) for x in range(0, int(length), 600))
                extra_peak = (event.multiplier - 1.0) * peak
                while extra_peak > 0:
                    t += self.rng.expovariate(extra_peak)
                    if t >= begin + length:
                        break
                    wanted = (event.multiplier - 1.0) * self.topic_rate(topic, t)
                    if self.rng.random() * extra_peak <= wanted:
                        push(t, entry, (event, "surge", topic))
            elif event.kind == "hashtag_backlash":
                topic = event.topic or gen.sector.topics[0].name
                self._check_topic(topic)
                count = max(
                    30, round(event.multiplier * self.hashtag_hourly(topic) * length / 3600)
                )
                for _ in range(count):
                    delay = length * self.rng.betavariate(1.4, 2.2)
                    push(begin + delay, entry, (event, "backlash", topic))
            else:
                push(begin, entry, (event, "viral", None))
                for _ in range(event.replies):
                    delay = length * self.rng.betavariate(1.2, 2.5)
                    push(begin + 1.0 + delay, entry, (event, "viral_reply", None))

    def _check_topic(self, topic: str) -> None:
        if topic not in self.gen.topics:
            known = ", ".join(self.gen.topics)
            raise ValueError(f"unknown topic {topic!r} for sector {self.gen.p.sector}: {known}")

    def message(self, at: float, payload: tuple[InjectedEvent, str, str | None]) -> Any:
        # The generator's helpers (slots, typos, reach) draw from its random source: lend
        # them ours while writing an injected message, so organic traffic stays the same.
        gen = self.gen
        organic, gen.rng = gen.rng, self.rng
        try:
            return self._message(at, payload)
        finally:
            gen.rng = organic

    def _message(self, at: float, payload: tuple[InjectedEvent, str, str | None]) -> Any:
        gen, rng = self.gen, self.rng
        event, part, topic = payload
        customer = self.population.pick()
        burst = f"event:{event.name}"
        channel = "x" if rng.random() < 0.75 else pick_one(rng, ("facebook", "instagram"))
        handle = gen.p.handle if rng.random() < 0.7 else gen.p.name
        parent = None
        metrics = None
        if part == "surge":
            assert topic is not None
            kind = "complaint" if rng.random() < 0.8 else "question"
            found = gen.topics[topic]
            phrase = gen.fill(pick_one(rng, getattr(found, kind)))
            text = f"{handle} {phrase}"
            if found.hashtags and rng.random() < 0.3:
                text = f"{text} {pick_one(rng, found.hashtags)}"
        elif part == "backlash":
            assert topic is not None
            kind = "complaint"
            tag = event.hashtag or (gen.topics[topic].hashtags or ("#backlash",))[0]
            lines = BACKLASH_LINES if rng.random() < 0.85 else BACKLASH_UNTAGGED
            text = pick_one(rng, lines).format(handle=handle, tag=tag, brand=gen.p.name)
            topic = topic if rng.random() < 0.5 else "other"
        elif part == "viral":
            kind, topic, channel = "complaint", gen.sector.burst_topic, "x"
            customer.followers = event.followers
            text = VIRAL_POST.format(handle=gen.p.handle)
            share = event.engagement
            metrics = Metrics(likes=share * 2, reposts=share * 2 // 3, replies=share // 3)
        else:
            kind, topic, channel = "complaint", gen.sector.burst_topic, "x"
            parent = self.viral_posts.get(event.name)
            text = pick_one(rng, VIRAL_REPLIES).format(handle=gen.p.handle)
        if rng.random() < 0.3:
            text = f"{text} {pick_one(rng, EMOJI_NEGATIVE)}"
        emitted = gen.emit(
            at,
            customer,
            channel,
            False,
            kind,
            topic or "other",
            gen.typos(text) if part != "viral" else text,
            "en",
            parent=parent,
            burst=burst,
            event=event.name,
            metrics=metrics,
        )
        if part == "viral":
            self.viral_posts[event.name] = gen.last_origin
        return emitted
