"""The fast tier's shortcuts give exactly what the plain way of computing gives.

The hashed n-grams, post reading and model scoring are computed by socialdesk's faster code;
these tests hold it to scikit-learn's HashingVectorizer matrix and the model's own view of
a batch, so trained models and scores mean the same as before. (Lexicon matching is held
to its case-blind regex in test_building_blocks.)
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from socialdesk.triage import features
from socialdesk.triage.classifier import analyse
from socialdesk.triage.features import HASHED_FEATURES, hash_texts
from socialdesk.triage.linear import design_matrix, fit_linear
from socialdesk.triage.seed_models import seed_kind_model
from socialdesk.triage.seeds import seed_examples
from socialdesk.triage.text import prepare

_TOKEN = re.compile(r"\b\w+\b|\?")


def _reference_grams(text: str) -> list[str]:
    """The grams the models read, written plainly: words and word pairs (marked with \\x01)
    and character 2-4-grams of each whitespace-separated chunk padded with spaces."""
    lowered = text.lower()
    tokens = _TOKEN.findall(lowered)
    grams = ["\x01" + t for t in tokens]
    grams.extend(f"\x01{a} {b}" for a, b in itertools.pairwise(tokens))
    for chunk in lowered.split():
        padded = f" {chunk} "
        grams.extend(
            padded[i : i + n] for n in (2, 3, 4) for i in range(max(1, len(padded) - n + 1))
        )
    return grams


HASHING_CASES = [
    "My bag never arrived!!! Flight 123 was delayed 3 hours?",
    "can't log in... again?? why?",
    "a",
    "",
    "🙂 merci beaucoup, très bien",
    "Ünïcödé and 中文 mixed",
    "مرحبا، أين حقيبتي؟",
    "cafe\u0301 and n\u0303 combined",
    "same same same words words",
    "x" * 300,
]


def test_hashed_grams_are_the_matrix_scikit_learn_would_build() -> None:
    reference = HashingVectorizer(
        n_features=HASHED_FEATURES,
        alternate_sign=False,
        norm=None,
        analyzer=_reference_grams,
        dtype=np.float32,
    )
    texts = HASHING_CASES + [e.text for e in seed_examples()]
    expected = sp.csr_matrix(reference.transform(texts))
    for _ in range(2):  # first with nothing remembered, then from memory
        got = hash_texts(texts)
        assert got.shape == expected.shape
        assert (got != expected).nnz == 0
        assert got.has_sorted_indices


def test_text_that_is_not_unicode_is_refused_not_a_crash() -> None:
    with pytest.raises(UnicodeEncodeError):
        hash_texts(["half an emoji \ud83d here"])


def test_classifying_never_loads_scikit_learn() -> None:
    """scikit-learn is for training; importing it would cost every process that ingests
    60 MB and half a second."""
    probe = (
        "import sys\n"
        "from socialdesk.ingest.wiring import build_pipeline\n"
        "from socialdesk.triage.classifier import triage_batch\n"
        "from socialdesk.triage.seed_models import seed_kind_model\n"
        "import socialdesk.cli, socialdesk.web.app\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()

    assert loaded == "[]"


def test_the_memory_of_hashed_chunks_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(features, "CACHE_LIMIT", 5)
    monkeypatch.setattr(features, "PAIR_CACHE_LIMIT", 5)
    texts = [f"word{n} other{n}" for n in range(40)]
    before = hash_texts(texts)
    assert len(features._chunks) <= 5 and len(features._pairs) <= 5
    assert (hash_texts(texts) != before).nnz == 0


def test_a_model_scores_exactly_its_view_of_the_batch() -> None:
    texts = [e.text for e in seed_examples()] + ["", "😀", "WHY??? " * 50]
    batch = analyse(texts).features
    labels = ["pos" if n % 3 else "neg" for n in range(len(texts))]
    for model in (seed_kind_model(), fit_linear("sentiment", batch, labels)):
        logits = np.asarray(design_matrix(batch, model.idf, None) @ model.coef.T)
        logits += model.intercept
        expected = np.exp(logits - logits.max(axis=1, keepdims=True))
        expected /= expected.sum(axis=1, keepdims=True)
        assert np.allclose(model.scores(batch), expected, atol=1e-5)


def test_a_post_is_read_into_words_links_mentions_and_counts() -> None:
    ascii_post = prepare(
        "Hi @united!! my BAG is lost HTTP://t.co/x #fail #2020 it's WWW.site.com a#b"
    )
    assert ascii_post.body == "Hi  !! my BAG is lost   #fail #2020 it's   a#b"
    assert ascii_post.words == ("hi", "my", "bag", "is", "lost", "fail", "it's", "a", "b")
    assert (ascii_post.urls, ascii_post.mentions, ascii_post.exclamations) == (2, 1, 2)
    assert (ascii_post.letters, ascii_post.upper_letters, ascii_post.emoji) == (22, 4, 0)
    assert {"bag", "<bag", "it's"} <= ascii_post.prefixes

    other = prepare("Crème BRÛLÉE #délicieux @paris 😀 l’été")
    assert other.words == ("crème", "brûlée", "délicieux", "l’été")
    assert (other.urls, other.mentions, other.emoji) == (0, 1, 1)
    assert (other.letters, other.upper_letters) == (24, 7)

    plain = prepare("no links here, just words")
    assert (plain.urls, plain.mentions, plain.body) == (0, 0, "no links here, just words")
