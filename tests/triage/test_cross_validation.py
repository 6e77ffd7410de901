"""k-fold cross-validation: every row is judged by a model that never saw it."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from socialdesk.cli import app
from socialdesk.core.errors import InvalidInput
from socialdesk.triage import evaluation
from socialdesk.triage.classifier import ModelSet
from socialdesk.triage.evaluation import evaluate_folds
from socialdesk.triage.linear import LinearModel
from socialdesk.triage.training import Example, stratified_folds, train_linear

runner = CliRunner()

NEGATIVE = [
    "my order never arrived and nobody answers, awful",
    "charged twice again, terrible",
    "the app keeps crashing, useless",
    "waited an hour on hold, so angry",
    "rude staff and a broken card reader",
    "still no refund after three weeks, disgusting",
]
POSITIVE = [
    "great service today, thank you",
    "love the new app, brilliant",
    "the engineer was lovely and quick",
    "very happy with my new phone",
    "excellent help from your team, thanks",
    "fantastic delivery, early and perfect",
]
NEUTRAL = [
    "what time does the shop open",
    "is there a store in leeds",
    "which plan has roaming",
    "how do I update my address",
    "do you deliver on saturdays",
    "where is the invoice page",
]


def write_labeled(path: Path) -> None:
    rows = [("neg", t) for t in NEGATIVE] + [("pos", t) for t in POSITIVE]
    rows += [("neu", t) for t in NEUTRAL]
    lines = ["body,mood"] + [f"{text.replace(',', ' ')},{mood}" for mood, text in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_folds_cover_every_row_once_with_each_label_spread_evenly() -> None:
    labels = ["complaint"] * 23 + ["other"] * 11 + ["question"] * 6
    parts = stratified_folds(labels, 5)
    assert len(parts) == 5
    every = sorted(i for part in parts for i in part)
    assert every == list(range(len(labels)))
    for label, total in Counter(labels).items():
        per_part = [sum(labels[i] == label for i in part) for part in parts]
        assert max(per_part) - min(per_part) <= 1, (label, per_part)
        assert sum(per_part) == total
    assert stratified_folds(labels, 5) == parts  # the same seed gives the same folds
    assert stratified_folds(labels, 5, seed=1) != parts


@pytest.mark.parametrize("folds", [1, 41])
def test_folds_must_be_at_least_two_and_at_most_the_rows(folds: int) -> None:
    with pytest.raises(InvalidInput, match="--folds"):
        stratified_folds(["a", "b"] * 20, folds)


def test_each_fold_is_predicted_by_a_model_trained_without_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = NEGATIVE + POSITIVE + NEUTRAL
    gold = ["negative"] * 6 + ["positive"] * 6 + ["neutral"] * 6
    seen: list[set[str]] = []

    def recording(task: str, examples: Sequence[Example], **kwargs: Any) -> LinearModel:
        seen.append({e.text for e in examples})
        return train_linear(task, examples, **kwargs)

    monkeypatch.setattr(evaluation, "train_linear", recording)
    report = evaluate_folds("sentiment", texts, gold, 3, ModelSet())

    assert len(seen) == 3
    for trained_on, held in zip(seen, stratified_folds(gold, 3), strict=True):
        assert trained_on.isdisjoint(texts[i] for i in held)
        assert len(trained_on) == len(texts) - len(held)
    assert report["examples"] == len(texts) and report["folds"] == 3
    assert len(report["fold_macro_f1"]) == 3 and len(report["fold_accuracy"]) == 3
    assert report["mean_fold_accuracy"] == pytest.approx(sum(report["fold_accuracy"]) / 3, 1e-3)
    # The pooled report counts each row once, by its own fold's model.
    assert sum(c["support"] for c in report["per_class"].values()) == len(texts)
    assert report["accuracy"] >= 0.5  # plain sentiment words carry over between folds


def test_evaluate_with_folds_from_the_command_line(cli_env: Path) -> None:
    source = cli_env / "labeled.csv"
    write_labeled(source)
    args = ["triage", "evaluate", str(source), "--task", "sentiment", "--text-column", "body",
            "--label-column", "mood", "--map", "neg=negative,pos=positive,neu=neutral"]  # fmt: skip
    result = runner.invoke(app, [*args, "--folds", "3", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["folds"] == 3 and figures["examples"] == 18
    assert figures["model"] == "sentiment-3-fold"
    assert len(figures["fold_macro_f1"]) == 3

    table = runner.invoke(app, [*args, "--folds", "3"])
    assert "3-fold, mean fold macro-F1" in table.output

    both = runner.invoke(app, [*args, "--folds", "3", "--train-fraction", "0.5"])
    assert both.exit_code != 0 and "--folds" in both.output
    # Nothing was stored: the workspace still answers with its seed models.
    listed = runner.invoke(app, ["triage", "models", "list", "--json"])
    assert json.loads(listed.stdout) == []
