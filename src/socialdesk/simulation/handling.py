"""How long an agent takes to handle an item: a distribution per kind and channel.

Configured as JSON (``socialdesk simulate --handling FILE``)::

    {"default": {"dist": "lognormal", "mean": 5, "cv": 0.6},
     "kinds": {"complaint": {"dist": "lognormal", "mean": 8, "cv": 0.7}},
     "channels": {"email": {"scale": 1.5}},
     "pairs": {"sales_lead/email": {"dist": "gamma", "mean": 12, "cv": 0.5}},
     "first_reply": {"dist": "lognormal", "mean": 2, "cv": 0.5}}

Times are in minutes. The most specific entry wins: a kind/channel pair, else the kind's
distribution times the channel's ``scale``, else the default. Distributions: ``fixed``
(mean), ``exponential`` (mean), ``lognormal``/``gamma`` (mean and coefficient of
variation), ``uniform`` (low, high).

An item's handling is the agent's whole work on it. Its first part is the **first reply**
(``first_reply``, times the channel's ``scale``, never longer than the whole handling): on
social the agent who takes an item answers it first (an acknowledgement, a question, often
a request to continue in private messages) and does the rest of the work afterwards. The
first-response time ends with that reply, as the platforms define it (the time to the first
agent answer). ``"first_reply": null`` answers each item in one sitting: the first reply is
the whole handling (the simulator's model before first replies were modelled).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DISTRIBUTIONS = ("fixed", "exponential", "lognormal", "gamma", "uniform")


@dataclass(frozen=True, slots=True)
class Distribution:
    dist: str = "lognormal"
    mean: float = 5.0
    cv: float = 0.6
    low: float = 0.0
    high: float = 0.0

    def __post_init__(self) -> None:
        if self.dist not in DISTRIBUTIONS:
            raise ValueError(f"unknown distribution {self.dist!r}; use {', '.join(DISTRIBUTIONS)}")
        if self.dist == "uniform":
            if not 0 <= self.low <= self.high or self.high <= 0:
                raise ValueError("uniform needs 0 <= low <= high and high > 0")
        elif not (self.mean > 0 and math.isfinite(self.mean)):
            raise ValueError("mean must be a positive number of minutes")
        if self.cv < 0:
            raise ValueError("cv must be >= 0")

    @property
    def expected(self) -> float:
        return (self.low + self.high) / 2 if self.dist == "uniform" else self.mean

    def sample(self, rng: random.Random, scale: float = 1.0) -> float:
        """One handling time in minutes."""
        if self.dist == "fixed" or (self.cv == 0 and self.dist in ("lognormal", "gamma")):
            value = self.mean
        elif self.dist == "exponential":
            value = rng.expovariate(1.0 / self.mean)
        elif self.dist == "lognormal":
            sigma2 = math.log1p(self.cv * self.cv)
            value = rng.lognormvariate(math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2))
        elif self.dist == "gamma":
            shape = 1.0 / (self.cv * self.cv)
            value = rng.gammavariate(shape, self.mean / shape)
        else:
            value = rng.uniform(self.low, self.high)
        return value * scale

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Distribution:
        unknown = set(data) - {"dist", "mean", "cv", "low", "high"}
        if unknown:
            raise ValueError(f"unknown distribution settings: {', '.join(sorted(unknown))}")
        numbers = {k: float(v) for k, v in data.items() if k != "dist"}
        return cls(dist=str(data.get("dist", "lognormal")), **numbers)


DEFAULT_KIND_TIMES: Mapping[str, Distribution] = {
    "complaint": Distribution("lognormal", 9.0, 0.7),
    "question": Distribution("lognormal", 4.0, 0.6),
    "request": Distribution("lognormal", 6.0, 0.6),
    "suggestion": Distribution("lognormal", 3.0, 0.5),
    "sales_lead": Distribution("lognormal", 7.0, 0.6),
    "marketing": Distribution("lognormal", 2.5, 0.5),
    "praise": Distribution("lognormal", 1.5, 0.5),
}
# Reading the message and the customer's history, then writing two or three sentences.
DEFAULT_FIRST_REPLY = Distribution("lognormal", 2.0, 0.5)
DEFAULT_CHANNEL_SCALE: Mapping[str, float] = {
    "x": 1.0,
    "facebook": 1.1,
    "instagram": 1.0,
    "email": 1.6,
}


@dataclass(frozen=True)
class HandlingTimes:
    default: Distribution = field(default_factory=lambda: Distribution("lognormal", 5.0, 0.6))
    kinds: Mapping[str, Distribution] = field(default_factory=lambda: dict(DEFAULT_KIND_TIMES))
    channel_scale: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_CHANNEL_SCALE))
    pairs: Mapping[str, Distribution] = field(default_factory=dict)
    first_reply: Distribution | None = DEFAULT_FIRST_REPLY
    """None: the first reply is the whole handling (the item is answered in one sitting)."""

    def distribution(self, kind: str | None, channel: str) -> tuple[Distribution, float]:
        pair = self.pairs.get(f"{kind}/{channel}")
        if pair is not None:
            return pair, 1.0
        base = self.kinds.get(kind or "", self.default)
        return base, self.channel_scale.get(channel, 1.0)

    def sample(self, rng: random.Random, kind: str | None, channel: str) -> float:
        """Minutes an agent spends on one item of this kind and channel."""
        dist, scale = self.distribution(kind, channel)
        return dist.sample(rng, scale)

    def sample_first_reply(self, rng: random.Random, channel: str, handling: float) -> float:
        """Minutes until the first reply is sent, within an item ``handling`` minutes long."""
        if self.first_reply is None:
            return handling
        return min(handling, self.first_reply.sample(rng, self.channel_scale.get(channel, 1.0)))

    def mean(self, kind: str | None, channel: str) -> float:
        dist, scale = self.distribution(kind, channel)
        return dist.expected * scale

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HandlingTimes:
        unknown = set(data) - {"default", "kinds", "channels", "pairs", "first_reply"}
        if unknown:
            raise ValueError(f"unknown handling settings: {', '.join(sorted(unknown))}")
        base = cls()
        default = Distribution.from_dict(data["default"]) if "default" in data else base.default
        kinds = dict(base.kinds)
        kinds.update({k: Distribution.from_dict(v) for k, v in data.get("kinds", {}).items()})
        scales = dict(base.channel_scale)
        for channel, spec in data.get("channels", {}).items():
            extra = set(spec) - {"scale"}
            if extra:
                raise ValueError(f"channel {channel!r}: only 'scale' is allowed, not {extra}")
            scale = float(spec.get("scale", 1.0))
            if scale <= 0:
                raise ValueError(f"channel {channel!r}: scale must be > 0")
            scales[channel] = scale
        pairs = {}
        for key, spec in data.get("pairs", {}).items():
            if key.count("/") != 1:
                raise ValueError(f"pair {key!r} must look like 'kind/channel'")
            pairs[key] = Distribution.from_dict(spec)
        first = base.first_reply
        if "first_reply" in data:
            raw = data["first_reply"]
            first = None if raw is None else Distribution.from_dict(raw)
        return cls(
            default=default, kinds=kinds, channel_scale=scales, pairs=pairs, first_reply=first
        )

    @classmethod
    def load(cls, path: Path) -> HandlingTimes:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: cannot read handling times: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{path}: handling times must be a JSON object")
        try:
            return cls.from_dict(data)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from exc
