"""The embedding tier as a confidence cascade: the fast tier answers what it is sure of, and
only the texts it doubts are encoded (cascade.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.embedding_marks import needs_embedding

from socialdesk.core.db import unit_of_work
from socialdesk.core.errors import InvalidInput
from socialdesk.core.models import Workspace
from socialdesk.triage import embedding, service
from socialdesk.triage.cascade import ALWAYS, DEFAULT_BAND, doubtful, margins, parse_band
from socialdesk.triage.classifier import ModelSet, fast_margins, read_texts, triage_batch
from socialdesk.triage.linear import LinearModel
from socialdesk.triage.result import TriageResult
from socialdesk.triage.training import Example, train_linear

TEXTS = [
    "thank you so much, the crew was brilliant and the flight was lovely",
    "my bag never arrived and nobody answers the phone, this is a disgrace",
    "hmm ok",
    "is the app down?",
    "just landed",
    "where is my refund? I have waited three weeks",
    "new blog post about our trip",
    "not sure what to think about the new seats",
    "",
    "😀",
    "can someone call me back about my booking",
    "I guess it was fine",
]


def test_a_margin_is_the_top_probability_minus_the_next() -> None:
    rows = np.array([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25], [0.5, 0.5, 0.0]])
    assert margins(rows) == pytest.approx([0.5, 0.05, 0.0])


def test_texts_under_the_band_are_doubtful_and_no_band_means_every_text() -> None:
    least = np.array([0.05, 0.9, np.inf, 0.29, 0.3])
    assert doubtful(least, 0.3).tolist() == [0, 3]
    assert doubtful(least, 0.0).tolist() == []
    assert doubtful(least, None).tolist() == [0, 1, 2, 3, 4]


def test_a_band_setting_is_always_or_a_margin_between_zero_and_one() -> None:
    assert parse_band(ALWAYS) is None
    assert parse_band(None) == DEFAULT_BAND
    assert parse_band("0.25") == 0.25
    assert parse_band(0) == 0.0
    for bad in ("sometimes", 1.5, -0.1, True):
        with pytest.raises(ValueError):
            parse_band(bad)


def test_a_workspace_sets_its_band_and_a_wrong_one_is_refused(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with unit_of_work(session_factory) as s:
        assert service.model_set(s, workspace.id).cascade_band == DEFAULT_BAND
        service.configure(s, workspace.id, cascade=ALWAYS)
        assert service.model_set(s, workspace.id).cascade_band is None
        service.configure(s, workspace.id, cascade="0.2")
        assert service.model_set(s, workspace.id).cascade_band == 0.2
        with pytest.raises(InvalidInput, match="cascade band"):
            service.configure(s, workspace.id, cascade="often")
        assert service.triage_settings(s, workspace.id)["cascade"] == 0.2


def _encoded_by(texts: list[str], models: ModelSet) -> tuple[int, list[TriageResult]]:
    before = embedding.texts_encoded()
    results = triage_batch(texts, models)
    return embedding.texts_encoded() - before, results


@needs_embedding
def test_day_one_encodes_only_the_texts_the_fast_tier_doubts() -> None:
    band = 0.3
    cascade = ModelSet(tier="embedding", cascade_band=band)
    full = ModelSet(tier="embedding", cascade_band=None)
    fast = ModelSet(tier="fast")
    read_texts(["warm up the topic descriptions"], full)
    answered = fast_margins(TEXTS, cascade)
    assert answered is not None
    least = answered[1]
    unsure = [i for i, m in enumerate(least) if m < band]
    sure = [i for i, m in enumerate(least) if m >= band]
    assert unsure and sure  # the texts hold both, or the test says nothing

    encoded, readings = _encoded_by(TEXTS, cascade)
    assert encoded == len(unsure)
    assert encoded < len([t for t in TEXTS if t.strip()])
    fast_readings = triage_batch(TEXTS, fast)
    full_readings = triage_batch(TEXTS, full)
    for i in sure:
        assert readings[i] == fast_readings[i]
    for i in unsure:
        assert readings[i] == full_readings[i]
        assert full_readings[i].tier == "embedding"


@needs_embedding
def test_a_text_gets_the_same_answer_in_any_batch() -> None:
    cascade = ModelSet(tier="embedding", cascade_band=0.3)
    together = triage_batch(TEXTS, cascade)
    for i, text in enumerate(TEXTS):
        assert triage_batch([text], cascade)[0] == together[i]
    assert triage_batch(TEXTS[::-1], cascade) == together[::-1]


@needs_embedding
def test_band_always_encodes_every_text_and_band_zero_none() -> None:
    full = ModelSet(tier="embedding", cascade_band=None)
    read_texts(["warm up the topic descriptions"], full)
    encoded, readings = _encoded_by(TEXTS, full)
    with_words = [i for i, t in enumerate(TEXTS) if t.strip()]
    assert encoded == len(with_words)
    assert {readings[i].tier for i in range(len(TEXTS))} == {"embedding"}

    encoded, readings = _encoded_by(TEXTS, ModelSet(tier="embedding", cascade_band=0.0))
    assert encoded == 0
    assert readings == triage_batch(TEXTS, ModelSet(tier="fast"))


def _sentiment_examples() -> list[Example]:
    negative = [
        "my flight was cancelled again",
        "lost my bag and nobody cares",
        "worst service ever, two hours on hold",
        "the app crashes every time I pay",
        "delayed for five hours with no news",
        "rude staff at the gate today",
    ]
    positive = [
        "thanks, the crew was wonderful",
        "great flight, landed early",
        "love the new lounge",
        "brilliant help from your agent",
        "smooth check in, thank you",
        "the upgrade made my day",
    ]
    neutral = [
        "what time does boarding start",
        "flying to Boston tomorrow",
        "is there wifi on this route",
        "changed my seat to the aisle",
        "how heavy can a carry on be",
        "my flight number is 123",
    ]
    return [
        *(Example(t, "negative") for t in negative),
        *(Example(t, "positive") for t in positive),
        *(Example(t, "neutral") for t in neutral),
    ]


@needs_embedding
def test_a_trained_embedding_model_carries_a_fast_companion_that_answers_sure_texts() -> None:
    model = LinearModel.from_bytes(
        train_linear("sentiment", _sentiment_examples(), embeddings=True).to_bytes()
    )
    assert model.fast is not None and not model.fast.uses_embeddings
    assert model.fast.classes == model.classes
    base = ModelSet(tier="embedding", versions={"sentiment": "sentiment-v1-embedding"})
    cascade = replace(base, trained={"sentiment": model}, cascade_band=0.5)
    full = replace(cascade, cascade_band=None)
    read_texts(["warm up the topic descriptions"], full)
    answered = fast_margins(TEXTS, cascade)
    assert answered is not None
    unsure = [i for i, m in enumerate(answered[1]) if m < 0.5]
    sure = [i for i, m in enumerate(answered[1]) if m >= 0.5 and TEXTS[i].strip()]
    assert unsure and sure

    encoded, readings = _encoded_by(TEXTS, cascade)
    assert encoded == len(unsure)
    full_readings = triage_batch(TEXTS, full)
    for i in unsure:
        assert readings[i] == full_readings[i]
    for i in sure:
        reading = readings[i]
        assert reading.tier == "fast"
        assert reading.model_versions["sentiment"] == "sentiment-v1-embedding/fast"


@needs_embedding
def test_a_model_trained_before_the_cascade_has_every_text_encoded() -> None:
    model = train_linear("sentiment", _sentiment_examples(), embeddings=True)
    model.fast = None
    models = ModelSet(tier="embedding", trained={"sentiment": model}, cascade_band=0.3)
    read_texts(["warm up the topic descriptions"], replace(models, cascade_band=None))
    encoded, readings = _encoded_by(TEXTS, models)
    assert encoded == len([t for t in TEXTS if t.strip()])
    assert fast_margins(TEXTS, models) is None
    assert all(r.tier == "embedding" for r in readings)
