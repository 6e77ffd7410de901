"""A linear classifier over the shared features, stored as plain arrays (never a pickle)."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression

from socialdesk.core.errors import InvalidInput
from socialdesk.triage.features import FeatureBatch, idf_from, weighted


@dataclass
class LinearModel:
    task: str
    classes: tuple[str, ...]
    coef: np.ndarray  # classes x features
    intercept: np.ndarray
    idf: np.ndarray
    meta: dict[str, object] = field(default_factory=dict)

    def scores(self, batch: FeatureBatch) -> np.ndarray:
        matrix = weighted(batch, self.idf)
        logits = np.asarray(matrix @ self.coef.T) + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        probabilities: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
        return probabilities

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
            idf=self.idf.astype(np.float32),
            header=np.frombuffer(
                json.dumps(
                    {"task": self.task, "classes": list(self.classes), "meta": self.meta}
                ).encode(),
                dtype=np.uint8,
            ),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> LinearModel:
        with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
            header = json.loads(arrays["header"].tobytes().decode())
            return cls(
                task=str(header["task"]),
                classes=tuple(str(c) for c in header["classes"]),
                coef=arrays["coef"],
                intercept=arrays["intercept"],
                idf=arrays["idf"],
                meta=dict(header.get("meta") or {}),
            )


def fit_linear(
    task: str,
    batch: FeatureBatch,
    labels: Sequence[str],
    *,
    c: float = 4.0,
    balanced: bool = False,
    sample_weight: np.ndarray | None = None,
) -> LinearModel:
    """Multinomial logistic regression; two classes are stored as a symmetric pair of rows."""
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise InvalidInput(f"training {task} needs at least two different labels, got {classes}")
    if len(labels) != len(batch):
        raise InvalidInput("one label per example is needed")
    idf = idf_from(batch)
    estimator = LogisticRegression(
        C=c, max_iter=3000, class_weight="balanced" if balanced else None
    )
    estimator.fit(weighted(batch, idf), list(labels), sample_weight=sample_weight)
    learned = tuple(str(c) for c in estimator.classes_)
    coef = np.asarray(estimator.coef_, dtype=np.float32)
    intercept = np.asarray(estimator.intercept_, dtype=np.float32)
    if len(learned) == 2:
        # softmax over (-z/2, z/2) is the logistic sigmoid of z.
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
    return LinearModel(task=task, classes=learned, coef=coef, intercept=intercept, idf=idf)
