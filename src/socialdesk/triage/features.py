"""Features shared by every linear model: hashed word and character n-grams plus lexicon scores.

Hashing needs no vocabulary, so one featurisation of a batch serves every task's model and
a model is plain arrays (no pickles). Pure functions.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from socialdesk.triage.text import Prepared

HASHED_FEATURES = 2**18
DENSE_NAMES = (
    "vader_compound",
    "vader_pos",
    "vader_neg",
    "care_compound",
    "question_mark",
    "exclamations",
    "urls",
    "mentions",
    "emoji",
    "no_words",
    "churn_threat",
    "legal_threat",
    "safety",
    "outage",
    "repeat_contact",
    "abuse",
    "shouting",
    "vulnerable_customer",
)
DENSE_FEATURES = len(DENSE_NAMES)

CHAR_NGRAMS = (2, 3, 4)
_TOKEN = re.compile(r"\b\w+\b|\?")


@lru_cache(maxsize=200_000)
def _word_char_ngrams(word: str) -> tuple[str, ...]:
    # Posts repeat their words a lot, so n-grams are made once per distinct word.
    padded = f" {word} "
    return tuple(padded[i : i + n] for n in CHAR_NGRAMS for i in range(max(1, len(padded) - n + 1)))


def _analyzer(text: str) -> list[str]:
    """Words, word pairs (marked apart from character n-grams) and character n-grams inside
    word boundaries (like scikit-learn's char_wb), all hashed in one pass."""
    lowered = text.lower()
    tokens = _TOKEN.findall(lowered)
    grams = ["\x01" + t for t in tokens]
    grams.extend(f"\x01{a} {b}" for a, b in itertools.pairwise(tokens))
    for word in lowered.split():
        grams.extend(_word_char_ngrams(word))
    return grams


_HASHER = HashingVectorizer(
    n_features=HASHED_FEATURES,
    alternate_sign=False,
    norm=None,
    analyzer=_analyzer,
    dtype=np.float32,
)


@dataclass(frozen=True)
class FeatureBatch:
    """Sub-linear term counts of a batch (n x HASHED_FEATURES) and its dense lexicon scores."""

    hashed: sp.csr_matrix
    dense: np.ndarray

    def __len__(self) -> int:
        return int(self.hashed.shape[0])


def featurize(
    prepared: Sequence[Prepared],
    dense_rows: Sequence[Sequence[float]],
) -> FeatureBatch:
    hashed = sp.csr_matrix(_HASHER.transform([p.body for p in prepared]), dtype=np.float32)
    np.log1p(hashed.data, out=hashed.data)
    dense = np.asarray(dense_rows, dtype=np.float32).reshape(len(prepared), DENSE_FEATURES)
    return FeatureBatch(hashed=hashed, dense=dense)


def document_frequency(batch: FeatureBatch) -> np.ndarray:
    return np.bincount(batch.hashed.indices, minlength=HASHED_FEATURES).astype(np.float64)


def idf_from(batch: FeatureBatch) -> np.ndarray:
    n = len(batch)
    df = document_frequency(batch)
    return (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)


def weighted(batch: FeatureBatch, idf: np.ndarray) -> sp.csr_matrix:
    """The model's view: idf-weighted, l2-normalised n-grams, then the dense scores."""
    hashed = batch.hashed.copy()
    hashed.data *= idf[hashed.indices]
    norms = np.sqrt(np.asarray(hashed.multiply(hashed).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    hashed = sp.csr_matrix(sp.diags(1.0 / norms.astype(np.float32)) @ hashed)
    return sp.hstack([hashed, sp.csr_matrix(batch.dense)], format="csr")
