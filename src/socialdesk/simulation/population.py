"""The simulated customers of a brand: who writes, how often, how influential, how valuable.

Followers follow a heavy-tailed (log-normal) law, a handful of verified influencers have
100k+ followers, and returning customers are drawn with a bias towards the oldest ones, so
a few loyal (or angry) regulars write again and again.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from socialdesk.channels.events import Party
from socialdesk.simulation.vocabulary import EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES

T = TypeVar("T")


def pick_one(rng: random.Random, options: Sequence[T]) -> T:
    """random.choice without its rejection sampling; fine for our short lists."""
    return options[int(rng.random() * len(options))]


TIERS = ("bronze", "silver", "gold", "platinum")
TIER_WEIGHTS = (0.6, 0.25, 0.12, 0.03)
_TIER_CUM = (0.6, 0.85, 0.97, 1.0)
_TIER_LTV = {"bronze": 150.0, "silver": 700.0, "gold": 2500.0, "platinum": 9000.0}
LANGUAGES = ("en", "es", "fr", "de", "pt", "ar")


@dataclass(slots=True)
class SimCustomer:
    key: str
    name: str
    slug: str
    x_id: str
    facebook_id: str
    instagram_id: str
    email: str
    phone: str
    followers: int
    verified: bool
    tier: str
    lifetime_value: float
    language: str
    # The last message this customer sent per channel, so follow-ups can reply to it.
    last_message: dict[str, str] = field(default_factory=dict)
    messages: int = 0
    _parties: dict[str, Party] = field(default_factory=dict)

    def party(self, channel: str) -> Party:
        """The author as a channel shows them (cached: a customer's profile does not change)."""
        found = self._parties.get(channel)
        if found is None:
            found = self._parties[channel] = self._make_party(channel)
        return found

    def _make_party(self, channel: str) -> Party:
        if channel == "x":
            return Party(
                id=self.x_id,
                handle=f"@{self.slug}",
                name=self.name,
                followers=self.followers,
                verified=self.verified,
            )
        if channel == "facebook":
            return Party(
                id=self.facebook_id,
                name=self.name,
                followers=self.followers // 3,
                verified=self.verified,
            )
        if channel == "instagram":
            return Party(
                id=self.instagram_id,
                handle=f"@{self.slug.replace('_', '.')}",
                name=self.name,
                followers=self.followers,
                verified=self.verified,
            )
        return Party(id=self.email, handle=self.email, name=self.name, email=self.email)


# How many past customers the population remembers. The demo's traffic runs for days: without
# a bound, every one-off author would be kept for ever.
MAX_REMEMBERED = 20_000


class Population:
    """Draws the author of each message; deterministic for the generator's random source.

    Past customers come back (``repeat_rate``), early ones most often. Once ``max_remembered``
    customers are known, a newcomer takes the place of one from the rarely drawn later half,
    so memory stays bounded while the regulars keep writing.
    """

    def __init__(
        self,
        rng: random.Random,
        *,
        repeat_rate: float,
        influencers: int,
        influencer_share: float,
        foreign_share: float,
        id_base: int,
        max_remembered: int = MAX_REMEMBERED,
    ) -> None:
        if max_remembered < 2:
            raise ValueError("a population must remember at least two customers")
        self._rng = rng
        self._repeat_rate = repeat_rate
        self._influencer_share = influencer_share
        self._foreign_share = foreign_share
        self._id_base = id_base
        self._max_remembered = max_remembered
        self._count = 0
        self.customers: list[SimCustomer] = []
        self._influencers = [self._new(influencer=True) for _ in range(influencers)]

    def pick(self) -> SimCustomer:
        rng = self._rng
        roll = rng.random()
        if self._influencers and roll < self._influencer_share:
            return pick_one(rng, self._influencers)
        if self.customers and roll < self._influencer_share + self._repeat_rate:
            # Squaring the uniform draw favours early customers: a few regulars write a lot.
            return self.customers[int(len(self.customers) * rng.random() ** 2)]
        customer = self._new(influencer=False)
        known = len(self.customers)
        if known < self._max_remembered:
            self.customers.append(customer)
        else:
            half = known // 2
            self.customers[half + int((known - half) * rng.random())] = customer
        return customer

    def _new(self, *, influencer: bool) -> SimCustomer:
        rng = self._rng
        self._count += 1
        number = self._id_base + self._count
        first = pick_one(rng, FIRST_NAMES)
        last = pick_one(rng, LAST_NAMES)
        slug = f"{first.lower()}_{last.lower()}{self._count}".replace("ü", "u")
        if influencer:
            followers = int(100_000 * math.exp(rng.uniform(0.0, 3.5)))
            verified = True
            tier = pick_one(rng, ("silver", "gold", "platinum"))
        else:
            followers = int(rng.lognormvariate(4.6, 1.7))
            verified = followers > 50_000 and rng.random() < 0.5
            tier = TIERS[bisect(_TIER_CUM, rng.random() * _TIER_CUM[-1], 0, len(TIERS) - 1)]
        language = "en"
        if rng.random() < self._foreign_share:
            language = pick_one(rng, LANGUAGES[1:])
        key = f"c{number}{'i' if influencer else ''}"
        return SimCustomer(
            key=key,
            name=f"{first} {last}",
            slug=slug,
            x_id=str(3_000_000_000 + number),
            facebook_id=str(100_000_000_000 + number),
            instagram_id=str(17_000_000_000 + number),
            email=f"{slug}@{pick_one(rng, EMAIL_DOMAINS)}",
            phone=f"+4477{number % 100_000_000:08d}",
            followers=followers,
            verified=verified,
            tier=tier,
            lifetime_value=round(_TIER_LTV[tier] * rng.lognormvariate(0.0, 0.5), 2),
            language=language,
        )
