"""Handling times are configurable distributions per kind and channel."""

from __future__ import annotations

import json
import random
import statistics
from pathlib import Path

import pytest

from socialdesk.simulation.handling import Distribution, HandlingTimes


@pytest.mark.parametrize("dist", ["exponential", "lognormal", "gamma"])
def test_random_distributions_have_the_configured_mean(dist: str) -> None:
    rng = random.Random(4)
    spec = Distribution(dist, mean=6.0, cv=0.5)
    samples = [spec.sample(rng) for _ in range(20_000)]
    assert statistics.mean(samples) == pytest.approx(6.0, rel=0.04)
    assert min(samples) > 0


def test_lognormal_spread_follows_the_coefficient_of_variation() -> None:
    rng = random.Random(8)
    samples = [Distribution("lognormal", 10.0, 0.8).sample(rng) for _ in range(20_000)]
    assert statistics.stdev(samples) / statistics.mean(samples) == pytest.approx(0.8, rel=0.1)


def test_fixed_and_uniform() -> None:
    rng = random.Random(1)
    assert Distribution("fixed", mean=3.0).sample(rng) == 3.0
    values = [Distribution("uniform", low=2.0, high=4.0).sample(rng) for _ in range(1000)]
    assert min(values) >= 2.0 and max(values) <= 4.0


def test_most_specific_setting_wins() -> None:
    times = HandlingTimes.from_dict(
        {
            "default": {"dist": "fixed", "mean": 5},
            "kinds": {"complaint": {"dist": "fixed", "mean": 10}},
            "channels": {"email": {"scale": 2}},
            "pairs": {"praise/x": {"dist": "fixed", "mean": 1}},
        }
    )
    rng = random.Random(0)
    assert times.sample(rng, "complaint", "x") == 10.0
    assert times.sample(rng, "complaint", "email") == 20.0
    assert times.sample(rng, "praise", "x") == 1.0
    assert times.sample(rng, None, "email") == 10.0  # unknown kind: the default, scaled
    assert times.mean("complaint", "email") == 20.0


def test_complaints_take_longer_than_praise_by_default() -> None:
    times = HandlingTimes()
    assert times.mean("complaint", "x") > 3 * times.mean("praise", "x")
    assert times.mean("question", "email") > times.mean("question", "x")


def test_bad_settings_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown distribution 'normal'"):
        HandlingTimes.from_dict({"default": {"dist": "normal", "mean": 3}})
    with pytest.raises(ValueError, match="mean must be a positive"):
        HandlingTimes.from_dict({"kinds": {"complaint": {"dist": "fixed", "mean": -1}}})
    with pytest.raises(ValueError, match="kind/channel"):
        HandlingTimes.from_dict({"pairs": {"complaint": {"mean": 3}}})
    with pytest.raises(ValueError, match="unknown handling settings: teams"):
        HandlingTimes.from_dict({"teams": {}})
    broken = tmp_path / "handling.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"handling\.json: cannot read handling times"):
        HandlingTimes.load(broken)
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"default": {"dist": "fixed", "mean": 2}}), encoding="utf-8")
    assert HandlingTimes.load(good).mean("other", "x") == 2.0
