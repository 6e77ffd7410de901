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
# With as many examples (and each label at least VALIDATION_MIN_LABEL times), a stratified
# part of the training rows is held out to choose the ensemble's pool weights: the members
# learn from the rest first, then from every row with the weights chosen.
VALIDATION_FRACTION = 0.15
VALIDATION_MIN_EXAMPLES = 200
VALIDATION_MIN_LABEL = 10
VALIDATION_SEED = 29


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
    weights = np.array([e.weight for e in examples], dtype=np.float64)
    inner = inner_validation_split(labels)
    vectors = None
    top = None
    # The embeddings the pool weights are chosen with: a fine-tuned model's own are no
    # stand-in there, since its layers learnt the rows that choose (see choose_pool_weights).
    choosing_vectors = None
    if embeddings:
        bodies = [p.body for p in analysed.prepared]
        if fine_tune:
            # The layers learn from every row: holding some out for the weights cost more
            # (0.845 against 0.857 on airline sentiment) than the weights won.
            top = fine_tuning.fine_tune(
                bodies,
                labels,
                weights=[e.weight for e in examples],
                balanced=balanced,
                progress=progress,
            )
            # The linear model learns from what inference will give: the cached int8 export.
            choosing_vectors, (vectors,) = embedding.encode_tuned(bodies, [top])
        else:
            vectors = choosing_vectors = embedding.encode(bodies)
    nb_scores = nbsvm_cross_validated_scores(analysed.features, labels, weights, balanced=balanced)
    nb_c = ensemble.NB_DEFAULT_C
    if nb_scores:
        nb_c = max(nb_scores, key=lambda candidate: (nb_scores[candidate], -candidate))
    fit = _Fitting(task, analysed.features, labels, weights, inner, c, nb_c, nb_scores, balanced)
    model = fit.model(vectors, choosing_vectors, fine_tuned=top is not None)
    if vectors is not None:
        # The fast companion (cascade.py): the same task without the embeddings, for the
        # texts the fast tier is sure of. Seconds beside the encoding above.
        model.fast = fit.model(None, None, fine_tuned=False)
        model.meta["fast_companion"] = {
            k: model.fast.meta[k] for k in ("c", "ensemble_weights") if k in model.fast.meta
        }
    if top is not None:
        model.encoder_top = top
        model.meta["fine_tuned_layers"] = top.layers
        model.meta["fine_tuned_examples"] = len(examples)
    return model


@dataclass(frozen=True)
class _Fitting:
    """What training a task's model from some features takes, for the embedding model and
    its fast companion alike: the labelled rows, the validation split and NB-SVM's strength
    (chosen on the n-grams alone, so the same for both)."""

    task: str
    features: FeatureBatch
    labels: list[str]
    weights: np.ndarray
    inner: tuple[list[int], list[int]] | None
    default_c: float
    nb_c: float
    nb_scores: dict[float, float]
    balanced: bool

    def model(
        self,
        vectors: np.ndarray | None,
        choosing_vectors: np.ndarray | None,
        *,
        fine_tuned: bool,
    ) -> LinearModel:
        """The ensemble over these features (and the embeddings, where given): the SVM's
        strength chosen by cross-validation, the pool weights on the validation rows (with
        ``choosing_vectors``, see choose_pool_weights)."""
        features, labels, weights = self.features, self.labels, self.weights
        c = self.default_c
        scores = cross_validated_scores(
            self.task, features, labels, weights, vectors, balanced=self.balanced
        )
        if scores:
            c = max(scores, key=lambda candidate: (scores[candidate], -candidate))
        pool: tuple[dict[str, float], dict[str, float]] | None = None
        if self.inner is not None:
            pool = choose_pool_weights(
                self.task,
                features,
                labels,
                weights,
                choosing_vectors,
                self.inner,
                c=c,
                nb_c=self.nb_c,
                balanced=self.balanced,
            )
            if fine_tuned:
                pool = (stand_in_for_tuned(pool[0]), {**pool[1], "tuned_member_stand_in": True})
        model = fit_linear(
            self.task,
            features,
            labels,
            c=c,
            balanced=self.balanced,
            sample_weight=weights,
            embeddings=vectors,
        )
        add_members(
            model,
            features,
            labels,
            weights,
            vectors,
            nb_c=self.nb_c,
            balanced=self.balanced,
            fine_tuned=fine_tuned,
        )
        model.meta["nb_c"] = self.nb_c
        if self.nb_scores:
            model.meta["nb_cv_scores"] = {str(k): round(v, 4) for k, v in self.nb_scores.items()}
        if pool is not None:
            model.meta["ensemble_weights"] = pool[0]
            model.meta["validation"] = {**pool[1], "rows": len(self.inner[1]) if self.inner else 0}
        model.meta["examples"] = len(labels)
        model.meta["c"] = c
        if scores:
            model.meta["cv_scores"] = {str(k): round(v, 4) for k, v in scores.items()}
        return model


def inner_validation_split(labels: Sequence[str]) -> tuple[list[int], list[int]] | None:
    """Training rows and validation rows for choosing the pool weights (stratified, fixed
    seed), or None when the examples are too few or a label too rare to spare any."""
    counts = Counter(labels)
    if (
        len(labels) < VALIDATION_MIN_EXAMPLES
        or len(counts) < 2
        or min(counts.values()) < VALIDATION_MIN_LABEL
    ):
        return None
    return stratified_split(labels, 1.0 - VALIDATION_FRACTION, VALIDATION_SEED)


def choose_pool_weights(
    task: str,
    batch: FeatureBatch,
    labels: Sequence[str],
    weights: np.ndarray,
    embeddings: np.ndarray | None,
    inner: tuple[list[int], list[int]],
    *,
    c: float,
    nb_c: float,
    balanced: bool,
) -> tuple[dict[str, float], dict[str, float]]:
    """The members trained on the inner training rows, each scored on the validation rows,
    and the pool weights that do best there (lowest log-loss, see ensemble.choose_weights);
    with the figures of the chosen and of equal weights. ``embeddings`` must be ones that
    learnt nothing from the validation rows: a fine-tuned model passes the packaged
    encoder's, whose member stands in for the tuned one (``stand_in_for_tuned``)."""
    fit_rows, held_rows = (np.asarray(rows) for rows in inner)
    gold = np.asarray(labels)
    part, held, part_vectors, held_vectors = _split_rows(batch, embeddings, fit_rows, held_rows)
    said, w = list(gold[fit_rows]), weights[fit_rows]
    model = fit_linear(
        task, part, said, c=c, balanced=balanced, sample_weight=w, embeddings=part_vectors
    )
    add_members(model, part, said, w, part_vectors, nb_c=nb_c, balanced=balanced)
    members = model.member_log_probabilities(held, held_vectors)
    targets = [model.classes.index(label) for label in gold[held_rows]]
    return ensemble.choose_weights(members, targets, macro=balanced)


def stand_in_for_tuned(weights: dict[str, float]) -> dict[str, float]:
    """A fine-tuned model's pool weights: those chosen with the packaged encoder's embeddings,
    the embedding member's share going to the tuned one. The tuned layers learnt every
    training row, so on the validation rows their member would look better than on a new
    post and win too large a share; the packaged encoder learnt none of them. The stand-in
    is the weaker member, so the tuned one's share errs on the small side."""
    return {
        ("fine_tuned_lr" if name == "embedding_lr" else name): share
        for name, share in weights.items()
    }


def add_members(
    model: LinearModel,
    batch: FeatureBatch,
    labels: Sequence[str],
    weights: np.ndarray,
    embeddings: np.ndarray | None,
    *,
    nb_c: float,
    balanced: bool,
    fine_tuned: bool = False,
) -> None:
    """Give a trained SVM its ensemble's other members (ensemble.py): NB-SVM, and logistic
    regression on the embeddings where there are embeddings ("fine_tuned_lr" when they are
    the fine-tuned encoder's)."""
    coef, intercept = ensemble.fit_nbsvm(
        batch, labels, model.classes, c=nb_c, balanced=balanced, sample_weight=weights
    )
    model.members["nbsvm"] = _member(coef, intercept)
    if embeddings is not None:
        coef, intercept = ensemble.fit_embedding_lr(
            embeddings, labels, model.classes, balanced=balanced, sample_weight=weights
        )
        model.members["fine_tuned_lr" if fine_tuned else "embedding_lr"] = _member(coef, intercept)
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
        part, held, part_vectors, held_vectors = _split_rows(
            batch, embeddings, train_rows, test_rows
        )
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


def _split_rows(
    batch: FeatureBatch, embeddings: np.ndarray | None, train: np.ndarray, test: np.ndarray
) -> tuple[FeatureBatch, FeatureBatch, np.ndarray | None, np.ndarray | None]:
    """The features and embeddings of a training part and a test part of the rows."""
    return (
        FeatureBatch(batch.hashed[train], batch.dense[train]),
        FeatureBatch(batch.hashed[test], batch.dense[test]),
        embeddings[train] if embeddings is not None else None,
        embeddings[test] if embeddings is not None else None,
    )


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
