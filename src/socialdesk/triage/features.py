"""Features shared by every linear model: hashed word and character n-grams plus lexicon scores.

Hashing needs no vocabulary, so one featurisation of a batch serves every task's model and
a model is plain arrays (no pickles). Pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from socialdesk.triage.text import Prepared

WORD_FEATURES = 2**17
CHAR_FEATURES = 2**17
HASHED_FEATURES = WORD_FEATURES + CHAR_FEATURES
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

_WORDS = HashingVectorizer(
    n_features=WORD_FEATURES,
    alternate_sign=False,
    norm=None,
    ngram_range=(1, 2),
    token_pattern=r"(?u)\b\w+\b|[?!]",
    lowercase=True,
    dtype=np.float32,
)
CHAR_NGRAMS = (2, 3, 4)


@lru_cache(maxsize=200_000)
def _word_char_ngrams(word: str) -> tuple[str, ...]:
    # Posts repeat their words a lot, so n-grams are made once per distinct word.
    padded = f" {word} "
    return tuple(padded[i : i + n] for n in CHAR_NGRAMS for i in range(max(1, len(padded) - n + 1)))


def _char_analyzer(text: str) -> list[str]:
    """Character n-grams inside word boundaries (like scikit-learn's char_wb), cached."""
    grams: list[str] = []
    for word in text.lower().split():
        grams.extend(_word_char_ngrams(word))
    return grams


_CHARS = HashingVectorizer(
    n_features=CHAR_FEATURES,
    alternate_sign=False,
    norm=None,
    analyzer=_char_analyzer,
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
    texts = [p.body for p in prepared]
    words = _WORDS.transform(texts)
    chars = _CHARS.transform(texts)
    hashed = sp.hstack([words, chars], format="csr", dtype=np.float32)
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
