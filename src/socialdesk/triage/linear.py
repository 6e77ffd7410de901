"""A linear classifier over the shared features, stored as plain arrays (never a pickle)."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar

from socialdesk.core.errors import InvalidInput
from socialdesk.triage import ensemble
from socialdesk.triage.embedding import TunedTop
from socialdesk.triage.ensemble import log_softmax
from socialdesk.triage.features import (
    DENSE_FEATURES,
    HASHED_FEATURES,
    FeatureBatch,
    idf_from,
    weighted,
)

# Stored arrays named so are the weights of the encoder's fine-tuned top layers.
TOP_PREFIX = "top."
# Stored arrays named so are an ensemble member's weights and intercepts (ensemble.py).
MEMBER_PREFIX = "member."
# The stored array of that name is an embedding model's fast companion, itself a stored model.
FAST_COMPANION = "fast_companion"


@dataclass
class LinearModel:
    task: str
    classes: tuple[str, ...]
    coef: np.ndarray  # classes x features
    intercept: np.ndarray
    idf: np.ndarray
    meta: dict[str, object] = field(default_factory=dict)
    # The encoder's fine-tuned top layers: the model reads the embeddings they give, not the
    # packaged model's (``meta["fine_tuned_layers"]`` says how many).
    encoder_top: TunedTop | None = None
    # Further members of the ensemble by name: "nbsvm" (over the n-grams' presence and the
    # dense scores), and "embedding_lr" (over the packaged encoder's embeddings) or, for a
    # fine-tuned model, "fine_tuned_lr" (over the tuned encoder's), each (weights, intercepts).
    members: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    # An embedding model's fast companion: the same task learned from the same examples
    # without the embeddings, which answers the texts it is sure of (cascade.py).
    fast: LinearModel | None = None
    _split: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def uses_embeddings(self) -> bool:
        return bool(self.meta.get("embedding_dim"))

    def scores(self, batch: FeatureBatch, embeddings: np.ndarray | None = None) -> np.ndarray:
        """Class probabilities, one row per text: the SVM's alone, or the weighted mean of
        every member's log-probabilities, renormalised (ensemble.py)."""
        logits = self._svm_logits(batch, embeddings)
        if self.members:
            logits = ensemble.pool(
                self.member_log_probabilities(batch, embeddings, logits), self.pool_weights
            )
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        probabilities: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
        return probabilities

    @property
    def pool_weights(self) -> dict[str, float]:
        """Each member's weight in the pool (``meta["ensemble_weights"]``, chosen on an inner
        validation split of the training rows); equal weights for a model without them."""
        chosen = self.meta.get("ensemble_weights")
        if isinstance(chosen, dict):
            return {str(k): float(v) for k, v in chosen.items()}
        return {}

    def _svm_logits(self, batch: FeatureBatch, embeddings: np.ndarray | None) -> np.ndarray:
        """The SVM's calibrated margins. The same as the model's view of the batch
        (``design_matrix``) times its weights, but the idf weighting and the length
        normalisation are applied to the n-grams' products rather than to a copy of the batch.
        """
        if self.uses_embeddings and embeddings is None:
            raise InvalidInput(f"the {self.task} model needs the embedding tier (socialdesk[ml])")
        hashed_coef, dense_coef, embedding_coef = self._parts()
        hashed = batch.hashed
        values = hashed.data * self.idf[hashed.indices]
        rows = np.repeat(np.arange(hashed.shape[0]), np.diff(hashed.indptr))
        norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=hashed.shape[0]))
        norms[norms == 0] = 1.0
        products = sp.csr_matrix((values, hashed.indices, hashed.indptr), shape=hashed.shape)
        logits: np.ndarray = np.asarray(products @ hashed_coef) / norms[:, None]
        logits += batch.dense @ dense_coef + self.intercept
        if embedding_coef is not None and embeddings is not None:
            logits += embeddings.astype(np.float32) @ embedding_coef
        return logits

    def member_log_probabilities(
        self,
        batch: FeatureBatch,
        embeddings: np.ndarray | None = None,
        svm_logits: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """Each member's log-probabilities by name, the SVM's first. A member that reads the
        embeddings is left out when there are none."""
        if svm_logits is None:
            svm_logits = self._svm_logits(batch, embeddings)
        out = {"svm": log_softmax(svm_logits)}
        for name, (coef, intercept) in self.members.items():
            if name == "nbsvm":
                # Presence of each n-gram (0/1), so the sum of its columns' weights per row.
                hashed = batch.hashed
                present = sp.csr_matrix(
                    (np.ones(len(hashed.indices), dtype=np.float32), hashed.indices, hashed.indptr),
                    shape=hashed.shape,
                )
                member = (
                    np.asarray(present @ coef[:HASHED_FEATURES])
                    + batch.dense @ coef[HASHED_FEATURES:]
                )
                out[name] = log_softmax(member + intercept)
            elif name in ensemble.EMBEDDING_MEMBERS and embeddings is not None:
                out[name] = log_softmax(embeddings.astype(np.float32) @ coef + intercept)
        return out

    def _parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The weights of the n-grams, the dense scores and the embeddings, each features x
        classes and contiguous (made once)."""
        if self._split is None:
            ends = (HASHED_FEATURES, HASHED_FEATURES + DENSE_FEATURES)
            hashed, dense, embedding = np.split(self.coef, ends, axis=1)
            self._split = (
                np.ascontiguousarray(hashed.T),
                np.ascontiguousarray(dense.T),
                np.ascontiguousarray(embedding.T) if self.uses_embeddings else None,
            )
        return self._split

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        top = self.encoder_top.weights if self.encoder_top is not None else {}
        arrays: dict[str, np.ndarray] = {TOP_PREFIX + name: a for name, a in top.items()}
        for name, (coef, intercept) in self.members.items():
            # Stored classes x features, as the SVM's; held features x classes in memory.
            arrays[f"{MEMBER_PREFIX}{name}.coef"] = coef.T.astype(np.float32)
            arrays[f"{MEMBER_PREFIX}{name}.intercept"] = intercept.astype(np.float32)
        if self.fast is not None:
            arrays[FAST_COMPANION] = np.frombuffer(self.fast.to_bytes(), dtype=np.uint8)
        arrays["coef"] = self.coef.astype(np.float32)
        arrays["intercept"] = self.intercept.astype(np.float32)
        arrays["idf"] = self.idf.astype(np.float32)
        header = {"task": self.task, "classes": list(self.classes), "meta": self.meta}
        arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        save: Any = np.savez_compressed  # its stub takes no names for the arrays
        save(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> LinearModel:
        with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
            header = json.loads(arrays["header"].tobytes().decode())
            meta = dict(header.get("meta") or {})
            top = {
                name[len(TOP_PREFIX) :]: arrays[name]
                for name in arrays.files
                if name.startswith(TOP_PREFIX)
            }
            members = {
                name[len(MEMBER_PREFIX) : -len(".coef")]: (
                    np.ascontiguousarray(arrays[name].T),
                    arrays[name[: -len(".coef")] + ".intercept"],
                )
                for name in arrays.files
                if name.startswith(MEMBER_PREFIX) and name.endswith(".coef")
            }
            return cls(
                task=str(header["task"]),
                classes=tuple(str(c) for c in header["classes"]),
                coef=arrays["coef"],
                intercept=arrays["intercept"],
                idf=arrays["idf"],
                meta=meta,
                encoder_top=TunedTop(top, int(str(meta.get("fine_tuned_layers", 0))))
                if top
                else None,
                members=members,
                fast=cls.from_bytes(arrays[FAST_COMPANION].tobytes())
                if FAST_COMPANION in arrays.files
                else None,
            )


def design_matrix(
    batch: FeatureBatch, idf: np.ndarray, embeddings: np.ndarray | None
) -> sp.csr_matrix:
    matrix = weighted(batch, idf)
    if embeddings is None:
        return matrix
    return sp.hstack([matrix, sp.csr_matrix(embeddings.astype(np.float32))], format="csr")


def fit_linear(
    task: str,
    batch: FeatureBatch,
    labels: Sequence[str],
    *,
    c: float = 0.1,
    balanced: bool = False,
    sample_weight: np.ndarray | None = None,
    embeddings: np.ndarray | None = None,
    calibration_folds: int = 0,
) -> LinearModel:
    """A linear SVM (fast to train on sparse n-grams), calibrated into probabilities.

    The SVM's margins become probabilities through a softmax with one temperature (Guo et
    al., 2017, temperature scaling). With ``calibration_folds`` of 2 or more the temperature
    is fitted on out-of-fold margins (each example scored by a model that did not see it),
    as Platt advised: margins on the training data itself are too wide on a small training
    set, and a model sure of everything leaves no room for an abstain band. Otherwise it is
    fitted on the training margins. Two classes are stored as a symmetric pair of rows.
    """
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise InvalidInput(f"training {task} needs at least two different labels, got {classes}")
    if len(labels) != len(batch):
        raise InvalidInput("one label per example is needed")
    # Imported here: scikit-learn is for training alone, and its import costs the processes
    # that only classify 60 MB.
    from sklearn.svm import LinearSVC

    idf = idf_from(batch)
    matrix = design_matrix(batch, idf, embeddings)
    estimator = LinearSVC(C=c, class_weight="balanced" if balanced else None)
    estimator.fit(matrix, list(labels), sample_weight=sample_weight)
    learned = tuple(str(c) for c in estimator.classes_)
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    intercept = np.asarray(estimator.intercept_, dtype=np.float64)
    if len(learned) == 2:
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    gold = [learned.index(label) for label in labels]
    if calibration_folds >= 2:
        margins = _out_of_fold_margins(
            matrix, list(labels), learned, c, balanced, sample_weight, calibration_folds
        )
    else:
        margins = np.asarray(matrix @ coef.T) + intercept
    temperature = _fit_temperature(margins, gold)
    meta: dict[str, object] = {"temperature": temperature}
    if embeddings is not None:
        meta["embedding_dim"] = int(embeddings.shape[1])
    return LinearModel(
        task=task,
        classes=learned,
        coef=(coef * temperature).astype(np.float32),
        intercept=(intercept * temperature).astype(np.float32),
        idf=idf,
        meta=meta,
    )


def _out_of_fold_margins(
    matrix: sp.csr_matrix,
    labels: list[str],
    learned: tuple[str, ...],
    c: float,
    balanced: bool,
    sample_weight: np.ndarray | None,
    folds: int,
) -> np.ndarray:
    """Each example's margins by an SVM trained on the other folds (every n-th example)."""
    from sklearn.svm import LinearSVC

    margins = np.zeros((len(labels), len(learned)))
    order = np.arange(len(labels))
    for fold in range(folds):
        held = order % folds == fold
        train = ~held
        estimator = LinearSVC(C=c, class_weight="balanced" if balanced else None)
        weights = sample_weight[train] if sample_weight is not None else None
        estimator.fit(matrix[train], [labels[i] for i in order[train]], sample_weight=weights)
        seen = [str(k) for k in estimator.classes_]
        scores = np.asarray(estimator.decision_function(matrix[held]))
        if len(seen) == 2:
            scores = np.column_stack([-scores / 2, scores / 2])
        # A class missing from the fold's training part gets a margin far below the others.
        fold_margins = np.full((int(held.sum()), len(learned)), -10.0)
        for column, name in enumerate(seen):
            fold_margins[:, learned.index(name)] = scores[:, column]
        margins[held] = fold_margins
    return margins


def _fit_temperature(margins: np.ndarray, gold: list[int]) -> float:
    rows = np.arange(len(gold))

    def loss(scale: float) -> float:
        logits = margins * scale
        logits = logits - logits.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(logits).sum(axis=1))
        return float(np.mean(log_norm - logits[rows, gold]))

    result = minimize_scalar(loss, bounds=(0.05, 50.0), method="bounded")
    return float(result.x)
