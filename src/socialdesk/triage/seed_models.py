"""The day-one models: trained on socialdesk's own seed examples, once per machine.

A fresh workspace has no labels of its own, so its kind and sentiment come from linear
models trained on the seed files (``seed_data/``) and kept in the model cache under a key
that covers the seeds' features and labels, so a change to any seed file trains them again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from socialdesk.triage.linear import LinearModel, fit_linear
from socialdesk.triage.model_cache import cached_model, training_key
from socialdesk.triage.seeds import Seed, seed_examples

if TYPE_CHECKING:
    from socialdesk.triage.classifier import Analysed

SEED_VERSION = "seed-2"
# Real posts to a brand mostly start with its handle; the seeds are written without one. So
# the models do not take a mention for a sign of any one kind, a share of each kind's seeds
# is also read as addressed to a brand (tenths of the seeds, by kind): care requests most
# often, chatter least.
ADDRESSED_TENTHS = {
    "complaint": 7,
    "question": 7,
    "request": 7,
    "praise": 6,
    "suggestion": 6,
    "sales_lead": 6,
    "marketing": 5,
    "spam": 3,
    "other": 2,
}
HANDLE = "@brand "
# The seed models' probabilities are calibrated on out-of-fold margins (see fit_linear).
CALIBRATION_FOLDS = 5


def seed_texts(seeds: Sequence[Seed]) -> list[str]:
    """Each seed's text, a share of them addressed to a brand's handle (deterministic)."""
    counts: dict[str, int] = {}
    texts = []
    for seed in seeds:
        n = counts[seed.kind] = counts.get(seed.kind, -1) + 1
        addressed = n % 10 < ADDRESSED_TENTHS.get(seed.kind, 5)
        texts.append(HANDLE + seed.text if addressed else seed.text)
    return texts


@lru_cache(maxsize=1)
def _seed_analysis() -> tuple[list[Seed], Analysed]:
    """The seeds and their features, read once for both seed models (the cache key is a
    digest of these features, so even a process that finds both models on disk reads them)."""
    # Imported here: the classifier imports this module.
    from socialdesk.triage.classifier import analyse

    seeds = seed_examples()
    return seeds, analyse(seed_texts(seeds))


def _train_seed_model(
    name: str,
    task: str,
    labels: Callable[[Seed], str],
    c: float,
    balanced: bool,
    embed: Callable[[Sequence[str]], np.ndarray] | None,
) -> LinearModel:
    seeds, analysed = _seed_analysis()
    batch = analysed.features
    gold = [labels(s) for s in seeds]
    settings: dict[str, object] = {
        "c": c,
        "balanced": balanced,
        "version": SEED_VERSION,
        "calibration_folds": CALIBRATION_FOLDS,
    }
    embeddings = embed([p.body for p in analysed.prepared]) if embed is not None else None

    def train() -> LinearModel:
        model = fit_linear(
            task,
            batch,
            gold,
            c=c,
            balanced=balanced,
            embeddings=embeddings,
            calibration_folds=CALIBRATION_FOLDS,
        )
        model.meta["version"] = SEED_VERSION
        return model

    key = training_key(batch, gold, settings, embeddings)
    return cached_model(name + ("-embedding" if embed is not None else ""), key, train)


def _embed(texts: Sequence[str]) -> np.ndarray:
    from socialdesk.triage.embedding import encode

    return encode(list(texts))


@lru_cache(maxsize=2)
def seed_kind_model(with_embeddings: bool = False) -> LinearModel:
    """The day-one kind model."""
    return _train_seed_model(
        "seed-kind",
        "kind",
        lambda s: s.kind,
        1.0,
        True,
        _embed if with_embeddings else None,
    )


@lru_cache(maxsize=2)
def seed_sentiment_model(with_embeddings: bool = False) -> LinearModel:
    """The day-one sentiment model: the seeds' n-grams beside VADER's scores."""
    return _train_seed_model(
        "seed-sentiment",
        "sentiment",
        lambda s: s.sentiment,
        1.0,
        True,
        _embed if with_embeddings else None,
    )
