"""A trained model is an ensemble: the SVM, NB-SVM and (embedding tier) logistic regression
on the embeddings, averaged in log-probability."""

from __future__ import annotations

import random

import numpy as np
import pytest

from socialdesk.triage import ensemble
from socialdesk.triage.classifier import ModelSet, analyse, triage_batch
from socialdesk.triage.ensemble import fit_embedding_lr, fit_nbsvm, log_softmax
from socialdesk.triage.features import HASHED_FEATURES, _index
from socialdesk.triage.linear import LinearModel
from socialdesk.triage.training import Example, stand_in_for_tuned, train_linear

_CUES = {
    "negative": ["my bag is lost", "flight cancelled again", "rude staff at the gate"],
    "neutral": ["what time does boarding start", "is there wifi on board", "which terminal"],
    "positive": ["thanks for the upgrade", "great crew today", "loved the new seats"],
}
_FILLER = ["today", "this morning", "on the way to Leeds", "from Boston", "again", "honestly"]


def _examples(n: int, seed: int = 5) -> list[Example]:
    rng = random.Random(seed)
    labels = sorted(_CUES)
    return [
        Example(f"{rng.choice(_CUES[label])} {rng.choice(_FILLER)}", label)
        for label in (labels[i % 3] for i in range(n))
    ]


def _svm_alone(model: LinearModel) -> LinearModel:
    return LinearModel(
        model.task, model.classes, model.coef, model.intercept, model.idf, model.meta
    )


def test_a_trained_model_carries_nbsvm_and_reads_posts_it_never_saw() -> None:
    model = train_linear("sentiment", _examples(60))
    assert model.meta["ensemble"] == ["svm", "nbsvm"]
    assert "nbsvm" in model.members
    said = triage_batch(
        ["@Air my bag is lost, it's a joke", "@Air great crew today!", "@Air which terminal?"],
        ModelSet(trained={"sentiment": model}, versions={"sentiment": "s1"}),
    )
    assert [r.sentiment for r in said] == ["negative", "positive", "neutral"]


def test_the_answer_is_the_mean_of_the_members_log_probabilities() -> None:
    model = train_linear("sentiment", _examples(60))
    batch = analyse(["the gate staff were rude", "thanks, loved it"]).features
    svm = _svm_alone(model).scores(batch)
    coef, intercept = model.members["nbsvm"]
    present = (batch.hashed > 0).astype(np.float32)
    nb = present @ coef[:HASHED_FEATURES] + batch.dense @ coef[HASHED_FEATURES:] + intercept
    expected = np.exp((np.log(svm) + log_softmax(np.asarray(nb))) / 2)
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.scores(batch), expected, rtol=1e-4, atol=1e-6)
    # And the two members do not say the same: NB-SVM is no copy of the SVM.
    assert not np.allclose(svm, log_softmax(np.asarray(nb)), atol=1e-3)


def test_nbsvm_weighs_an_ngram_by_its_log_count_ratio() -> None:
    """Wang and Manning's scaling: an n-gram seen only in one class's posts pushes towards it,
    more than a plain presence count would, and one seen equally in both gets nothing extra."""
    texts = ["refund now please", "refund now", "smooth landing please", "smooth landing"] * 10
    labels = ["complaint", "complaint", "other", "other"] * 10
    batch = analyse(texts).features
    coef, _ = fit_nbsvm(
        batch, labels, ("complaint", "other"), c=1.0, balanced=False, sample_weight=None
    )
    refund, please = _index("\x01refund"), _index("\x01please")  # the words' own columns
    assert coef[0, refund] > 0.1 > -0.1 > coef[1, refund]
    # In both classes alike: a ratio of about 0, so NB-SVM gives it next to no weight.
    assert abs(coef[0, please]) < 1e-3 * coef[0, refund]


def test_members_survive_storage_and_an_old_model_still_reads() -> None:
    model = train_linear("kind", [Example(e.text, e.label) for e in _examples(45)])
    batch = analyse(["my bag is lost today", "great crew today"]).features
    again = LinearModel.from_bytes(model.to_bytes())
    assert set(again.members) == {"nbsvm"}
    np.testing.assert_allclose(again.scores(batch), model.scores(batch), rtol=1e-5)
    # A model stored before ensembles has no members and answers as its SVM.
    old = LinearModel.from_bytes(_svm_alone(model).to_bytes())
    assert old.members == {}
    np.testing.assert_allclose(old.scores(batch), _svm_alone(model).scores(batch), rtol=1e-5)


def test_the_nbsvm_strength_is_chosen_on_the_training_rows() -> None:
    model = train_linear("sentiment", _examples(240))
    scores = model.meta["nb_cv_scores"]
    assert isinstance(scores, dict)
    assert set(scores) == {str(c) for c in ensemble.NB_C_CANDIDATES}
    assert scores[str(model.meta["nb_c"])] == max(scores.values())
    assert train_linear("sentiment", _examples(30)).meta["nb_c"] == ensemble.NB_DEFAULT_C


def test_embedding_logistic_regression_keeps_the_models_class_order() -> None:
    rng = np.random.default_rng(0)
    centres = {"negative": -1.0, "positive": 1.0}
    labels = [("negative", "positive")[i % 2] for i in range(80)]
    vectors = np.array([rng.normal(centres[label], 0.3, size=8) for label in labels])
    for classes in (("negative", "positive"),):
        coef, intercept = fit_embedding_lr(
            vectors, labels, classes, balanced=False, sample_weight=None
        )
        logits = np.full((1, 8), 1.0) @ coef.T + intercept
        assert classes[int(logits.argmax())] == "positive"
    three = [("negative", "neutral", "positive")[i % 3] for i in range(90)]
    centres3 = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}
    vectors3 = np.array([rng.normal(centres3[label], 0.2, size=8) for label in three])
    coef, intercept = fit_embedding_lr(
        vectors3, three, ("negative", "neutral", "positive"), balanced=True, sample_weight=None
    )
    logits = np.full((3, 8), [[-1.0], [0.0], [1.0]]) @ coef.T + intercept
    assert list(logits.argmax(axis=1)) == [0, 1, 2]


def test_pool_weights_are_chosen_on_held_out_training_rows_and_sum_to_one() -> None:
    model = train_linear("sentiment", _examples(240))
    weights = model.pool_weights
    names = model.meta["ensemble"]
    assert isinstance(names, list)
    # Without the encoder (the fast tier, or no torch) the pool is the SVM and NB-SVM alone.
    assert set(weights) == {"svm", "nbsvm"} == set(names)
    assert sum(weights.values()) == pytest.approx(1.0)
    validation = model.meta["validation"]
    assert isinstance(validation, dict)
    assert validation["rows"] == 36  # 15% of each label's 80 rows, held out
    # The answer is the pool with those weights, not the plain mean.
    batch = analyse(["the gate staff were rude", "thanks, loved it", "which terminal"]).features
    members = model.member_log_probabilities(batch)
    pooled = np.sum([weights[name] * members[name] for name in members], axis=0)
    expected = np.exp(pooled - pooled.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.scores(batch), expected, rtol=1e-4, atol=1e-6)
    # And they survive storage.
    again = LinearModel.from_bytes(model.to_bytes())
    assert again.pool_weights == weights
    np.testing.assert_allclose(again.scores(batch), model.scores(batch), rtol=1e-5)


def test_too_few_rows_to_spare_keep_equal_weights() -> None:
    model = train_linear("sentiment", _examples(60))
    assert "ensemble_weights" not in model.meta
    assert model.pool_weights == {}


def test_the_weights_favour_the_member_that_is_right_on_the_held_out_rows() -> None:
    rng = np.random.default_rng(1)
    gold = rng.integers(0, 2, size=300)
    sharp: np.ndarray = np.log(0.3 + 0.4 * np.eye(2)[gold])
    noise = log_softmax(rng.normal(0, 2.0, size=(300, 2)))
    weights, figures = ensemble.choose_weights(
        {"svm": noise, "nbsvm": sharp}, list(gold), macro=False
    )
    assert weights["nbsvm"] > weights["svm"]
    assert figures["score"] == 1.0 > figures["equal_weights_score"]
    # Macro-F1 picks the same here.
    by_f1, _ = ensemble.choose_weights({"svm": noise, "nbsvm": sharp}, list(gold), macro=True)
    assert by_f1["nbsvm"] > by_f1["svm"]


def test_a_member_left_out_leaves_the_others_shares_as_they_were() -> None:
    """A fine-tuned model's tuned member needs the encoder: where it cannot run, the pool is
    renormalised over the members that can, in their chosen proportions."""
    a = log_softmax(np.array([[2.0, 0.0], [0.0, 1.0]]))
    b = log_softmax(np.array([[0.0, 1.0], [3.0, 0.0]]))
    weights = {"svm": 0.2, "nbsvm": 0.6, "fine_tuned_lr": 0.2}
    np.testing.assert_allclose(
        ensemble.pool({"svm": a, "nbsvm": b}, weights), (0.2 * a + 0.6 * b) / 0.8
    )
    # Without weights (a model stored before them) it is the plain mean.
    np.testing.assert_allclose(ensemble.pool({"svm": a, "nbsvm": b}, {}), (a + b) / 2)
    # Every present member weighted 0: equal shares rather than a division by zero.
    np.testing.assert_allclose(ensemble.pool({"svm": a}, {"svm": 0.0, "fine_tuned_lr": 1.0}), a)


def test_the_weight_grid_covers_the_simplex() -> None:
    grid = ensemble.weight_grid(["svm", "nbsvm", "fine_tuned_lr"], steps=10)
    assert len(grid) == 66  # compositions of 10 into 3 parts
    assert all(sum(w.values()) == pytest.approx(1.0) for w in grid)
    assert {"svm": 0.0, "nbsvm": 0.0, "fine_tuned_lr": 1.0} in grid


def test_without_embeddings_a_tuned_member_is_left_out_and_the_rest_still_answer() -> None:
    """The plain install has no torch: a model whose pool names the fine-tuned member answers
    from its n-gram members when no embeddings are given, and uses the member when they are."""
    model = train_linear("sentiment", _examples(240))
    rng = np.random.default_rng(2)
    coef = rng.normal(0, 5.0, size=(384, len(model.classes))).astype(np.float32)
    model.members["fine_tuned_lr"] = (coef, np.zeros(len(model.classes), dtype=np.float32))
    model.meta["ensemble_weights"] = {"svm": 0.25, "nbsvm": 0.25, "fine_tuned_lr": 0.5}
    batch = analyse(["the gate staff were rude", "thanks, loved it"]).features
    members = model.member_log_probabilities(batch)
    assert set(members) == {"svm", "nbsvm"}
    expected = np.exp((members["svm"] + members["nbsvm"]) / 2)
    np.testing.assert_allclose(
        model.scores(batch), expected / expected.sum(axis=1, keepdims=True), rtol=1e-4
    )
    vectors = rng.normal(0, 1.0, size=(2, 384)).astype(np.float32)
    assert set(model.member_log_probabilities(batch, vectors)) == {"svm", "nbsvm", "fine_tuned_lr"}
    assert not np.allclose(model.scores(batch, vectors), model.scores(batch), atol=1e-3)


def test_a_tuned_member_takes_the_share_its_packaged_stand_in_won() -> None:
    """A fine-tuned model's weights are chosen with the packaged encoder's member in the
    tuned one's place (the tuned layers saw the rows that choose): the shares are kept and
    only the name changes."""
    chosen = {"svm": 0.3, "nbsvm": 0.5, "embedding_lr": 0.2}
    assert stand_in_for_tuned(chosen) == {"svm": 0.3, "nbsvm": 0.5, "fine_tuned_lr": 0.2}
    assert stand_in_for_tuned({"svm": 0.4, "nbsvm": 0.6}) == {"svm": 0.4, "nbsvm": 0.6}
