"""Fine-tuning (embedding tier): the encoder's top layers learn a task's labels, are stored with
the task's model, and give that model its embeddings at triage time."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.embedding_marks import needs_embedding
from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.core.clock import FrozenClock
from socialdesk.core.db import unit_of_work
from socialdesk.core.errors import InvalidInput
from socialdesk.core.models import Workspace
from socialdesk.triage import embedding, service
from socialdesk.triage.classifier import ModelSet, analyse, triage_batch
from socialdesk.triage.embedding import Encoder, TunedTop
from socialdesk.triage.fine_tuning import fine_tune, weighted_cross_entropy
from socialdesk.triage.linear import LinearModel
from socialdesk.triage.training import (
    Example,
    choose_pool_weights,
    inner_validation_split,
    train_linear,
)

pytestmark = needs_embedding

NEGATIVE = [
    "my flight got cancelled and nobody at the gate could help",
    "lost my bag for the second time this month, furious",
    "two hours on hold and then they hung up on me",
    "the seat was broken and the crew did not care",
    "still no refund for the trip you cancelled, disgraceful",
    "missed my connection because of your delay, thanks for nothing",
]
POSITIVE = [
    "the crew on my flight this morning was wonderful",
    "got an upgrade at check-in, made my day",
    "smooth boarding and we landed early, great job",
    "your agent rebooked me in two minutes, you are the best",
    "lovely service on the night flight, thank you",
    "found my bag and delivered it to my door, impressed",
]
NEUTRAL = [
    "can I bring a guitar as hand luggage",
    "what is the baggage allowance to Dublin",
    "does the morning flight have wifi",
    "when does online check-in open",
    "is there a direct route to Lisbon in May",
    "how do I add my loyalty number to a booking",
]
TEXTS = NEGATIVE + POSITIVE + NEUTRAL
runner = CliRunner()
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LABELS = ["negative"] * 6 + ["positive"] * 6 + ["neutral"] * 6


def separation(vectors: np.ndarray) -> float:
    """How much closer each text sits to its own class's centre than the centres sit to each
    other (unit vectors, six texts a class)."""
    centres = np.array([vectors[i : i + 6].mean(axis=0) for i in (0, 6, 12)])
    within = np.mean([(vectors[i : i + 6] @ centres[k]).mean() for k, i in enumerate((0, 6, 12))])
    between = np.mean([centres[a] @ centres[b] for a in range(3) for b in range(3) if a != b])
    return float(within - between)


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> Encoder:
    return Encoder(cache_dir=tmp_path_factory.mktemp("embedding-cache"), precision="int8")


@pytest.fixture(scope="module")
def tuned() -> TunedTop:
    return fine_tune(TEXTS, LABELS, epochs=10)


def test_the_packaged_top_layers_finish_the_encoding_as_the_whole_model_does(
    encoder: Encoder,
) -> None:
    texts = ["my flight was cancelled", "", "thank you so much!", "word " * 2000]
    base, (split,) = encoder.encode_tuned(texts, [embedding.packaged_top()])
    present = [0, 2, 3]
    assert np.all((base[present] * split[present]).sum(axis=1) > 0.99)
    assert float(abs(split[1]).sum()) == 0.0


def test_fine_tuning_changes_only_the_top_layers_and_pulls_each_class_together(
    encoder: Encoder, tuned: TunedTop
) -> None:
    packaged = embedding.packaged_top()
    assert tuned.layers == embedding.TUNED_LAYERS
    assert sorted(tuned.weights) == sorted(packaged.weights)
    assert all(tuned.weights[n].shape == packaged.weights[n].shape for n in tuned.weights)
    assert tuned.digest != packaged.digest
    base, (vectors,) = encoder.encode_tuned(TEXTS, [tuned])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert separation(vectors) > separation(base) + 0.05


def test_each_tuned_top_is_exported_once_and_reused(encoder: Encoder, tuned: TunedTop) -> None:
    first = embedding.ensure_top_export(tuned, encoder.model_dir, encoder.cache_dir, "int8")
    again = embedding.ensure_top_export(tuned, encoder.model_dir, encoder.cache_dir, "int8")
    assert again.path == first.path and not again.built
    other = embedding.ensure_top_export(
        embedding.packaged_top(), encoder.model_dir, encoder.cache_dir, "int8"
    )
    assert other.path != first.path


def test_weights_that_do_not_fit_the_encoder_are_refused_with_a_reason(
    encoder: Encoder, tuned: TunedTop
) -> None:
    broken = TunedTop({k: v for k, v in tuned.weights.items() if "query" not in k})
    with pytest.raises(InvalidInput, match="do not fit"):
        encoder.encode_tuned(["hello"], [broken])
    deeper = TunedTop(tuned.weights, layers=3)
    with pytest.raises(InvalidInput, match="fine-tuned 3 encoder layers"):
        encoder.encode_tuned(["hello"], [deeper])


def test_triage_gives_the_reason_when_a_model_tuned_other_layers(tuned: TunedTop) -> None:
    examples = [Example(t, lab) for t, lab in zip(TEXTS, LABELS, strict=True)]
    model = train_linear("sentiment", examples, embeddings=True)
    model.encoder_top = TunedTop(tuned.weights, layers=3)
    models = ModelSet(
        tier="embedding",
        trained={"sentiment": model},
        versions={"sentiment": "s"},
        cascade_band=None,
    )
    with pytest.raises(InvalidInput, match="fine-tuned 3 encoder layers"):
        triage_batch(["where is my bag"], models)


def test_a_fine_tuned_model_keeps_its_top_layers_through_its_bytes(tuned: TunedTop) -> None:
    examples = [Example(t, lab) for t, lab in zip(TEXTS, LABELS, strict=True)]
    model = train_linear("sentiment", examples, embeddings=True)
    model.encoder_top = tuned
    model.meta["fine_tuned_layers"] = tuned.layers
    loaded = LinearModel.from_bytes(model.to_bytes())
    assert loaded.encoder_top is not None
    assert loaded.encoder_top.digest == tuned.digest
    assert loaded.meta["fine_tuned_layers"] == tuned.layers
    plain = LinearModel.from_bytes(train_linear("sentiment", examples).to_bytes())
    assert plain.encoder_top is None


def test_a_fine_tuned_model_reads_its_own_embeddings_at_triage_time() -> None:
    examples = [Example(t, lab) for t, lab in zip(TEXTS, LABELS, strict=True)]
    model = train_linear("sentiment", examples, embeddings=True, fine_tune=True)
    assert model.encoder_top is not None and model.meta["fine_tuned_layers"] == 2
    texts = ["they lost my suitcase again", "brilliant crew, thanks", "do you fly to Porto"]
    models = ModelSet(
        tier="embedding",
        trained={"sentiment": model},
        versions={"sentiment": "s"},
        cascade_band=None,
    )
    results = triage_batch(texts, models)
    analysed = analyse(texts)
    bodies = [p.body for p in analysed.prepared]
    base, (own,) = embedding.encode_tuned(bodies, [model.encoder_top])
    expected = model.scores(analysed.features, own)
    with_packaged = model.scores(analysed.features, base)
    # Log-probabilities: trained on a handful of texts, the model is all but certain.
    assert not np.allclose(np.log(expected), np.log(with_packaged), rtol=1e-3)
    for result, row in zip(results, expected, strict=True):
        assert result.sentiment == model.classes[int(row.argmax())]
        assert result.sentiment_confidence == pytest.approx(float(row.max()), abs=1e-4)


def test_the_fine_tuned_encoder_learns_every_row_and_joins_the_pool_with_unbiased_weights() -> None:
    """With enough rows, the tuned layers learn from all of them (holding rows out of the
    tuning cost more than the weights won), and the logistic regression on their embeddings
    ("fine_tuned_lr") joins the pool with the weight the packaged encoder's member wins on
    the held-out rows: the tuned layers have seen those rows, the packaged encoder has not.
    Triage answers with that weighted pool."""
    places = ["", " today", " again", " this morning", " at JFK", " on the Paris flight"]
    openers = ["", "@Air ", "hey @Air ", "ok "]
    examples = [
        Example(f"{opener}{text}{place}", label)
        for text, label in zip(TEXTS, LABELS, strict=True)
        for place in places
        for opener in openers
    ]
    model = train_linear("sentiment", examples, embeddings=True, fine_tune=True)
    assert model.meta["ensemble"] == ["svm", "nbsvm", "fine_tuned_lr"]
    assert model.meta["fine_tuned_examples"] == len(examples)
    weights = model.pool_weights
    assert set(weights) == {"svm", "nbsvm", "fine_tuned_lr"}
    assert sum(weights.values()) == pytest.approx(1.0)
    validation = model.meta["validation"]
    assert isinstance(validation, dict) and validation["tuned_member_stand_in"] is True
    # The weights are those chosen with the packaged encoder's embeddings on the held-out
    # rows, the embedding member's share passed to the tuned one.
    analysed_rows = analyse([e.text for e in examples])
    packaged = embedding.encode([p.body for p in analysed_rows.prepared])
    inner = inner_validation_split([e.label for e in examples])
    assert inner is not None and validation["rows"] == len(inner[1])
    chosen, _ = choose_pool_weights(
        "sentiment",
        analysed_rows.features,
        [e.label for e in examples],
        np.ones(len(examples)),
        packaged,
        inner,
        c=float(str(model.meta["c"])),
        nb_c=float(str(model.meta["nb_c"])),
        balanced=False,
    )
    assert weights == {
        "svm": chosen["svm"],
        "nbsvm": chosen["nbsvm"],
        "fine_tuned_lr": chosen["embedding_lr"],
    }
    texts = ["they lost my suitcase again", "brilliant crew, thanks", "do you fly to Porto"]
    models = ModelSet(
        tier="embedding",
        trained={"sentiment": model},
        versions={"sentiment": "s"},
        cascade_band=None,
    )
    results = triage_batch(texts, models)
    analysed = analyse(texts)
    assert model.encoder_top is not None
    _, (own,) = embedding.encode_tuned([p.body for p in analysed.prepared], [model.encoder_top])
    members = model.member_log_probabilities(analysed.features, own)
    assert set(members) == set(weights)
    pooled = np.sum([weights[name] * members[name] for name in members], axis=0)
    expected = np.exp(pooled - pooled.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    for result, row in zip(results, expected, strict=True):
        assert result.sentiment == model.classes[int(row.argmax())]
        assert result.sentiment_confidence == pytest.approx(float(row.max()), abs=1e-4)


def test_fine_tuning_needs_the_embedding_tier_and_enough_labeled_texts() -> None:
    examples = [Example(t, lab) for t, lab in zip(TEXTS, LABELS, strict=True)]
    with pytest.raises(InvalidInput, match="embedding tier"):
        train_linear("sentiment", examples, fine_tune=True)
    with pytest.raises(InvalidInput, match="at least"):
        fine_tune(["a", "b", "c"], ["x", "y", "x"])
    with pytest.raises(InvalidInput, match="two labels"):
        fine_tune(TEXTS, ["negative"] * len(TEXTS))


def test_an_example_weighted_twice_counts_as_that_example_twice() -> None:
    import torch

    generator = torch.Generator().manual_seed(3)
    logits = torch.randn(4, 3, generator=generator)
    targets = torch.tensor([0, 2, 1, 2])
    class_weights = torch.tensor([1.0, 2.5, 0.5])

    unit = weighted_cross_entropy(logits, targets, torch.ones(4), class_weights)
    doubled = weighted_cross_entropy(
        logits, targets, torch.tensor([2.0, 1.0, 1.0, 1.0]), class_weights
    )
    repeated = weighted_cross_entropy(
        torch.cat([logits[:1], logits]),
        torch.cat([targets[:1], targets]),
        torch.ones(5),
        class_weights,
    )

    expected = torch.nn.CrossEntropyLoss(weight=class_weights)(logits, targets)
    assert float(unit) == pytest.approx(float(expected), rel=1e-6)
    assert float(doubled) == pytest.approx(float(repeated), rel=1e-6)
    assert float(doubled) != pytest.approx(float(unit), rel=1e-3)


def test_an_example_of_weight_zero_is_left_out_of_the_tuning() -> None:
    plain = fine_tune(TEXTS, LABELS, epochs=1)
    with_ignored = fine_tune(
        [*TEXTS, "the crew were rude and my bag is gone"],
        [*LABELS, "positive"],
        weights=[1.0] * len(TEXTS) + [0.0],
        epochs=1,
    )

    assert with_ignored.digest == plain.digest


def test_example_weights_must_be_one_per_text_finite_and_not_negative() -> None:
    for weights, reason in (
        ([1.0] * (len(TEXTS) - 1), "one weight per example"),
        ([1.0] * (len(TEXTS) - 1) + [-1.0], "not negative"),
        ([1.0] * (len(TEXTS) - 1) + [float("nan")], "finite"),
    ):
        with pytest.raises(InvalidInput, match=reason):
            fine_tune(TEXTS, LABELS, weights=weights)


def test_an_agents_correction_weighs_more_in_the_tuned_layers_too() -> None:
    """train_linear hands each example's weight to fine-tuning, not only to the linear model."""
    unit = [Example(t, lab) for t, lab in zip(TEXTS, LABELS, strict=True)]
    corrected = [
        Example(t, lab, weight=3.0 if lab == "negative" else 1.0)
        for t, lab in zip(TEXTS, LABELS, strict=True)
    ]

    plain = train_linear("sentiment", unit, embeddings=True, fine_tune=True)
    weighted = train_linear("sentiment", corrected, embeddings=True, fine_tune=True)

    assert plain.encoder_top is not None and weighted.encoder_top is not None
    assert weighted.encoder_top.digest != plain.encoder_top.digest


def test_a_workspace_trains_stores_and_uses_a_fine_tuned_version(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    steps: list[tuple[int, int]] = []
    with unit_of_work(session_factory) as s:
        service.import_labels(s, workspace.id, "sentiment", list(zip(TEXTS, LABELS, strict=True)))
        row = service.train(
            s,
            workspace.id,
            "sentiment",
            tier=service.training_tier(s, workspace.id, None, fine_tune=True),
            fine_tune=True,
            progress=lambda done, total: steps.append((done, total)),
        )
        assert (row.label, row.training["fine_tuned"]) == ("sentiment-v1-embedding", True)
        assert steps and steps[-1][0] == steps[-1][1]
        assert LinearModel.from_bytes(row.blob).encoder_top is not None
        # Every text encoded: the fine-tuned model answers, not its fast companion.
        service.configure(s, workspace.id, cascade="always")
    with session_factory() as s:
        result = service.triage_texts(
            s, workspace.id, ["rude crew and a cancelled flight, awful"], tier="embedding"
        )[0]
        assert result.model_versions["sentiment"] == "sentiment-v1-embedding"
        assert result.sentiment == "negative"


def test_fine_tuning_is_refused_for_the_fast_tier(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s, pytest.raises(InvalidInput, match="embedding tier"):
        service.training_tier(s, workspace.id, "fast", fine_tune=True)


def test_the_cli_fine_tunes_lists_and_evaluates(cli_env: Path) -> None:
    source = cli_env / "labeled.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["body", "mood"])
        writer.writerows(zip(TEXTS, [label[:3] for label in LABELS], strict=True))
    mapping = "neg=negative,pos=positive,neu=neutral"
    args = ["--task", "sentiment", "--text-column", "body", "--label-column", "mood"]
    args += ["--map", mapping]
    trained = runner.invoke(app, ["triage", "train", str(source), *args, "--fine-tune"])
    assert trained.exit_code == 0, trained.output
    assert "sentiment-v1-embedding" in trained.output
    listed = runner.invoke(app, ["triage", "models", "list", "--json"])
    assert '"fine_tuned": true' in listed.output
    refused = runner.invoke(app, ["triage", "evaluate", str(source), *args, "--fine-tune"])
    assert refused.exit_code == 2
    assert "--train-fraction" in refused.output
    split_args = ["--fine-tune", "--train-fraction", "0.5", "--json"]
    split = runner.invoke(app, ["triage", "evaluate", str(source), *args, *split_args])
    assert split.exit_code == 0, split.output
    assert '"fine_tuned": true' in split.output


def test_a_scheduled_retrain_fine_tunes_an_active_fine_tuned_version_again(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    clock = FrozenClock(T0)
    with unit_of_work(session_factory) as s:
        service.configure(s, workspace.id, retrain_every_hours=24)
        service.import_labels(
            s, workspace.id, "sentiment", list(zip(TEXTS, LABELS, strict=True)), clock=clock
        )
        service.train(s, workspace.id, "sentiment", tier="embedding", fine_tune=True, clock=clock)
        clock.advance(timedelta(hours=25))
        service.import_labels(
            s,
            workspace.id,
            "sentiment",
            [("the lounge was closed, awful", "negative")],
            clock=clock,
        )
        retrained = service.retrain_if_due(s, workspace.id, clock=clock)
        by_tier = {m.tier: m for m in retrained}
        assert sorted(by_tier) == ["embedding", "fast"]
        assert by_tier["embedding"].version == 2
        assert by_tier["embedding"].training["fine_tuned"] is True
        assert by_tier["fast"].training["fine_tuned"] is False
        assert LinearModel.from_bytes(by_tier["embedding"].blob).encoder_top is not None
