"""Training chooses its regularisation from the training examples alone."""

from __future__ import annotations

import random

import pytest

from socialdesk.triage import training
from socialdesk.triage.training import C_CANDIDATES, Example, train_linear

_GOOD = ["great", "love", "thanks", "awesome", "perfect", "brilliant"]
_BAD = ["late", "lost", "rude", "broken", "awful", "cancelled"]
_FILLER = ["flight", "today", "crew", "gate", "bag", "seat", "app", "again"]


def _examples(n: int, seed: int = 3) -> list[Example]:
    rng = random.Random(seed)
    examples = []
    for i in range(n):
        label = "positive" if i % 2 else "negative"
        cue = rng.choice(_GOOD if label == "positive" else _BAD)
        words = [cue, *rng.sample(_FILLER, 3)]
        rng.shuffle(words)
        examples.append(Example(" ".join(words), label))
    return examples


def test_with_enough_examples_the_strength_is_chosen_by_cross_validation() -> None:
    model = train_linear("sentiment", _examples(240))
    scores = model.meta["cv_scores"]
    assert isinstance(scores, dict)
    assert set(scores) == {str(c) for c in C_CANDIDATES}
    best = max(scores.values())
    assert model.meta["c"] in C_CANDIDATES
    assert scores[str(model.meta["c"])] == best
    # Smaller strengths win ties: the simplest model that does as well.
    assert model.meta["c"] == min(c for c in C_CANDIDATES if scores[str(c)] == best)


def test_with_few_examples_the_task_default_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    model = train_linear("sentiment", _examples(40))
    assert "cv_scores" not in model.meta
    assert model.meta["c"] == training.TASK_SETTINGS["sentiment"][0]
    # A label too rare to fold also keeps the default, however many examples there are.
    monkeypatch.setattr(training, "CV_MIN_EXAMPLES", 10)
    rare = [*_examples(60), Example("a rare one", "neutral"), Example("another", "neutral")]
    assert "cv_scores" not in train_linear("sentiment", rare).meta
