"""Triage quality and speed, fast and embedding tier, zero-shot and trained.

    python benchmarks/bench_triage.py \
        --data ../shared/data/twitter_us_airline_sentiment/Tweets.csv \
        --train-fraction 0.8 --json benchmarks/results/triage.json

Sentiment (airline_sentiment) accuracy and macro-F1, and topic (negativereason, mapped onto
socialdesk's airline taxonomy) macro-F1, on a stratified held-out part; "trained" models
learn on the rest. The "fine-tuned" tier is the embedding tier whose trained models first
fine-tune the encoder's top layers (``triage train --fine-tune``; about ten minutes a task
on two cores); its zero-shot figures are the embedding tier's, and its speed is also given
with only the sentiment model (one fine-tuned task). Messages/second are measured over the
file's texts in batches, in one process. The data is only read; nothing from it
goes into the package.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from socialdesk.core.report_file import json_report
from socialdesk.triage import embedding
from socialdesk.triage.cascade import parse_band
from socialdesk.triage.classifier import ModelSet, triage_batch
from socialdesk.triage.evaluation import evaluate
from socialdesk.triage.taxonomies import DEFAULT_TAXONOMIES
from socialdesk.triage.training import Example, stratified_split, train_linear

EMBEDDING = "embedding"
FINE_TUNED = "fine-tuned"
DEFAULT_DATA = Path("../shared/data/twitter_us_airline_sentiment/Tweets.csv")

# The data set's complaint reasons onto socialdesk's airline taxonomy (a label mapping, as a
# user would give with --map; "Can't Tell" means no topic).
REASONS = {
    "Late Flight": "late_trip",
    "Cancelled Flight": "cancelled_trip",
    "Lost Luggage": "lost_baggage",
    "Damaged Luggage": "damaged_baggage",
    "Flight Booking Problems": "booking",
    "Flight Attendant Complaints": "crew",
    "Bad Flight": "onboard_experience",
    "longlines": "queues",
    "Customer Service Issue": "customer_service",
    "Can't Tell": "none",
}


def _read(path: Path, limit: int | None) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return rows[:limit] if limit else rows


def _quality(
    task: str,
    texts: list[str],
    gold: list[str],
    train_fraction: float,
    tier: str,
    band: float | None,
) -> dict[str, Any]:
    train_idx, test_idx = stratified_split(gold, train_fraction)
    test_texts = [texts[i] for i in test_idx]
    test_gold = [gold[i] for i in test_idx]
    base = ModelSet(
        taxonomy=DEFAULT_TAXONOMIES["airline"], tier=_model_tier(tier), cascade_band=band
    )
    zero_shot: dict[str, Any] = {"same_as": EMBEDDING}
    if tier != FINE_TUNED:
        started = time.perf_counter()
        zero = evaluate(task, test_texts, test_gold, base)
        zero_shot = _figures(zero) | {"seconds": round(time.perf_counter() - started, 2)}
    started = time.perf_counter()
    model = train_linear(
        task,
        [Example(texts[i], gold[i]) for i in train_idx],
        embeddings=tier != "fast",
        fine_tune=tier == FINE_TUNED,
    )
    train_seconds = time.perf_counter() - started
    trained = evaluate(
        task,
        test_texts,
        test_gold,
        replace(base, trained={task: model}, versions={task: f"{task}-bench"}),
    )
    return {
        "train_examples": len(train_idx),
        "test_examples": len(test_idx),
        "zero_shot": zero_shot,
        "trained": _figures(trained) | {"train_seconds": round(train_seconds, 2)},
        "_model": model,
    }


def _model_tier(tier: str) -> str:
    return EMBEDDING if tier == FINE_TUNED else tier


def _figures(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "accuracy": report["accuracy"],
        "macro_f1": report["macro_f1"],
        "macro_recall": report["macro_recall"],
        "per_class_f1": {k: v["f1"] for k, v in report["per_class"].items()},
    }


def _throughput(texts: list[str], models: ModelSet, batch: int) -> dict[str, float]:
    """Messages per wall-clock second, and per CPU second of this process (all its threads),
    and on the embedding tier the share of the messages the encoder read (the cascade's).

    On a machine shared with other work the wall-clock figure drops; the CPU figure tells
    what one core does.
    """
    triage_batch(texts[:batch], models)  # warm-up: lexicons, seed model, model loading
    encoded = embedding.texts_encoded() if models.tier != "fast" else 0
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(texts), batch):
        triage_batch(texts[start : start + batch], models)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    figures = {
        "per_wall_second": round(len(texts) / wall, 1),
        "per_cpu_second": round(len(texts) / cpu, 1),
        "load_average_after": round(os.getloadavg()[0], 2),
    }
    if models.tier != "fast":
        figures["encoded_share"] = round((embedding.texts_encoded() - encoded) / len(texts), 4)
    return figures


def _zero_shot_speed(texts: list[str], tier: str, args: argparse.Namespace) -> dict[str, Any]:
    """The zero-shot models' speed alone (``--throughput-only``: nothing trained)."""
    sample = (texts * (1 + args.throughput_messages // max(1, len(texts))))[
        : args.throughput_messages
    ]
    batch = args.batch_size if tier == "fast" else args.embedding_batch_size
    models = ModelSet(
        taxonomy=DEFAULT_TAXONOMIES["airline"],
        tier=_model_tier(tier),
        cascade_band=parse_band(args.cascade),
    )
    return {"zero_shot": _throughput(sample, models, batch), "messages": len(sample)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    rows = _read(args.data, args.limit)
    texts = [r["text"] for r in rows]
    sentiment = [r["airline_sentiment"] for r in rows]
    negative = [r for r in rows if r["airline_sentiment"] == "negative" and r["negativereason"]]
    topic_texts = [r["text"] for r in negative]
    topics = [REASONS.get(r["negativereason"], "none") for r in negative]
    tiers = [t.strip() for t in args.tiers.split(",") if t.strip()]
    report: dict[str, Any] = {
        "data": str(args.data),
        "cascade": args.cascade or "default",
        "rows": len(rows),
        "train_fraction": args.train_fraction,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "tiers": {},
    }
    for tier in tiers:
        if tier != "fast" and not embedding.available():
            report["tiers"][tier] = {"skipped": embedding.missing_reason()}
            continue
        if args.throughput_only:
            report["tiers"][tier] = {"messages_per_second": _zero_shot_speed(texts, tier, args)}
            continue
        band = parse_band(args.cascade)
        sentiment_q = _quality("sentiment", texts, sentiment, args.train_fraction, tier, band)
        topic_q = _quality("topic", topic_texts, topics, args.train_fraction, tier, band)
        sample = (texts * (1 + args.throughput_messages // max(1, len(texts))))[
            : args.throughput_messages
        ]
        batch = args.batch_size if tier == "fast" else args.embedding_batch_size
        zero_models = ModelSet(
            taxonomy=DEFAULT_TAXONOMIES["airline"], tier=_model_tier(tier), cascade_band=band
        )
        sentiment_model = sentiment_q.pop("_model")
        trained_models = replace(
            zero_models, trained={"sentiment": sentiment_model, "topic": topic_q.pop("_model")}
        )
        speed = {
            "zero_shot": _throughput(sample, zero_models, batch),
            "trained": _throughput(sample, trained_models, batch),
        }
        if tier == FINE_TUNED:
            # The cheaper choice: only sentiment fine-tuned (topic read from the taxonomy's
            # cue words and descriptions), one tuned top per message instead of two.
            alone = replace(zero_models, trained={"sentiment": sentiment_model})
            speed["trained_sentiment_only"] = _throughput(sample, alone, batch)
        report["tiers"][tier] = {
            "sentiment": sentiment_q,
            "topic": topic_q,
            "messages_per_second": speed | {"messages": len(sample), "batch_size": batch},
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Tweets.csv")
    parser.add_argument("--train-fraction", type=float, default=0.8)
    parser.add_argument("--tiers", default=f"fast,{EMBEDDING},{FINE_TUNED}")
    parser.add_argument("--limit", type=int, default=None, help="Read only the first N rows")
    parser.add_argument("--throughput-messages", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--embedding-batch-size", type=int, default=512)
    parser.add_argument("--json", type=Path, default=None, help="Where to write the report")
    parser.add_argument(
        "--throughput-only",
        action="store_true",
        help="measure the zero-shot models' speed alone (no training, no quality)",
    )
    parser.add_argument(
        "--cascade",
        default=None,
        help="embedding tier: the cascade band (0 to 1), or 'always' to encode every text; "
        "default: socialdesk's",
    )
    args = parser.parse_args()
    if not args.data.exists():
        parser.error(f"no data file at {args.data} (give --data)")
    report = run(args)
    print(json_report(report, args.json))


if __name__ == "__main__":
    main()
