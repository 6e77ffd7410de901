"""Measuring a task's predictions against gold labels, on a model or on a fresh split."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from socialdesk.triage.classifier import ModelSet, triage_batch
from socialdesk.triage.fine_tuning import ProgressCallback
from socialdesk.triage.metrics import classification_report
from socialdesk.triage.result import TriageResult
from socialdesk.triage.training import (
    Example,
    stratified_folds,
    stratified_split,
    train_linear,
)

BATCH = 2_000


def label_of(task: str, result: TriageResult) -> str:
    if task == "kind":
        return result.kind
    if task == "sentiment":
        return result.sentiment
    if task == "topic":
        return result.topic or "none"
    if task == "severity":
        return str(result.severity)
    return "yes" if result.responds else "no"


def predict(task: str, texts: Sequence[str], models: ModelSet) -> list[str]:
    labels: list[str] = []
    for start in range(0, len(texts), BATCH):
        labels.extend(label_of(task, r) for r in triage_batch(texts[start : start + BATCH], models))
    return labels


def evaluate(
    task: str, texts: Sequence[str], gold: Sequence[str], models: ModelSet
) -> dict[str, Any]:
    report = classification_report(gold, predict(task, texts, models))
    report["task"] = task
    report["model"] = models.version_of(task) if task in models.trained else "zero-shot"
    report["tier"] = models.tier
    return report


def evaluate_split(
    task: str,
    texts: Sequence[str],
    gold: Sequence[str],
    train_fraction: float,
    models: ModelSet,
    seed: int = 13,
    *,
    fine_tune: bool = False,
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Train on a stratified part, evaluate on the rest (nothing is stored)."""
    train_idx, test_idx = stratified_split(gold, train_fraction, seed)
    model = train_linear(
        task,
        [Example(texts[i], gold[i]) for i in train_idx],
        embeddings=models.tier != "fast",
        fine_tune=fine_tune,
        progress=progress,
    )
    trained = replace(
        models,
        trained={**models.trained, task: model},
        versions={**models.versions, task: f"{task}-split"},
    )
    report = evaluate(task, [texts[i] for i in test_idx], [gold[i] for i in test_idx], trained)
    report["train_examples"] = len(train_idx)
    report["train_fraction"] = train_fraction
    report["fine_tuned"] = fine_tune
    report["ensemble"] = model.meta.get("ensemble")
    report["ensemble_weights"] = model.meta.get("ensemble_weights")
    report["validation"] = model.meta.get("validation")
    return report


def evaluate_folds(
    task: str,
    texts: Sequence[str],
    gold: Sequence[str],
    folds: int,
    models: ModelSet,
    seed: int = 13,
) -> dict[str, Any]:
    """k-fold cross-validation: each stratified part is predicted by a model trained on the
    others (nothing is stored). The report covers every row's held-out prediction, and
    ``fold_macro_f1`` / ``fold_accuracy`` give each part's own figures."""
    parts = stratified_folds(gold, folds, seed)
    predicted = [""] * len(texts)
    fold_f1: list[float] = []
    fold_accuracy: list[float] = []
    for k, held in enumerate(parts):
        held_set = set(held)
        train = [Example(texts[i], gold[i]) for i in range(len(texts)) if i not in held_set]
        model = train_linear(task, train, embeddings=models.tier != "fast")
        trained = replace(
            models,
            trained={**models.trained, task: model},
            versions={**models.versions, task: f"{task}-fold{k + 1}"},
        )
        said = predict(task, [texts[i] for i in held], trained)
        for i, label in zip(held, said, strict=True):
            predicted[i] = label
        part = classification_report([gold[i] for i in held], said)
        fold_f1.append(part["macro_f1"])
        fold_accuracy.append(part["accuracy"])
    report = classification_report(gold, predicted)
    report["task"] = task
    report["model"] = f"{task}-{folds}-fold"
    report["tier"] = models.tier
    report["folds"] = folds
    report["fold_macro_f1"] = fold_f1
    report["fold_accuracy"] = fold_accuracy
    report["mean_fold_macro_f1"] = round(sum(fold_f1) / folds, 4)
    report["mean_fold_accuracy"] = round(sum(fold_accuracy) / folds, 4)
    return report
