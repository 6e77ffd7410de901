"""Classification quality: per-class precision, recall, F1, macro figures, confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def classification_report(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    labels = sorted(set(gold) | set(predicted))
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, predicted, strict=True):
        matrix[index[g]][index[p]] += 1
    per_class: dict[str, dict[str, float]] = {}
    gold_labels = sorted(set(gold))
    for label in labels:
        i = index[label]
        tp = matrix[i][i]
        predicted_n = sum(row[i] for row in matrix)
        support = sum(matrix[i])
        precision = tp / predicted_n if predicted_n else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": support,
        }
    # Macro figures average over the classes present in the gold labels.
    scored = [per_class[label] for label in gold_labels]
    n = len(gold)
    correct = sum(matrix[i][i] for i in range(len(labels)))
    return {
        "examples": n,
        "accuracy": round(correct / n, 4) if n else 0.0,
        "macro_f1": round(sum(c["f1"] for c in scored) / len(scored), 4) if scored else 0.0,
        "macro_recall": round(sum(c["recall"] for c in scored) / len(scored), 4) if scored else 0.0,
        "macro_precision": round(sum(c["precision"] for c in scored) / len(scored), 4)
        if scored
        else 0.0,
        "per_class": per_class,
        "labels": labels,
        "confusion_matrix": matrix,
    }
