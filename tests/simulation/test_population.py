"""The simulated population: regulars come back, and memory stays bounded however long the
traffic runs."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from socialdesk.simulation.population import Population


def _population(seed: int = 3, **overrides: float) -> Population:
    settings: dict[str, float] = {
        "repeat_rate": 0.3,
        "influencers": 2,
        "influencer_share": 0.01,
        "foreign_share": 0.1,
        "id_base": 0,
    }
    settings.update(overrides)
    return Population(
        random.Random(seed),
        repeat_rate=settings["repeat_rate"],
        influencers=int(settings["influencers"]),
        influencer_share=settings["influencer_share"],
        foreign_share=settings["foreign_share"],
        id_base=int(settings["id_base"]),
        max_remembered=int(settings.get("max_remembered", 200)),
    )


def test_the_population_never_remembers_more_than_its_bound() -> None:
    population = _population(max_remembered=200)
    authors = [population.pick().key for _ in range(5_000)]
    assert len(population.customers) == 200
    assert len(set(authors)) > 2_000  # newcomers keep arriving


def test_regulars_keep_writing_after_the_bound_is_reached() -> None:
    population = _population(max_remembered=200)
    for _ in range(2_000):
        population.pick()
    regulars = {c.key for c in population.customers[:100]}
    later = Counter(population.pick().key for _ in range(3_000))
    assert sum(later[key] for key in regulars) > 300


def test_the_same_seed_draws_the_same_authors() -> None:
    first, second = _population(seed=9), _population(seed=9)
    assert [first.pick().key for _ in range(1_000)] == [second.pick().key for _ in range(1_000)]


def test_a_bound_below_two_is_refused() -> None:
    with pytest.raises(ValueError, match="at least two"):
        _population(max_remembered=1)
