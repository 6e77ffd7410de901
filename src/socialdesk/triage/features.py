"""Features shared by every linear model: hashed word and character n-grams plus lexicon scores.

Hashing needs no vocabulary, so one featurisation of a batch serves every task's model and
a model is plain arrays (no pickles). Pure functions.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import mmh3
import numpy as np
import scipy.sparse as sp

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
# What each distinct whitespace-separated chunk and word pair hashes to is remembered, up to
# these many (some 1.3 KB and 0.1 KB each: 26 MB and 6 MB at the most); past it that memory
# starts again. Posts repeat their words, so most chunks are found there; pairs less often.
# Traffic brings new chunks for ever (handles, order numbers, links: some 130 per 1,000
# generated messages, and 300 new pairs), so these memories are always full or filling:
# the bounds are kept small enough to be reached within minutes of steady traffic (at
# 50,000 and 200,000, some 80 MB, a soak at 150 messages/s was still filling them after
# half an hour).
CACHE_LIMIT = 20_000
PAIR_CACHE_LIMIT = 60_000
_chunks: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {}
_pairs: dict[str, int] = {}


def cache_sizes() -> dict[str, int]:
    """Entries in the chunk and word-pair memories now (each at most its limit)."""
    return {"hashed_chunks": len(_chunks), "word_pairs": len(_pairs)}


def _index(gram: str) -> int:
    """The column scikit-learn's HashingVectorizer (alternate_sign=False) gives a gram: the
    signed 32-bit MurmurHash3 of its UTF-8 bytes, seed 0."""
    # mmh3 rather than scikit-learn's own, whose import alone costs the ingest path 60 MB
    # and half a second. Encoded here because mmh3 crashes the process on a str it cannot
    # encode (a lone surrogate), where this raises UnicodeEncodeError as scikit-learn does.
    h: int = mmh3.hash(gram.encode("utf-8"), 0)
    if h == -(2**31):
        return (2**31 - 1 - (HASHED_FEATURES - 1)) % HASHED_FEATURES
    return abs(h) % HASHED_FEATURES


def _chunk(chunk: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """A chunk's columns (its words, then its character n-grams) and its words."""
    if len(_chunks) >= CACHE_LIMIT:
        _chunks.clear()
    words = tuple(_TOKEN.findall(chunk))
    padded = f" {chunk} "
    columns = tuple(_index("\x01" + w) for w in words) + tuple(
        _index(padded[i : i + n]) for n in CHAR_NGRAMS for i in range(max(1, len(padded) - n + 1))
    )
    entry = _chunks[chunk] = (columns, words)
    return entry


def _pair(pair: str) -> int:
    if len(_pairs) >= PAIR_CACHE_LIMIT:
        _pairs.clear()
    index = _pairs[pair] = _index("\x01" + pair)
    return index


def hash_texts(texts: Sequence[str]) -> sp.csr_matrix:
    """Term counts of each text's grams over HASHED_FEATURES hashed columns: its words, word
    pairs (marked apart from character n-grams) and the character n-grams inside word
    boundaries (like scikit-learn's char_wb), all lower-cased.

    The same matrix as scikit-learn's HashingVectorizer gives over the same grams, but each
    distinct chunk of text between spaces is cut and hashed once, not once per post. (Words
    never cross a space, so a text's words are its chunks' words in order.)
    """
    columns: list[int] = []
    indptr = [0]
    chunks, pairs = _chunks, _pairs
    for text in texts:
        words: list[str] = []
        for chunk in text.lower().split():
            entry = chunks.get(chunk) or _chunk(chunk)
            columns.extend(entry[0])
            words.extend(entry[1])
        for a, b in itertools.pairwise(words):
            pair = f"{a} {b}"
            index = pairs.get(pair)
            columns.append(index if index is not None else _pair(pair))
        indptr.append(len(columns))
    matrix = sp.csr_matrix(
        (
            np.ones(len(columns), dtype=np.float32),
            np.asarray(columns, dtype=np.int32),
            np.asarray(indptr, dtype=np.int32),
        ),
        shape=(len(texts), HASHED_FEATURES),
    )
    matrix.sum_duplicates()
    return matrix


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
    hashed = hash_texts([p.body for p in prepared])
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
