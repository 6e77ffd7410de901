"""The traffic generator: realistic social care traffic for a brand, as InboundEvents.

It feeds the demo, the benchmarks and the simulator. What it produces, deterministically
for a seed and in ``created_at`` order:

- X, Facebook, Instagram and email; public posts/comments and private DMs/emails;
- complaints, questions, requests, praise, suggestions, sales leads, marketing replies
  (coupons, contests, campaigns), spam and chatter, on the topics of the brand's sector;
- varied phrasing, typos, emoji, hashtags, @mentions of the brand, a few non-English lines;
- follow-ups replying to the customer's earlier message, a public post followed by a DM of
  the same author, returning customers;
- a daily pattern (quiet at night, peaks by day), bursts (an outage: many complaints in a
  few minutes with a shared hashtag), a few verified influencers with 100k+ followers.

The ground truth of every event is in ``event.extra["sim"]`` (see :func:`_ground_truth`):
kind, topic, intended value, whether it needs a response and which team it belongs to.
"""

from __future__ import annotations

import gc
import heapq
import itertools
import math
import random
import re
from bisect import bisect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from socialdesk.channels.events import NO_METRICS, InboundEvent, Metrics, Party
from socialdesk.simulation.injected import EventSource, InjectedEvent
from socialdesk.simulation.population import Population, SimCustomer, pick_one
from socialdesk.simulation.vocabulary import (
    CHATTER,
    CITIES,
    COMPLAINT_FRAMES,
    DM_DETAILS,
    EMAIL_CLOSERS,
    EMAIL_OPENERS,
    EMAIL_SUBJECTS,
    EMOJI_NEGATIVE,
    EMOJI_NEUTRAL,
    EMOJI_POSITIVE,
    FOLLOWUPS,
    FOREIGN,
    KINDS,
    MARKETING,
    PRAISE,
    QUESTION_FRAMES,
    REQUEST_FRAMES,
    SECTORS,
    SPAM,
    SUGGESTION,
    Sector,
    Topic,
)

SIM_CHANNELS = ("x", "facebook", "instagram", "email")

# Relative traffic per local hour of day: a night trough, a morning climb, a lunch and an
# early-evening peak (the shape care teams report for social channels).
DAILY_PATTERN: tuple[float, ...] = (
    0.18, 0.12, 0.08, 0.07, 0.08, 0.15, 0.35, 0.70, 1.10, 1.40, 1.50, 1.50,
    1.55, 1.45, 1.40, 1.35, 1.30, 1.30, 1.40, 1.45, 1.30, 1.00, 0.65, 0.35,
)  # fmt: skip

DEFAULT_KIND_MIX: Mapping[str, float] = {
    "complaint": 0.27,
    "question": 0.21,
    "request": 0.10,
    "praise": 0.08,
    "suggestion": 0.04,
    "sales_lead": 0.06,
    "marketing": 0.09,
    "spam": 0.06,
    "other": 0.09,
}
DEFAULT_CHANNEL_MIX: Mapping[str, float] = {
    "x": 0.40,
    "facebook": 0.25,
    "instagram": 0.20,
    "email": 0.15,
}
# Share of private messages (DM, Messenger, email) per channel.
DEFAULT_PRIVATE_SHARE: Mapping[str, float] = {
    "x": 0.25,
    "facebook": 0.35,
    "instagram": 0.30,
    "email": 1.0,
}

_NEEDS_RESPONSE = {
    "complaint": True,
    "question": True,
    "request": True,
    "suggestion": True,
    "sales_lead": True,
    "marketing": True,
    "praise": False,
    "spam": False,
    "other": False,
}
_ROUTE_TO = {
    "complaint": "care",
    "question": "care",
    "request": "care",
    "suggestion": "care",
    "praise": "care",
    "sales_lead": "sales",
    "marketing": "marketing",
    "spam": "none",
    "other": "none",
}
_KIND_WEIGHT = {
    "complaint": 0.8,
    "sales_lead": 0.9,
    "request": 0.6,
    "question": 0.5,
    "suggestion": 0.3,
    "praise": 0.2,
    "marketing": 0.25,
    "spam": 0.0,
    "other": 0.05,
}
_TIER_SCORE = {"bronze": 0.1, "silver": 0.35, "gold": 0.7, "platinum": 1.0}
_SENTIMENT = {"complaint": "negative", "praise": "positive"}


@dataclass(frozen=True)
class BrandProfile:
    """Who the traffic is for and what it looks like; every knob has a sensible default."""

    name: str = "Acme Telecom"
    handle: str = "@AcmeCare"
    sector: str = "telecom"
    care_email: str = "care@acme.example"
    channel_mix: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_CHANNEL_MIX))
    kind_mix: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_KIND_MIX))
    private_share: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_PRIVATE_SHARE))
    daily_pattern: tuple[float, ...] = DAILY_PATTERN
    utc_offset_hours: float = 0.0
    """The brand's local time, in which the daily pattern is expressed."""
    bursts_per_day: float = 1.0
    burst_size: int | None = None
    """Messages in one burst; by default 1.5 hours of average traffic (40 to 5,000)."""
    burst_minutes: float = 12.0
    followup_rate: float = 0.25
    dm_after_post_rate: float = 0.15
    repeat_rate: float = 0.30
    influencers: int = 6
    influencer_share: float = 0.01
    foreign_share: float = 0.04
    typo_rate: float = 0.15
    emoji_rate: float = 0.30
    hashtag_rate: float = 0.15
    events: tuple[InjectedEvent, ...] = ()
    """Outages, backlashes and viral complaints injected on top (see simulation.injected)."""

    def __post_init__(self) -> None:
        if self.sector not in SECTORS:
            raise ValueError(f"unknown sector {self.sector!r}; known: {', '.join(SECTORS)}")
        if len(self.daily_pattern) != 24 or min(self.daily_pattern) < 0:
            raise ValueError("daily_pattern needs 24 non-negative hourly weights")
        unknown = set(self.kind_mix) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown kinds in kind_mix: {sorted(unknown)}")
        unknown = set(self.channel_mix) - set(SIM_CHANNELS)
        if unknown:
            raise ValueError(f"unknown channels in channel_mix: {sorted(unknown)}")

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-") or "brand"

    @property
    def tag(self) -> str:
        """The brand as a hashtag word: 'Acme Telecom' -> 'Acme'."""
        return re.sub(r"[^A-Za-z0-9]", "", self.name.split()[0]) or "Brand"

    def account(self, channel: str) -> str:
        """External id of the brand's own account on a channel."""
        return self.care_email if channel == "email" else f"{self.slug}-{channel}"

    def brand_party(self, channel: str) -> Party:
        if channel == "email":
            return Party(id=self.care_email, handle=self.care_email, name=self.name, is_brand=True)
        return Party(id=self.account(channel), handle=self.handle, name=self.name, is_brand=True)


def generate(
    profile: BrandProfile,
    start: datetime,
    duration: timedelta | None,
    rate_per_hour: float,
    seed: int,
    *,
    limit: int | None = None,
) -> Iterator[InboundEvent]:
    """Inbound events from ``start`` for ``duration`` (or forever), in ``created_at`` order.

    ``rate_per_hour`` is the average over a day of organic traffic; bursts and follow-ups
    come on top. ``limit`` stops after that many events. Same arguments, same events.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if rate_per_hour <= 0:
        raise ValueError("rate_per_hour must be positive")
    generator = _Generator(profile, start.astimezone(UTC), rate_per_hour, seed)
    end = None if duration is None else duration.total_seconds()
    events = generator.run(end)
    return events if limit is None else itertools.islice(events, limit)


def generate_n(
    profile: BrandProfile,
    count: int,
    *,
    seed: int = 0,
    start: datetime | None = None,
    rate_per_hour: float = 3600.0,
) -> list[InboundEvent]:
    """Exactly ``count`` events, fast (the ingest benchmark asks for 100,000)."""
    begin = start or datetime(2026, 1, 5, tzinfo=UTC)
    # A growing list of fresh objects sets off full garbage collections again and again
    # (a third of the time at 100,000 events); events hold no cycles, so pause it.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return list(generate(profile, begin, None, rate_per_hour, seed, limit=count))
    finally:
        if was_enabled:
            gc.enable()


# Heap entry kinds, ordered only by time then sequence number.
_BASE, _FOLLOWUP, _DM, _BURST, _DAY, _EVENT = range(6)


@dataclass(slots=True)
class _Origin:
    """What a follow-up or DM needs to know about the message it continues."""

    customer: SimCustomer
    channel: str
    kind: str
    topic: str
    external_id: str
    root: str
    references: list[str]
    burst: str | None


class _Generator:
    def __init__(
        self, profile: BrandProfile, start: datetime, rate_per_hour: float, seed: int
    ) -> None:
        self.p = profile
        self.start = start
        self.rng = random.Random(seed)
        self.sector: Sector = SECTORS[profile.sector]
        self.topics: dict[str, Topic] = {t.name: t for t in self.sector.topics}
        self.seed = seed
        self.seq = 0
        self.population = Population(
            self.rng,
            repeat_rate=profile.repeat_rate,
            influencers=profile.influencers,
            influencer_share=profile.influencer_share,
            foreign_share=profile.foreign_share,
            id_base=(seed % 100_000) * 10_000_000,
        )
        weights = profile.daily_pattern
        mean = sum(weights) / 24 or 1.0
        self.hour_rate = [rate_per_hour * w / mean / 3600.0 for w in weights]  # per second
        self.max_rate = max(self.hour_rate)
        self.rate_per_hour = rate_per_hour
        self.kinds = list(profile.kind_mix)
        self.kind_cum = list(itertools.accumulate(profile.kind_mix.values()))
        self.channels = list(profile.channel_mix)
        self.channel_cum = list(itertools.accumulate(profile.channel_mix.values()))
        self.hour_cum = list(itertools.accumulate(profile.daily_pattern))
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        self.day_offset = (start - midnight).total_seconds() + profile.utc_offset_hours * 3600
        self.slug = profile.slug
        self.tag = profile.tag
        self.brand_parties = {c: profile.brand_party(c) for c in SIM_CHANNELS}
        self.accounts = {c: profile.account(c) for c in SIM_CHANNELS}
        self.heap: list[tuple[float, int, int, Any]] = []
        self.heap_seq = 0
        self.last_origin: _Origin | None = None
        self.injected = EventSource(self) if profile.events else None

    # --- scheduling -------------------------------------------------------------------

    def push(self, at: float, entry: int, payload: Any = None) -> None:
        self.heap_seq += 1
        heapq.heappush(self.heap, (at, self.heap_seq, entry, payload))

    def local_hour(self, t: float) -> int:
        return int((self.day_offset + t) // 3600) % 24

    def next_base(self, t: float) -> float:
        """Next organic arrival after t: a Poisson process thinned by the daily pattern."""
        if self.max_rate <= 0:
            return math.inf
        while True:
            t += self.rng.expovariate(self.max_rate)
            if self.rng.random() * self.max_rate <= self.hour_rate[self.local_hour(t)]:
                return t

    def schedule_day(self, day_start: float) -> None:
        """Plan the bursts of the day beginning at day_start (seconds from start)."""
        p = self.p
        bursts = int(p.bursts_per_day) + (self.rng.random() < p.bursts_per_day % 1)
        size = p.burst_size or min(5_000, max(40, round(1.5 * self.rate_per_hour)))
        for _ in range(bursts):
            hour = self.rng.choices(range(24), cum_weights=self.hour_cum)[0]
            offset_hours = (hour - p.utc_offset_hours - self._hour_at(day_start)) % 24
            at = day_start + offset_hours * 3600 + self.rng.uniform(0, 3600)
            if at < 0:
                continue
            self.seq += 1
            burst_id = f"burst-{self.seed}-{self.seq}"
            hashtag = f"#{self.tag}Down"
            for _ in range(max(1, round(size * self.rng.uniform(0.7, 1.3)))):
                # Front-loaded: most people notice and post in the first minutes.
                delay = p.burst_minutes * 60 * self.rng.betavariate(1.2, 3.0)
                self.push(at + delay, _BURST, (burst_id, hashtag))
        self.push(day_start + 86_400, _DAY)

    def _hour_at(self, t: float) -> int:
        return (self.start + timedelta(seconds=t)).hour

    def run(self, end: float | None) -> Iterator[InboundEvent]:
        midnight = self.start.replace(hour=0, minute=0, second=0, microsecond=0)
        first_day = (midnight - self.start).total_seconds()
        self.schedule_day(first_day)
        if self.injected is not None:
            self.injected.schedule(self.push, _EVENT)
        self.push(self.next_base(0.0), _BASE)
        while self.heap:
            at, _, entry, payload = heapq.heappop(self.heap)
            if end is not None and at >= end:
                return
            if entry == _DAY:
                self.schedule_day(at)
                continue
            if entry == _BASE:
                self.push(self.next_base(at), _BASE)
                yield self.original(at)
            elif entry == _BURST:
                yield self.burst_message(at, payload)
            elif entry == _FOLLOWUP:
                yield self.followup(at, payload)
            elif entry == _EVENT and self.injected is not None:
                yield self.injected.message(at, payload)
            else:
                yield self.dm_after_post(at, payload)

    # --- messages -----------------------------------------------------------------------

    def original(self, at: float) -> InboundEvent:
        rng = self.rng
        customer = self.population.pick()
        kind = _pick(rng, self.kinds, self.kind_cum)
        channel = _pick(rng, self.channels, self.channel_cum)
        if kind == "spam" and channel == "email":
            channel = "x"
        private = rng.random() < self.p.private_share.get(channel, 0.0)
        topic = self.pick_topic(kind)
        text, language = self.compose(kind, topic, channel, private, customer)
        return self.emit(
            at, customer, channel, private, kind, topic, text, language, parent=None, burst=None
        )

    def burst_message(self, at: float, payload: tuple[str, str]) -> InboundEvent:
        rng = self.rng
        burst_id, hashtag = payload
        customer = self.population.pick()
        channel = "x" if rng.random() < 0.7 else pick_one(rng, ("facebook", "instagram"))
        kind = "complaint" if rng.random() < 0.85 else "question"
        phrase = self.fill(pick_one(rng, self.sector.burst_phrases))
        text = f"{self.p.handle} {phrase}" if rng.random() < 0.7 else phrase
        if rng.random() < 0.65:
            text = f"{text} {hashtag}"
        if rng.random() < 0.4:
            text = f"{text} {pick_one(rng, EMOJI_NEGATIVE)}"
        text = self.typos(text)
        return self.emit(
            at,
            customer,
            channel,
            False,
            kind,
            self.sector.burst_topic,
            text,
            "en",
            parent=None,
            burst=burst_id,
        )

    def followup(self, at: float, origin: _Origin) -> InboundEvent:
        text = self.fill(pick_one(self.rng, FOLLOWUPS))
        if origin.channel == "email":
            text = f"{pick_one(self.rng, EMAIL_OPENERS).format(brand=self.p.name)}\n\n{text}"
        private = origin.channel == "email"
        return self.emit(
            at,
            origin.customer,
            origin.channel,
            private,
            origin.kind,
            origin.topic,
            text,
            origin.customer.language,
            parent=origin,
            burst=origin.burst,
            followup=True,
        )

    def dm_after_post(self, at: float, origin: _Origin) -> InboundEvent:
        text = self.fill(pick_one(self.rng, DM_DETAILS))
        return self.emit(
            at,
            origin.customer,
            origin.channel,
            True,
            origin.kind,
            origin.topic,
            text,
            "en",
            parent=None,
            burst=origin.burst,
            followup=True,
            root=origin.root,
        )

    def emit(
        self,
        at: float,
        customer: SimCustomer,
        channel: str,
        private: bool,
        kind: str,
        topic: str,
        text: str,
        language: str,
        *,
        parent: _Origin | None,
        burst: str | None,
        followup: bool = False,
        root: str | None = None,
        event: str | None = None,
        metrics: Metrics | None = None,
    ) -> InboundEvent:
        rng = self.rng
        self.seq += 1
        external_id = self.external_id(channel)
        created_at = self.start + timedelta(seconds=at)
        references = [] if parent is None else [*parent.references, parent.external_id]
        root_id = parent.root if parent else (root or external_id)
        if private:
            metrics = NO_METRICS  # private messages have no public reactions
        elif metrics is None:
            reach = customer.followers * (0.002 + 0.02 * rng.random())
            if burst or kind == "complaint":
                reach *= 2.0
            metrics = Metrics(
                likes=int(reach),
                reposts=int(reach * 0.3 * rng.random()),
                replies=int(reach * 0.1 * rng.random()),
                quotes=int(reach * 0.03 * rng.random()),
            )
        customer.messages += 1
        repeat = customer.messages > 1
        inbound = InboundEvent(
            channel=channel,
            external_id=external_id,
            visibility="private" if private else "public",
            author=customer.party(channel),
            recipient=self.brand_parties[channel] if private else None,
            account=self.accounts[channel],
            text=text,
            created_at=created_at,
            reply_to=parent.external_id if parent else None,
            references=references if channel == "email" else [],
            subject=self.subject(kind, topic, parent) if channel == "email" else "",
            metrics=metrics,
            extra={
                "sim": _ground_truth(
                    customer,
                    kind,
                    topic,
                    self.topics.get(topic),
                    private,
                    language,
                    repeat=repeat,
                    followup=followup,
                    burst=burst,
                    conversation=root_id,
                )
            },
        )
        customer.last_message[channel] = external_id
        if event is not None:
            inbound.extra["sim"]["event"] = event
        if followup and parent is not None:
            return inbound
        origin = _Origin(
            customer=customer,
            channel=channel,
            kind=kind,
            topic=topic,
            external_id=external_id,
            root=root_id,
            references=references,
            burst=burst,
        )
        self.last_origin = origin
        if event is not None:
            # Injected messages start no follow-ups: organic traffic stays the same.
            return inbound
        if _NEEDS_RESPONSE[kind] and kind != "marketing":
            if rng.random() < self.p.followup_rate:
                # Customers chase after minutes to hours when nobody answers.
                self.push(at + rng.uniform(600, 6 * 3600), _FOLLOWUP, origin)
            if (
                not private
                and channel != "email"
                and not followup
                and rng.random() < self.p.dm_after_post_rate
            ):
                self.push(at + rng.uniform(120, 1800), _DM, origin)
        return inbound

    def external_id(self, channel: str) -> str:
        n = (self.seed % 100_000) * 10_000_000_000 + self.seq
        if channel == "x":
            return str(1_800_000_000_000_000_000 + n)
        if channel == "facebook":
            return f"{self.slug}_{n}"
        if channel == "instagram":
            return str(17_900_000_000_000_000 + n)
        return f"<sim.{n}@mail.{self.slug}.example>"

    # --- text ---------------------------------------------------------------------------

    def pick_topic(self, kind: str) -> str:
        rng = self.rng
        if kind in ("complaint", "question", "request"):
            return pick_one(rng, self.sector.topics).name
        if kind == "marketing":
            return pick_one(rng, tuple(MARKETING))
        return {
            "praise": "service",
            "suggestion": "product_idea",
            "sales_lead": "new_business",
            "spam": "spam",
        }.get(kind, "chatter")

    def fill(self, template: str, phrase: str = "", handle: str | None = None) -> str:
        return template.format_map(
            _Slots(self, self.p.handle if handle is None else handle, phrase)
        )

    def compose(
        self, kind: str, topic: str, channel: str, private: bool, customer: SimCustomer
    ) -> tuple[str, str]:
        rng = self.rng
        # Public X posts usually tag the brand; elsewhere the brand is named or implied.
        if channel == "x" and not private and rng.random() < 0.85:
            handle = self.p.handle
        elif channel != "email" and not private and rng.random() < 0.3:
            handle = self.p.name  # an untagged mention: the brand named, not tagged
        else:
            handle = ""
        language = customer.language
        foreign = [t for k, t in FOREIGN.get(language, ()) if k == kind]
        if language != "en" and foreign:
            text = self.fill(pick_one(rng, foreign), handle=handle)
        else:
            language = "en"
            text = self.fill(self._template(kind, topic), self._phrase(kind, topic), handle)
        if not handle:
            text = _tidy(text)
        if kind not in ("spam",) and rng.random() < self.p.hashtag_rate:
            tags = self.topics[topic].hashtags if topic in self.topics else ()
            if tags:
                text = f"{text} {pick_one(rng, tags)}"
        if rng.random() < self.p.emoji_rate:
            pool = (
                EMOJI_NEGATIVE
                if kind == "complaint"
                else EMOJI_POSITIVE
                if kind == "praise"
                else EMOJI_NEUTRAL
            )
            text = f"{text} {pick_one(rng, pool)}"
        text = self.typos(text)
        if channel == "email":
            opener = pick_one(rng, EMAIL_OPENERS).format(brand=self.p.name)
            closer = pick_one(rng, EMAIL_CLOSERS)
            text = f"{opener}\n\n{text}\n\n{closer},\n{customer.name}"
        return text, language

    def _template(self, kind: str, topic: str) -> str:
        rng = self.rng
        if kind == "complaint":
            return pick_one(rng, COMPLAINT_FRAMES)
        if kind == "question":
            return pick_one(rng, QUESTION_FRAMES)
        if kind == "request":
            return pick_one(rng, REQUEST_FRAMES)
        if kind == "praise":
            return pick_one(rng, PRAISE)
        if kind == "suggestion":
            return pick_one(rng, SUGGESTION)
        if kind == "sales_lead":
            return "{handle} " + pick_one(rng, self.sector.sales_phrases)
        if kind == "marketing":
            return pick_one(rng, MARKETING[topic])
        if kind == "spam":
            return pick_one(rng, SPAM)
        return pick_one(rng, CHATTER)

    def _phrase(self, kind: str, topic: str) -> str:
        found = self.topics.get(topic)
        if found is None or kind not in ("complaint", "question", "request"):
            return ""
        phrases: tuple[str, ...] = getattr(found, kind)
        return self.fill(pick_one(self.rng, phrases))

    def typos(self, text: str) -> str:
        rng = self.rng
        if rng.random() >= self.p.typo_rate:
            return text
        words = text.split(" ")
        candidates = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
        if not candidates:
            return text
        i = pick_one(rng, candidates)
        word = words[i]
        j = rng.randrange(len(word) - 1)
        if rng.random() < 0.5:
            word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]  # swapped letters
        else:
            word = word[:j] + word[j + 1 :]  # a dropped letter
        words[i] = word
        return " ".join(words)

    def subject(self, kind: str, topic: str, parent: _Origin | None) -> str:
        if parent is not None:
            return "Re: " + EMAIL_SUBJECTS[kind][0].format(topic=topic, brand=self.p.name)
        template = pick_one(self.rng, EMAIL_SUBJECTS[kind])
        return template.format(topic=topic.replace("_", " "), brand=self.p.name)


_SPACES = re.compile(r"\s{2,}")


def _tidy(text: str) -> str:
    """Clean up after an empty {handle}: double spaces, a space before a comma."""
    return _SPACES.sub(" ", text).replace(" ,", ",").strip().lstrip(",. ")


def _pick(rng: random.Random, population: Sequence[str], cum_weights: Sequence[float]) -> str:
    """random.choices(k=1) without its per-call checks; the same draw for the same seed."""
    return population[bisect(cum_weights, rng.random() * cum_weights[-1], 0, len(population) - 1)]


class _Slots(dict[str, str]):
    """Template slots drawn only when a template uses them (drawing all is 3x slower)."""

    def __init__(self, gen: _Generator, handle: str, phrase: str) -> None:
        super().__init__(handle=handle, phrase=phrase, brand=gen.p.name, brand_tag=gen.tag)
        self.gen = gen

    def __missing__(self, key: str) -> str:
        rng = self.gen.rng
        if key == "product":
            return pick_one(rng, self.gen.sector.products)
        if key == "phrase_lower":
            phrase = self["phrase"]
            return phrase[:1].lower() + phrase[1:]
        if key == "hours":
            return str(2 + int(rng.random() * 29))
        if key == "days":
            return str(2 + int(rng.random() * 20))
        if key == "amount":
            return f"£{5 + int(rng.random() * 236)}"
        if key == "city":
            return pick_one(rng, CITIES)
        if key == "order":
            return f"{pick_one(rng, 'ABCDKMX')}{100_000 + int(rng.random() * 900_000)}"
        raise KeyError(key)


def intended_value(
    customer: SimCustomer, kind: str, topic: Topic | None, private: bool, *, repeat: bool
) -> float:
    """The value a perfect triage would give this item, 0..1 (ground truth, not the score).

    Production scoring lives in socialdesk.priority; this is only the generator's label of
    what it meant, used by quality checks and reports.
    """
    tier = _TIER_SCORE[customer.tier]
    influence = min(1.0, math.log10(customer.followers + 1) / 6.0) + (
        0.2 if customer.verified else 0.0
    )
    severity = topic.severity if topic is not None and kind == "complaint" else 0.5
    value = (
        0.30 * tier
        + 0.25 * min(1.0, influence)
        + 0.25 * _KIND_WEIGHT[kind] * (0.5 + 0.5 * severity)
        + 0.10 * (0.4 if private else 1.0)
        + 0.10 * (1.0 if repeat else 0.0)
    )
    if not _NEEDS_RESPONSE[kind]:
        value *= 0.3
    return round(min(1.0, value), 4)


def _ground_truth(
    customer: SimCustomer,
    kind: str,
    topic: str,
    topic_info: Topic | None,
    private: bool,
    language: str,
    *,
    repeat: bool,
    followup: bool,
    burst: str | None,
    conversation: str,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "topic": topic,
        "value": intended_value(customer, kind, topic_info, private, repeat=repeat),
        "needs_response": _NEEDS_RESPONSE[kind],
        "route_to": _ROUTE_TO[kind],
        "sentiment": _SENTIMENT.get(kind, "neutral"),
        "severity": topic_info.severity if topic_info is not None else 0.0,
        "language": language,
        "customer": customer.key,
        "tier": customer.tier,
        "lifetime_value": customer.lifetime_value,
        "followup": followup,
        "repeat": repeat,
        "burst": burst,
        "conversation": conversation,
    }
