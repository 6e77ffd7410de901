"""The embedding tier (socialdesk[ml]): MiniLM from the package on disk, linear models on top."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from tests.embedding_marks import needs_embedding
from tests.forking import passes_in_forked_child

from socialdesk.core.db import unit_of_work
from socialdesk.core.models import Workspace
from socialdesk.triage import embedding, service
from socialdesk.triage.classifier import ModelSet, triage_batch

pytestmark = needs_embedding


def test_embeddings_are_unit_vectors_and_empty_text_is_zero() -> None:
    vectors = embedding.encode(["my parcel is late", "where is my package", "", "I love cats"])
    assert vectors.shape == (4, embedding.DIMENSIONS)
    assert abs(float((vectors[0] ** 2).sum()) - 1.0) < 1e-3
    assert float(abs(vectors[2]).sum()) == 0.0
    # Paraphrases sit closer than unrelated text.
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[3])


def test_the_embedding_tier_triages_day_one_and_odd_text() -> None:
    results = triage_batch(
        ["thank you so much, the crew was brilliant", "", "😀", "where is my refund?"],
        ModelSet(tier="embedding", cascade_band=None),  # every text encoded
    )
    assert [r.tier for r in results] == ["embedding"] * 4
    assert results[0].kind == "praise"
    assert results[1].kind == "other" and results[1].language == "und"
    assert results[3].route_to == "care"


def test_an_embedding_model_is_a_version_of_its_own_tier(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    examples = [
        ("the parcel never came", "delivery"),
        ("courier left my box in the rain", "delivery"),
        ("tracking has not moved in days", "delivery"),
        ("I was billed twice", "billing"),
        ("my invoice shows a wrong amount", "billing"),
        ("why did my direct debit go up", "billing"),
    ]
    with unit_of_work(session_factory) as s:
        service.import_labels(s, workspace.id, "topic", examples)
        row = service.train(s, workspace.id, "topic", tier="embedding")
        assert (row.label, row.tier) == ("topic-v1-embedding", "embedding")
        result = service.triage_texts(
            s, workspace.id, ["the delivery man lost my package"], tier="embedding"
        )[0]
        assert result.topic == "delivery"
        assert result.model_versions["topic"] == "topic-v1-embedding"
        # The fast tier does not use it.
        assert (
            service.triage_texts(s, workspace.id, ["x"], tier="fast")[0].model_versions["topic"]
            == "rules"
        )


def test_a_process_forked_after_triage_can_still_triage_on_the_embedding_tier() -> None:
    models = ModelSet(tier="embedding")
    texts = [f"where is my refund for order {n}?" for n in range(40)]  # several encoder calls
    expected = [r.sentiment for r in triage_batch(texts, models)]  # the pools now run here
    # A pool's threads do not survive a fork: the child must start its own.
    assert passes_in_forked_child(
        lambda: [r.sentiment for r in triage_batch(texts, models)] == expected
    )


def test_an_embedding_model_adds_logistic_regression_on_the_embeddings() -> None:
    """The ensemble's third member reads the embeddings alone, and the triage answer moves
    with them: the same n-grams with another post's embedding give other probabilities."""
    import numpy as np

    from socialdesk.triage.classifier import analyse
    from socialdesk.triage.linear import LinearModel
    from socialdesk.triage.training import Example, train_linear

    good = ["great crew, thank you", "loved the new seats", "smooth flight, brilliant staff"]
    bad = ["my bag is lost", "flight cancelled again, furious", "rude staff at the gate"]
    examples = [Example(t, "positive") for t in good * 4] + [
        Example(t, "negative") for t in bad * 4
    ]
    model = LinearModel.from_bytes(train_linear("sentiment", examples, embeddings=True).to_bytes())
    assert model.meta["ensemble"] == ["svm", "nbsvm", "embedding_lr"]
    texts = ["the staff were wonderful", "they lost my suitcase"]
    analysed = analyse(texts)
    vectors = embedding.encode([p.body for p in analysed.prepared])
    said = model.scores(analysed.features, vectors)
    assert list(np.array(model.classes)[said.argmax(axis=1)]) == ["positive", "negative"]
    swapped = model.scores(analysed.features, vectors[::-1].copy())
    assert not np.allclose(said, swapped, atol=1e-3)
