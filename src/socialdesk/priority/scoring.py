"""Business value of an item of work: a weighted sum of factors, each explained.

Every factor is first brought to a 0..1 scale, then multiplied by the workspace's weight
for it; the total is the sum of those contributions. With the default weights (which
add up to 100) a score lies between 0 and 100. The breakdown keeps each contribution, so
an agent can see why an item is first.

Pure functions over frozen dataclasses: production, tests, benchmarks and the simulator
all score with this code. ``now`` is passed in (the injected clock), never read here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from socialdesk.core.clock import as_utc

FACTORS = (
    "customer_value",
    "influence",
    "sentiment",
    "kind",
    "urgency",
    "visibility",
    "virality",
    "sales_opportunity",
    "repeat_contact",
)


@dataclass(frozen=True, slots=True)
class ValueWeights:
    """How much each factor weighs; an admin sets them per workspace (0 switches one off)."""

    customer_value: float = 20.0
    influence: float = 15.0
    sentiment: float = 15.0
    kind: float = 15.0
    urgency: float = 10.0
    visibility: float = 5.0
    virality: float = 8.0
    sales_opportunity: float = 7.0
    repeat_contact: float = 5.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"weight {f.name} must be a finite number >= 0, got {value!r}")

    @property
    def total(self) -> float:
        return float(sum(getattr(self, name) for name in FACTORS))

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in FACTORS}


def _frozen(mapping: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping))


DEFAULT_TIER_VALUES: Mapping[str, float] = _frozen(
    {"platinum": 1.0, "vip": 1.0, "gold": 0.75, "silver": 0.5, "bronze": 0.3, "standard": 0.2}
)

# Complaints and sales leads come before questions, questions before praise and chatter.
DEFAULT_KIND_VALUES: Mapping[str, float] = _frozen(
    {
        "complaint": 1.0,
        "sales_lead": 0.9,
        "question": 0.7,
        "request": 0.7,
        "feedback": 0.4,
        "suggestion": 0.4,
        "marketing": 0.3,
        "praise": 0.2,
        "other": 0.2,
        "spam": 0.0,
    }
)


@dataclass(frozen=True, slots=True)
class ValuePolicy:
    """A workspace's scoring policy: the weights plus the scales that normalise each factor."""

    weights: ValueWeights = field(default_factory=ValueWeights)
    tier_values: Mapping[str, float] = field(default_factory=lambda: DEFAULT_TIER_VALUES)
    kind_values: Mapping[str, float] = field(default_factory=lambda: DEFAULT_KIND_VALUES)
    # Kind unknown (no triage yet): treated like a question, so it is neither buried nor first.
    unknown_kind_value: float = 0.6
    # Lifetime value (in the CRM's currency) at which customer value counts in full.
    lifetime_value_full: float = 10_000.0
    # Followers at which reach counts in full (log scale: 1k followers is already ~0.6).
    followers_full: int = 100_000
    verified_bonus: float = 0.3
    # Interactions per hour (likes + replies + 2 x reposts/quotes) at which virality is 0.5.
    virality_half_rate: float = 30.0
    # Earlier contacts (in the lookback the caller uses) at which repeat contact counts in full.
    repeat_contacts_full: int = 3

    def __post_init__(self) -> None:
        for name in ("lifetime_value_full", "followers_full", "virality_half_rate"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
        if self.repeat_contacts_full < 1:
            raise ValueError("repeat_contacts_full must be >= 1")
        for mapping_name in ("tier_values", "kind_values"):
            mapping: Mapping[str, float] = getattr(self, mapping_name)
            for key, value in mapping.items():
                if not 0.0 <= value <= 1.0:
                    raise ValueError(f"{mapping_name}[{key!r}] must be within 0..1, got {value!r}")
        object.__setattr__(self, "tier_values", _frozen(self.tier_values))
        object.__setattr__(self, "kind_values", _frozen(self.kind_values))

    @property
    def max_score(self) -> float:
        return self.weights.total

    def with_weights(self, **changes: float) -> ValuePolicy:
        return replace(self, weights=replace(self.weights, **changes))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, as stored per workspace."""
        return {
            "weights": self.weights.as_dict(),
            "tier_values": dict(self.tier_values),
            "kind_values": dict(self.kind_values),
            "unknown_kind_value": self.unknown_kind_value,
            "lifetime_value_full": self.lifetime_value_full,
            "followers_full": self.followers_full,
            "verified_bonus": self.verified_bonus,
            "virality_half_rate": self.virality_half_rate,
            "repeat_contacts_full": self.repeat_contacts_full,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValuePolicy:
        """Build from a stored or submitted dict; missing keys keep their defaults."""
        unknown = set(data) - set(cls().to_dict())
        if unknown:
            raise ValueError(f"unknown value policy settings: {', '.join(sorted(unknown))}")
        weights_data = data.get("weights", {})
        unknown_weights = set(weights_data) - set(FACTORS)
        if unknown_weights:
            raise ValueError(f"unknown weights: {', '.join(sorted(unknown_weights))}")
        kwargs: dict[str, Any] = {k: v for k, v in data.items() if k != "weights"}
        weights = ValueWeights(**{k: float(v) for k, v in weights_data.items()})
        return cls(weights=weights, **kwargs)


@dataclass(frozen=True, slots=True)
class ScoringInput:
    """What is known about one item of work when it is scored.

    ``sentiment`` is a compound score in -1..1 (negative = angry); ``severity``,
    ``urgency`` and ``sales_opportunity`` are 0..1 signals from triage; ``engagement`` is
    the author's usual engagement rate (0..1) when a connector knows it.
    """

    channel: str
    visibility: str  # "public" or "private"
    created_at: datetime
    kind: str | None = None
    sentiment: float | None = None
    severity: float = 0.0
    urgency: float = 0.0
    sales_opportunity: float = 0.0
    customer_tier: str | None = None
    lifetime_value: float | None = None
    followers: int = 0
    verified: bool = False
    engagement: float = 0.0
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0
    repeat_contacts: int = 0


@dataclass(frozen=True, slots=True)
class ValueScore:
    total: float
    breakdown: Mapping[str, float]  # factor -> contribution (weight x normalised factor)
    factors: Mapping[str, float]  # factor -> normalised value 0..1

    def top_reasons(self, n: int = 3) -> list[str]:
        """The factors that added most, for a one-line "why is this first"."""
        ranked = sorted(self.breakdown.items(), key=lambda kv: (-kv[1], kv[0]))
        return [name for name, contribution in ranked[:n] if contribution > 0]


def _clamp01(value: float) -> float:
    if math.isnan(value):
        return 0.0
    return 0.0 if value < 0.0 else 1.0 if value > 1.0 else value


def _log_scale(value: float, full: float) -> float:
    if value <= 0:
        return 0.0
    return _clamp01(math.log1p(value) / math.log1p(full))


def customer_value_factor(item: ScoringInput, policy: ValuePolicy) -> float:
    tier = policy.tier_values.get((item.customer_tier or "").strip().lower(), 0.0)
    ltv = _log_scale(item.lifetime_value or 0.0, policy.lifetime_value_full)
    return max(tier, ltv)


def influence_factor(item: ScoringInput, policy: ValuePolicy) -> float:
    reach = _log_scale(float(item.followers), float(policy.followers_full))
    verified = policy.verified_bonus if item.verified else 0.0
    # Engagement tops up reach: a small account whose audience reacts still carries far.
    return _clamp01(reach + verified + 0.2 * _clamp01(item.engagement))


def sentiment_factor(item: ScoringInput) -> float:
    negativity = _clamp01(-(item.sentiment or 0.0))
    severity = _clamp01(item.severity)
    # Either one alone can make an item serious; both together more so (probabilistic or).
    return 1.0 - (1.0 - negativity) * (1.0 - severity)


def kind_factor(item: ScoringInput, policy: ValuePolicy) -> float:
    if item.kind is None:
        return policy.unknown_kind_value
    return policy.kind_values.get(item.kind, policy.unknown_kind_value)


def visibility_factor(item: ScoringInput) -> float:
    # A public complaint is seen by everyone; a private one by the customer only.
    return 1.0 if item.visibility == "public" else 0.0


def virality_factor(item: ScoringInput, policy: ValuePolicy, now: datetime) -> float:
    interactions = item.likes + item.replies + 2 * (item.reposts + item.quotes)
    if interactions <= 0:
        return 0.0
    age_hours = (as_utc(now) - as_utc(item.created_at)).total_seconds() / 3600.0
    # Fresh posts get a floor on age so a single early like does not look like a storm.
    rate = interactions / max(age_hours, 0.25)
    return rate / (rate + policy.virality_half_rate)


def repeat_contact_factor(item: ScoringInput, policy: ValuePolicy) -> float:
    return _clamp01(item.repeat_contacts / policy.repeat_contacts_full)


def score_value(item: ScoringInput, policy: ValuePolicy, now: datetime) -> ValueScore:
    """The item's value score with each factor's contribution."""
    factors = {
        "customer_value": customer_value_factor(item, policy),
        "influence": influence_factor(item, policy),
        "sentiment": sentiment_factor(item),
        "kind": kind_factor(item, policy),
        "urgency": _clamp01(item.urgency),
        "visibility": visibility_factor(item),
        "virality": virality_factor(item, policy, now),
        "sales_opportunity": _clamp01(item.sales_opportunity),
        "repeat_contact": repeat_contact_factor(item, policy),
    }
    weights = policy.weights
    breakdown = {name: round(getattr(weights, name) * factors[name], 4) for name in FACTORS}
    total = round(sum(breakdown.values()), 4)
    return ValueScore(
        total=total,
        breakdown=MappingProxyType(breakdown),
        factors=MappingProxyType({k: round(v, 4) for k, v in factors.items()}),
    )
