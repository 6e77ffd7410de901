"""Training a task's linear model from labeled texts. Pure: texts and labels in, model out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from socialdesk.core.errors import InvalidInput
from socialdesk.triage.classifier import analyse
from socialdesk.triage.linear import LinearModel, fit_linear

# Per task: regularisation strength and whether rare classes are weighted up. Topic and kind
# are judged by macro-F1 (rare classes matter); sentiment by accuracy as much as macro-F1.
TASK_SETTINGS: dict[str, tuple[float, bool]] = {
    "kind": (0.1, True),
    "needs_response": (0.1, True),
    "sentiment": (0.1, False),
    "topic": (0.1, True),
    "severity": (0.1, True),
}
MIN_EXAMPLES = 4


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    weight: float = 1.0


def train_linear(
    task: str, examples: Sequence[Example], *, embeddings: bool = False
) -> LinearModel:
    if len(examples) < MIN_EXAMPLES:
        raise InvalidInput(
            f"training {task} needs at least {MIN_EXAMPLES} examples, got {len(examples)}"
        )
    c, balanced = TASK_SETTINGS.get(task, (0.1, False))
    analysed = analyse([e.text for e in examples])
    vectors = None
    if embeddings:
        from socialdesk.triage.embedding import encode

        vectors = encode([p.body for p in analysed.prepared])
    model = fit_linear(
        task,
        analysed.features,
        [e.label for e in examples],
        c=c,
        balanced=balanced,
        sample_weight=np.array([e.weight for e in examples], dtype=np.float64),
        embeddings=vectors,
    )
    model.meta["examples"] = len(examples)
    return model


def stratified_split(
    labels: Sequence[str], train_fraction: float, seed: int = 13
) -> tuple[list[int], list[int]]:
    """Indexes of a training and a test part with each label in the same proportion."""
    if not 0.0 < train_fraction < 1.0:
        raise InvalidInput("--train-fraction must be between 0 and 1 (exclusive)")
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    train: list[int] = []
    test: list[int] = []
    for indexes in by_label.values():
        order = [indexes[j] for j in rng.permutation(len(indexes))]
        cut = round(len(order) * train_fraction)
        if len(order) >= 2:
            cut = min(max(cut, 1), len(order) - 1)
        train.extend(order[:cut])
        test.extend(order[cut:])
    return sorted(train), sorted(test)
