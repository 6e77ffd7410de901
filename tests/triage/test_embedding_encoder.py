"""The embedding tier's encoder: a cached ONNX export of the packaged MiniLM, close to the
sentence-transformers reference, rebuilt when its cache is missing or corrupt."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from tests.embedding_marks import needs_embedding

from socialdesk.core.errors import InvalidInput
from socialdesk.triage import embedding
from socialdesk.triage.embedding import Encoder

pytestmark = needs_embedding

TEXTS = [
    "my flight was cancelled and nobody at the desk could tell me why",
    "thank you!",
    "where is my refund?",
    "",
    "lost my bag in Denver, third time this year. Absolutely unacceptable service",
    "😀😀",
    "   ",
    "Ça va très bien, merci pour votre aide",
    "東京行きの便が遅れています",
    "CAN SOMEONE PLEASE ANSWER THE PHONE",
    "ok",
    "word " * 2000,  # 10,000 characters: truncated, not rejected
]
PRESENT = [i for i, t in enumerate(TEXTS) if t.strip()]
BLANK = [i for i, t in enumerate(TEXTS) if not t.strip()]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray((a[PRESENT] * b[PRESENT]).sum(axis=1))


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(scope="module")
def encoder(cache: Path) -> Encoder:
    return Encoder(cache_dir=cache, precision="int8")


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    return embedding.reference_encode(TEXTS)


def test_the_fast_path_agrees_with_the_reference_encoder(
    encoder: Encoder, reference: np.ndarray
) -> None:
    similarity = cosines(encoder.encode(TEXTS), reference)
    assert similarity.min() > 0.98
    assert similarity.mean() > 0.995  # one int8 scale per token row; per call gives ~0.99


def test_full_precision_reproduces_the_reference(cache: Path, reference: np.ndarray) -> None:
    exact = Encoder(cache_dir=cache, precision="fp32")
    assert cosines(exact.encode(TEXTS), reference).min() > 0.9999


def test_blank_texts_get_zeros_and_the_others_unit_vectors(encoder: Encoder) -> None:
    vectors = encoder.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), embedding.DIMENSIONS)
    assert vectors.dtype == np.float32
    assert not vectors[BLANK].any()
    assert np.allclose(np.linalg.norm(vectors[PRESENT], axis=1), 1.0, atol=1e-3)
    assert not encoder.encode(["", " "]).any()
    assert encoder.encode([]).shape == (0, embedding.DIMENSIONS)


def test_a_text_gets_the_same_vector_alone_as_among_others(encoder: Encoder) -> None:
    together = encoder.encode(TEXTS)
    for i in PRESENT:
        assert np.allclose(encoder.encode([TEXTS[i]])[0], together[i], atol=1e-6)


def test_any_number_of_workers_gives_the_same_rows_in_input_order(
    cache: Path, encoder: Encoder
) -> None:
    for workers in (1, 3):
        other = Encoder(cache_dir=cache, precision="int8", workers=workers)
        assert np.allclose(other.encode(TEXTS), encoder.encode(TEXTS), atol=1e-6)


def test_paraphrases_sit_closer_than_unrelated_text(encoder: Encoder) -> None:
    a, b, c = encoder.encode(["my parcel is late", "where is my package", "I love cats"])
    assert float(a @ b) > float(a @ c)


def test_the_export_is_built_once_and_then_reused(cache: Path, encoder: Encoder) -> None:
    again = Encoder(cache_dir=cache, precision="int8")
    assert not again.cached.built
    assert again.cached.path == encoder.cached.path
    assert np.array_equal(again.encode(TEXTS), encoder.encode(TEXTS))


def test_a_corrupt_cached_model_is_rebuilt(
    cache: Path, encoder: Encoder, reference: np.ndarray, tmp_path: Path
) -> None:
    copy = tmp_path / "cache"
    shutil.copytree(cache, copy)
    damaged = copy / encoder.cached.path.relative_to(cache)
    damaged.write_bytes(damaged.read_bytes()[:1000])  # a half-written file
    rebuilt = Encoder(cache_dir=copy, precision="int8")
    assert rebuilt.cached.built and rebuilt.cached.path == damaged
    assert cosines(rebuilt.encode(TEXTS), reference).min() > 0.93
    assert not Encoder(cache_dir=copy, precision="int8").cached.built


def test_a_missing_cached_model_or_manifest_is_rebuilt(
    cache: Path, encoder: Encoder, tmp_path: Path
) -> None:
    for lost in (embedding.MODEL_FILE, embedding.MANIFEST_FILE):
        copy = tmp_path / lost
        shutil.copytree(cache, copy)
        (copy / encoder.cached.path.relative_to(cache)).with_name(lost).unlink()
        rebuilt = Encoder(cache_dir=copy, precision="int8")
        assert rebuilt.cached.built
        assert rebuilt.encode(["where is my refund?"]).any()


def test_a_rebuild_clears_what_an_interrupted_export_left_behind(
    cache: Path, encoder: Encoder, tmp_path: Path
) -> None:
    copy = tmp_path / "cache"
    shutil.copytree(cache, copy)
    entry = (copy / encoder.cached.path.relative_to(cache)).parent
    old, recent = entry / ".build-old", entry / ".build-recent"
    for leftover in (old, recent):
        leftover.mkdir()
        (leftover / "fp32.onnx").write_bytes(b"partial")
    long_ago = time.time() - 2 * embedding.STALE_BUILD_SECONDS
    os.utime(old, (long_ago, long_ago))
    (entry / embedding.MANIFEST_FILE).unlink()
    assert Encoder(cache_dir=copy, precision="int8").cached.built
    assert not old.exists()
    assert recent.exists()  # perhaps another process exporting right now


def test_each_precision_has_its_own_cache_entry(cache: Path) -> None:
    model_dir = embedding.packaged_model_dir()
    assert embedding.cache_key(model_dir, "int8") != embedding.cache_key(model_dir, "fp32")


def test_the_cache_dir_and_precision_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SOCIALDESK_EMBEDDING_CACHE", str(tmp_path))
    assert embedding.default_cache_dir() == tmp_path
    monkeypatch.setenv("SOCIALDESK_EMBEDDING_PRECISION", "FP32")
    assert embedding.default_precision() == "fp32"
    monkeypatch.setenv("SOCIALDESK_EMBEDDING_PRECISION", "int4")
    with pytest.raises(InvalidInput, match="int8 or fp32"):
        embedding.default_precision()
