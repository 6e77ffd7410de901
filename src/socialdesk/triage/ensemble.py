"""The extra members of a trained model's ensemble: NB-SVM over the n-grams and, on the
embedding tier, logistic regression over the sentence embeddings.

A workspace's trained model answers with the geometric mean of its members' probabilities
(the mean of their log-probabilities, then renormalised; a product of experts, Hinton 2002):
the linear SVM over idf-weighted n-grams (``linear.fit_linear``), plus

* **NB-SVM** (Wang and Manning, 2012, "Baselines and bigrams"): each n-gram's presence
  (0/1, not its count) is scaled by its naive-Bayes log-count ratio between a class and the
  rest, and a logistic regression learns from the scaled features and the lexicon scores.
  Naive Bayes weighs rare but telling n-grams ("#fail", "smh") more than an SVM alone, which
  is why the two disagree usefully on short posts. The ratio is folded into the weights, so
  at triage time it is one more sparse product over the n-grams already hashed.
* **Embedding logistic regression** (embedding tier): a multinomial logistic regression on
  the MiniLM embeddings alone, which the joint SVM underweighs beside 2^18 n-gram columns.
  For a fine-tuned model it reads the tuned encoder's embeddings and is named
  ``fine_tuned_lr``: the fine-tuned encoder's own vote in the pool.

Members are trained on the same examples and weights. With enough training rows, each
member's weight in the pool is chosen on an inner validation split of the training rows
(``choose_weights``: a weighted logarithmic opinion pool, Genest and Zidek 1986, weights
fitted on held-out data as Heskes 1998 proposed); otherwise the weights are equal. Pure:
arrays in, arrays out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from socialdesk.triage.features import HASHED_FEATURES, FeatureBatch

# Laplace smoothing of the n-gram counts in the log-count ratio (Wang and Manning's alpha).
NB_ALPHA = 1.0
# The logistic regressions' regularisation: NB-SVM's is chosen among these by the same
# cross-validation on the training rows as the SVM's; the embeddings' is scikit-learn's
# default, not tuned.
NB_C_CANDIDATES = (0.1, 0.3)
NB_DEFAULT_C = 0.1
EMBEDDING_C = 1.0
# Members that read the sentence embeddings (the packaged encoder's, or a fine-tuned one's).
EMBEDDING_MEMBERS = ("embedding_lr", "fine_tuned_lr")
# Pool weights are searched on a grid over the simplex, in steps of 1 / WEIGHT_STEPS.
WEIGHT_STEPS = 10


def presence(hashed: sp.csr_matrix) -> sp.csr_matrix:
    """1 where a text has the n-gram, whatever its count."""
    ones = np.ones(len(hashed.data), dtype=np.float32)
    return sp.csr_matrix((ones, hashed.indices, hashed.indptr), shape=hashed.shape)


def nb_design(batch: FeatureBatch) -> sp.csr_matrix:
    return sp.hstack([presence(batch.hashed), sp.csr_matrix(batch.dense)], format="csr")


def fit_nbsvm(
    batch: FeatureBatch,
    labels: Sequence[str],
    classes: tuple[str, ...],
    *,
    c: float,
    balanced: bool,
    sample_weight: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """NB-SVM weights (classes x (n-grams + dense scores)) and intercepts, one-vs-rest; the
    log-count ratios are folded into the n-gram weights."""
    from sklearn.linear_model import LogisticRegression  # training alone needs scikit-learn

    design = nb_design(batch)
    present = design[:, :HASHED_FEATURES]
    gold = np.asarray(labels)
    weights = sample_weight if sample_weight is not None else np.ones(len(gold))
    coef = np.zeros((len(classes), design.shape[1]), dtype=np.float64)
    intercept = np.zeros(len(classes), dtype=np.float64)
    # Two classes are one problem: the second row is the first's mirror.
    for row, name in enumerate(classes[:1] if len(classes) == 2 else classes):
        y = gold == name
        p = NB_ALPHA + np.asarray(present.T @ (weights * y)).ravel()
        q = NB_ALPHA + np.asarray(present.T @ (weights * ~y)).ravel()
        ratio = np.log((p / p.sum()) / (q / q.sum()))
        scale = np.concatenate([ratio, np.ones(design.shape[1] - HASHED_FEATURES)])
        estimator = LogisticRegression(
            C=c, solver="liblinear", class_weight="balanced" if balanced else None
        )
        estimator.fit(design @ sp.diags(scale.astype(np.float32)), y, sample_weight=weights)
        coef[row] = estimator.coef_[0] * scale
        intercept[row] = estimator.intercept_[0]
    if len(classes) == 2:
        coef = np.vstack([coef[0] / 2, -coef[0] / 2])
        intercept = np.array([intercept[0] / 2, -intercept[0] / 2])
    return coef, intercept


def fit_embedding_lr(
    embeddings: np.ndarray,
    labels: Sequence[str],
    classes: tuple[str, ...],
    *,
    balanced: bool,
    sample_weight: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression on the embeddings: weights (classes x dim), intercepts."""
    from sklearn.linear_model import LogisticRegression

    estimator = LogisticRegression(
        C=EMBEDDING_C, max_iter=2000, class_weight="balanced" if balanced else None
    )
    estimator.fit(embeddings.astype(np.float32), list(labels), sample_weight=sample_weight)
    order = [list(estimator.classes_).index(name) for name in classes]
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    intercept = np.asarray(estimator.intercept_, dtype=np.float64)
    if len(classes) == 2:  # scikit-learn gives one row for the second class
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return coef[order], intercept[order]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    out: np.ndarray = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return out


def pool(log_probabilities: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """The weighted mean of the members' log-probabilities (a member without a weight counts
    1; weights of the members present are renormalised, so a member left out, such as one
    that needs the embeddings on the fast tier, leaves the others' shares as they were)."""
    shares = {name: weights.get(name, 1.0) if weights else 1.0 for name in log_probabilities}
    total = sum(shares.values())
    if total <= 0:  # every present member weighted 0: fall back to equal shares
        shares = dict.fromkeys(log_probabilities, 1.0)
        total = float(len(shares))
    out = sum(share * log_probabilities[name] for name, share in shares.items())
    return np.asarray(out) / total


def weight_grid(names: Sequence[str], steps: int = WEIGHT_STEPS) -> list[dict[str, float]]:
    """Every weighting of ``names`` in multiples of 1 / steps summing to 1."""

    def parts(left: int, count: int) -> list[list[int]]:
        if count == 1:
            return [[left]]
        return [[k, *rest] for k in range(left + 1) for rest in parts(left - k, count - 1)]

    return [
        {name: k / steps for name, k in zip(names, split, strict=True)}
        for split in parts(steps, len(names))
    ]


def choose_weights(
    log_probabilities: dict[str, np.ndarray],
    gold: Sequence[int],
    *,
    macro: bool,
) -> tuple[dict[str, float], dict[str, float]]:
    """The pool weights with the lowest log-loss on held-out rows (Heskes's criterion: a
    proper score, steadier on a few hundred rows than the count of right answers), ties
    broken by the better macro-F1 (``macro``) or accuracy and then by the weights nearest
    equal. Returns the weights and their figures beside those of equal weights."""
    names = list(log_probabilities)
    target = np.asarray(gold)
    rows = np.arange(len(target))
    classes = next(iter(log_probabilities.values())).shape[1]

    def measure(weights: dict[str, float]) -> tuple[float, float]:
        pooled = log_softmax(pool(log_probabilities, weights))
        predicted = pooled.argmax(axis=1)
        if macro:
            f1 = []
            for c in range(classes):
                tp = float(np.sum((predicted == c) & (target == c)))
                fp = float(np.sum((predicted == c) & (target != c)))
                fn = float(np.sum((predicted != c) & (target == c)))
                f1.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
            score = float(np.mean(f1))
        else:
            score = float(np.mean(predicted == target))
        return score, float(-pooled[rows, target].mean())

    equal = dict.fromkeys(names, 1 / len(names))
    best, best_key = equal, (-np.inf, -1.0, 0.0)
    for weights in weight_grid(names):
        score, loss = measure(weights)
        spread = sum(abs(w - 1 / len(names)) for w in weights.values())
        key = (-round(loss, 6), round(score, 6), -spread)
        if key > best_key:
            best, best_key = weights, key
    chosen_score, chosen_loss = measure(best)
    equal_score, equal_loss = measure(equal)
    figures = {
        "score": round(chosen_score, 4),
        "log_loss": round(chosen_loss, 4),
        "equal_weights_score": round(equal_score, 4),
        "equal_weights_log_loss": round(equal_loss, 4),
    }
    return best, figures
