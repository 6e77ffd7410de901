"""Training a task's linear model from labeled texts. Pure: texts and labels in, model out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from socialdesk.core.errors import InvalidInput
from socialdesk.triage import embedding, ensemble, fine_tuning
from socialdesk.triage.classifier import analyse
from socialdesk.triage.features import FeatureBatch
from socialdesk.triage.fine_tuning import ProgressCallback
from socialdesk.triage.linear import LinearModel, fit_linear
from socialdesk.triage.metrics import classification_report

# Per task: the regularisation strength used when there are too few examples to choose one,
# and whether rare classes are weighted up; those tasks are judged by macro-F1 (rare classes
# matter), sentiment by accuracy.
TASK_SETTINGS: dict[str, tuple[float, bool]] = {
    "kind": (0.1, True),
    "needs_response": (0.1, True),
    "sentiment": (0.1, False),
    "topic": (0.1, True),
    "severity": (0.1, True),
}
MIN_EXAMPLES = 4
# With enough examples the strength is chosen from these by cross-validation on the
# training examples alone (stratified folds); the model file records the choice and why.
C_CANDIDATES = (0.05, 0.1, 0.2, 0.4)
CV_FOLDS = 3
CV_MIN_EXAMPLES = 200


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    weight: float = 1.0


def train_linear(
    task: str,
    examples: Sequence[Example],
    *,
    embeddings: bool = False,
    fine_tune: bool = False,
    progress: ProgressCallback | None = None,
) -> LinearModel:
    """A task's model from labeled examples; with ``embeddings`` it also reads MiniLM sentence
    embeddings, and with ``fine_tune`` the encoder's top layers first learn the task (minutes
    on a CPU; ``progress`` hears of each step)."""
    if len(examples) < MIN_EXAMPLES:
        raise InvalidInput(
            f"training {task} needs at least {MIN_EXAMPLES} examples, got {len(examples)}"
        )
    if fine_tune and not embeddings:
        raise InvalidInput("fine-tuning is for the embedding tier: use --tier embedding")
    c, balanced = TASK_SETTINGS.get(task, (0.1, False))
    analysed = analyse([e.text for e in examples])
    labels = [e.label for e in examples]
    vectors = None
    top = None
    if embeddings:
        bodies = [p.body for p in analysed.prepared]
        if fine_tune:
            top = fine_tuning.fine_tune(
                bodies,
                labels,
                weights=[e.weight for e in examples],
                balanced=balanced,
                progress=progress,
            )
            # The linear model learns from what inference will give: the cached int8 export.
            vectors = embedding.encode_tuned(bodies, [top])[1][0]
        else:
            vectors = embedding.encode(bodies)
    weights = np.array([e.weight for e in examples], dtype=np.float64)
    scores = cross_validated_scores(
        task, analysed.features, labels, weights, vectors, balanced=balanced
    )
    if scores:
        c = max(scores, key=lambda candidate: (scores[candidate], -candidate))
    nb_scores = nbsvm_cross_validated_scores(analysed.features, labels, weights, balanced=balanced)
    nb_c = ensemble.NB_DEFAULT_C
    if nb_scores:
        nb_c = max(nb_scores, key=lambda candidate: (nb_scores[candidate], -candidate))
    model = fit_linear(
        task,
        analysed.features,
        labels,
        c=c,
        balanced=balanced,
        sample_weight=weights,
        embeddings=vectors,
    )
    add_members(model, analysed.features, labels, weights, vectors, nb_c=nb_c, balanced=balanced)
    model.meta["nb_c"] = nb_c
    if nb_scores:
        model.meta["nb_cv_scores"] = {str(k): round(v, 4) for k, v in nb_scores.items()}
    if top is not None:
        model.encoder_top = top
        model.meta["fine_tuned_layers"] = top.layers
    model.meta["examples"] = len(examples)
    model.meta["c"] = c
    if scores:
        model.meta["cv_scores"] = {str(k): round(v, 4) for k, v in scores.items()}
    return model


def add_members(
    model: LinearModel,
    batch: FeatureBatch,
    labels: Sequence[str],
    weights: np.ndarray,
    embeddings: np.ndarray | None,
    *,
    nb_c: float,
    balanced: bool,
) -> None:
    """Give a trained SVM its ensemble's other members (ensemble.py): NB-SVM, and logistic
    regression on the embeddings where there are embeddings."""
    coef, intercept = ensemble.fit_nbsvm(
        batch, labels, model.classes, c=nb_c, balanced=balanced, sample_weight=weights
    )
    model.members["nbsvm"] = _member(coef, intercept)
    if embeddings is not None:
        coef, intercept = ensemble.fit_embedding_lr(
            embeddings, labels, model.classes, balanced=balanced, sample_weight=weights
        )
        model.members["embedding_lr"] = _member(coef, intercept)
    model.meta["ensemble"] = ["svm", *model.members]


def _member(coef: np.ndarray, intercept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weights as the model holds them: features x classes, contiguous, float32."""
    return np.ascontiguousarray(coef.T, dtype=np.float32), intercept.astype(np.float32)


def nbsvm_cross_validated_scores(
    batch: FeatureBatch,
    labels: Sequence[str],
    weights: np.ndarray,
    *,
    balanced: bool,
) -> dict[float, float]:
    """NB-SVM's score for each candidate strength over the same stratified folds of the
    training rows as the SVM's (macro-F1 where rare classes are weighted up, else accuracy);
    {} when the examples are too few to fold."""
    counts = Counter(labels)
    if len(labels) < CV_MIN_EXAMPLES or len(counts) < 2 or min(counts.values()) < CV_FOLDS:
        return {}
    from sklearn.model_selection import StratifiedKFold

    gold = np.array(labels)
    classes = tuple(sorted(counts))
    folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=0).split(gold, gold)
    totals = dict.fromkeys(ensemble.NB_C_CANDIDATES, 0.0)
    for train_rows, test_rows in folds:
        part = FeatureBatch(batch.hashed[train_rows], batch.dense[train_rows])
        held = ensemble.nb_design(FeatureBatch(batch.hashed[test_rows], batch.dense[test_rows]))
        for c in ensemble.NB_C_CANDIDATES:
            coef, intercept = ensemble.fit_nbsvm(
                part,
                list(gold[train_rows]),
                classes,
                c=c,
                balanced=balanced,
                sample_weight=weights[train_rows],
            )
            predicted = np.array(classes)[np.asarray(held @ coef.T + intercept).argmax(axis=1)]
            report = classification_report(list(gold[test_rows]), list(predicted))
            totals[c] += float(report["macro_f1"] if balanced else report["accuracy"])
    return {c: total / CV_FOLDS for c, total in totals.items()}


def cross_validated_scores(
    task: str,
    batch: FeatureBatch,
    labels: Sequence[str],
    weights: np.ndarray,
    embeddings: np.ndarray | None,
    *,
    balanced: bool,
) -> dict[float, float]:
    """Each candidate strength's mean score over stratified folds of the training examples
    (macro-F1 where rare classes are weighted up, else accuracy); {} when the examples are
    too few or a label too rare to fold."""
    counts = Counter(labels)
    if len(labels) < CV_MIN_EXAMPLES or len(counts) < 2 or min(counts.values()) < CV_FOLDS:
        return {}
    from sklearn.model_selection import StratifiedKFold  # training alone needs scikit-learn

    gold = np.array(labels)
    folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=0).split(gold, gold)
    totals = dict.fromkeys(C_CANDIDATES, 0.0)
    for train_rows, test_rows in folds:
        part = FeatureBatch(batch.hashed[train_rows], batch.dense[train_rows])
        held = FeatureBatch(batch.hashed[test_rows], batch.dense[test_rows])
        part_vectors = embeddings[train_rows] if embeddings is not None else None
        held_vectors = embeddings[test_rows] if embeddings is not None else None
        for c in C_CANDIDATES:
            model = fit_linear(
                task,
                part,
                list(gold[train_rows]),
                c=c,
                balanced=balanced,
                sample_weight=weights[train_rows],
                embeddings=part_vectors,
            )
            predicted = np.array(model.classes)[model.scores(held, held_vectors).argmax(axis=1)]
            report = classification_report(list(gold[test_rows]), list(predicted))
            totals[c] += float(report["macro_f1"] if balanced else report["accuracy"])
    return {c: total / CV_FOLDS for c, total in totals.items()}


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


def stratified_folds(labels: Sequence[str], folds: int, seed: int = 13) -> list[list[int]]:
    """``folds`` disjoint parts covering every index, each label dealt round them in turn
    from a shuffled order, so every part holds each label in about the same proportion."""
    if folds < 2 or folds > len(labels):
        raise InvalidInput(f"--folds must be between 2 and the number of rows ({len(labels)})")
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    parts: list[list[int]] = [[] for _ in range(folds)]
    dealt = 0
    for label in sorted(by_label):
        indexes = by_label[label]
        for j in rng.permutation(len(indexes)):
            parts[dealt % folds].append(indexes[j])
            dealt += 1
    return [sorted(part) for part in parts]
