"""Measuring a task's predictions against gold labels, on a model or on a fresh split."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from socialdesk.triage.classifier import ModelSet, triage_batch
from socialdesk.triage.fine_tuning import ProgressCallback
from socialdesk.triage.metrics import classification_report
from socialdesk.triage.result import TriageResult
from socialdesk.triage.training import Example, stratified_split, train_linear

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
    return report
