"""Day-one triage quality: a fresh install, no brand data, through `socialdesk triage classify`.

    python benchmarks/bench_triage_dayone.py --data-dir ../shared/data \
        --json benchmarks/results/triage_dayone.json [--tier embedding] [--direct]

Every text goes through the command users run (`socialdesk triage classify -`, JSONL in
with ``text`` alone, JSONL out) on a fresh SQLite database, so the figures are those of a new
workspace. ``--direct`` calls the same classifier in this process instead (faster while
developing; the same answers). The evaluation sets:

* **complaint** (kind = complaint or not): airline tweets that annotators marked negative
  with a concrete reason (late, cancelled, lost luggage ...) are complaints; their positive
  and neutral tweets are not. Macro-F1 over the two classes.
* **care vs chatter** (``needs_response`` >= 0.5 and ``route_to`` = care, or not): the
  inbound customer tweets of the twcs sample, airline complaints and airline questions
  ("?" in a neutral tweet) against stock-market and news tweets about Apple (neutral, no
  question) and everyday chatter written for this benchmark (``benchmarks/data/``; never
  seen by the seed models). Macro-F1.
* **sentiment**: the Apple tweets labelled 1 / 3 / 5 (negative / neutral / positive;
  latin-1) and the airline tweets' three classes. Macro-recall, as the literature reports.
* **languages**: posts in Spanish, French, German, Portuguese and Arabic written for this
  benchmark (``benchmarks/data/multilingual_holdout.jsonl``, not seeds): kind accuracy,
  complaint-or-not macro-F1, sentiment macro-recall and topic accuracy per language.
* **splits** (``--split dev|holdout``): every public set cut in two halves by a hash of each
  text (CRC-32 even: dev, odd: holdout). Day-one rules and constants are chosen on dev; the
  holdout half is only measured, so its figures say how well the choices carry over.
* **airline trained** (``--trained``): sentiment accuracy of the fast tier trained on a
  stratified 80% of the airline tweets, as `triage evaluate --train-fraction 0.8` does.
* **complaint with the brand's labels** (``--trained``): the complaint set's kind
  (complaint or other) learned from the labels, on a stratified 80% (`triage evaluate --task
  kind --train-fraction 0.8`) and by 5-fold cross-validation (`--folds 5`). Macro-F1.

* **one trained figure alone** (``--trained-only airline|complaint|complaint-folds``):
  airline sentiment on 80% (with ``--fine-tune``, the encoder's top layers fine-tuned first,
  as `triage evaluate --fine-tune` does), complaint on 80% or by 5-fold cross-validation,
  without the day-one sets; the report gives the pool weights chosen and the load average.

The data is only read from ``--data-dir``; nothing from it goes into the package or the
repository.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from socialdesk.triage.metrics import classification_report

HERE = Path(__file__).resolve().parent
CHATTER = HERE / "data" / "chatter_holdout.jsonl"
MULTILINGUAL = HERE / "data" / "multilingual_holdout.jsonl"
SAMPLE_SEED = 7
# Concrete reasons: the annotators saw a service failure, i.e. a complaint to the brand.
VAGUE_REASONS = {"Can't Tell", ""}


def in_split(text: str, split: str) -> bool:
    """Whether a text falls in a split: all, dev (CRC-32 even) or holdout (odd)."""
    if split == "all":
        return True
    return (zlib.crc32(text.encode("utf-8")) % 2 == 0) == (split == "dev")


def _read_csv(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _socialdesk() -> str:
    local = Path(sys.executable).with_name("socialdesk")
    return str(local) if local.exists() else "socialdesk"


# The embedding tier's cascade band (--cascade): None for socialdesk's default.
CASCADE: str | None = None


def classify(texts: Sequence[str], tier: str, direct: bool) -> list[dict[str, Any]]:
    """The triage result of each text, as `socialdesk triage classify` prints it."""
    if direct:
        from socialdesk.triage.cascade import parse_band
        from socialdesk.triage.classifier import ModelSet, triage_batch

        models = ModelSet(tier=tier, cascade_band=parse_band(CASCADE))
        out: list[dict[str, Any]] = []
        for start in range(0, len(texts), 1000):
            out.extend(r.to_dict() for r in triage_batch(list(texts[start : start + 1000]), models))
        return out
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env["SOCIALDESK_DATABASE_URL"] = f"sqlite:///{tmp}/dayone.db"
        if CASCADE is not None:
            subprocess.run(
                [_socialdesk(), "triage", "configure", "--cascade", CASCADE],
                capture_output=True,
                env=env,
                check=True,
            )
        command = [_socialdesk(), "triage", "classify", "-"]
        if tier != "fast":
            command += ["--tier", tier]
        lines = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts)
        done = subprocess.run(
            command, input=lines, capture_output=True, text=True, env=env, check=False
        )
    if done.returncode != 0:
        raise SystemExit(f"triage classify failed: {done.stderr[-2000:]}")
    results = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    if len(results) != len(texts):
        raise SystemExit(f"triage classify gave {len(results)} results for {len(texts)} texts")
    return results


def _report(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    report = classification_report(list(gold), list(predicted))
    return {
        "n": len(gold),
        "macro_f1": round(report["macro_f1"], 4),
        "macro_recall": round(report["macro_recall"], 4),
        "accuracy": round(report["accuracy"], 4),
        "per_class": report["per_class"],
    }


def airline_sets(data: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    rows = _read_csv(data / "twitter_us_airline_sentiment" / "Tweets.csv")
    seen: set[str] = set()
    complaint: list[tuple[str, str]] = []
    sentiment: list[tuple[str, str]] = []
    for row in rows:
        text = row["text"]
        if text in seen:
            continue
        seen.add(text)
        label = row["airline_sentiment"]
        sentiment.append((text, label))
        if label == "negative":
            if row["negativereason"] not in VAGUE_REASONS:
                complaint.append((text, "complaint"))
        else:
            complaint.append((text, "not"))
    return complaint, sentiment


def apple_sentiment(data: Path) -> list[tuple[str, str]]:
    rows = _read_csv(
        data / "apple_twitter_sentiment" / "Apple-Twitter-Sentiment-DFE.csv", "latin-1"
    )
    codes = {"1": "negative", "3": "neutral", "5": "positive"}
    return [(r["text"], codes[r["sentiment"]]) for r in rows if r["sentiment"] in codes]


def care_set(data: Path) -> list[tuple[str, str]]:
    rng = random.Random(SAMPLE_SEED)
    twcs = _read_csv(data / "twcs_sample" / "sample.csv")
    care = [r["text"] for r in twcs if r["inbound"] == "True"]
    airline = _read_csv(data / "twitter_us_airline_sentiment" / "Tweets.csv")
    complaints = [
        r["text"]
        for r in airline
        if r["airline_sentiment"] == "negative" and r["negativereason"] not in VAGUE_REASONS
    ]
    questions = [
        r["text"] for r in airline if r["airline_sentiment"] == "neutral" and "?" in r["text"]
    ]
    care += rng.sample(complaints, 300) + rng.sample(questions, 150)
    apple = _read_csv(
        data / "apple_twitter_sentiment" / "Apple-Twitter-Sentiment-DFE.csv", "latin-1"
    )
    market = [
        r["text"]
        for r in apple
        if r["sentiment"] in ("3", "not_relevant")
        and "?" not in r["text"]
        and ("$AAPL" in r["text"] or "#AAPL" in r["text"].upper())
    ]
    chatter = [row["text"] for row in _read_jsonl(CHATTER)]
    chatter += rng.sample(market, min(len(market), 300))
    return [(t, "care") for t in care] + [(t, "not") for t in chatter]


def multilingual(tier: str, direct: bool) -> dict[str, Any]:
    rows = _read_jsonl(MULTILINGUAL)
    results = classify([r["text"] for r in rows], tier, direct)
    figures: dict[str, Any] = {}
    for language in sorted({r["language"] for r in rows}):
        pairs = [
            (r, res) for r, res in zip(rows, results, strict=True) if r["language"] == language
        ]
        kinds = [r["kind"] for r, _ in pairs]
        said = [res["kind"] for _, res in pairs]
        complaint_gold = ["complaint" if k == "complaint" else "not" for k in kinds]
        complaint_said = ["complaint" if k == "complaint" else "not" for k in said]
        topics = [(r["topic"], res["topic"]) for r, res in pairs if r.get("topic")]
        figures[language] = {
            "n": len(pairs),
            "language_detected": round(
                sum(res["language"] == language for _, res in pairs) / len(pairs), 4
            ),
            "kind_accuracy": round(
                sum(a == b for a, b in zip(kinds, said, strict=True)) / len(pairs), 4
            ),
            "complaint_macro_f1": _report(complaint_gold, complaint_said)["macro_f1"],
            "sentiment_macro_recall": _report(
                [r["sentiment"] for r, _ in pairs], [res["sentiment"] for _, res in pairs]
            )["macro_recall"],
            "topic_accuracy": round(sum(a == b for a, b in topics) / max(1, len(topics)), 4),
            "topic_n": len(topics),
        }
    return figures


def airline_trained(data: Path, tier: str, fine_tune: bool = False) -> dict[str, Any]:
    from socialdesk.triage.classifier import ModelSet
    from socialdesk.triage.evaluation import evaluate_split

    _, sentiment = airline_sets(data)
    texts = [t for t, _ in sentiment]
    gold = [g for _, g in sentiment]
    started = time.perf_counter()
    report = evaluate_split("sentiment", texts, gold, 0.8, ModelSet(tier=tier), fine_tune=fine_tune)
    return {
        "fine_tuned": fine_tune,
        "ensemble_weights": report["ensemble_weights"],
        "validation": report["validation"],
        "accuracy": round(report["accuracy"], 4),
        "macro_f1": round(report["macro_f1"], 4),
        "macro_recall": round(report["macro_recall"], 4),
        "train_examples": report["train_examples"],
        "seconds": round(time.perf_counter() - started, 1),
    }


def complaint_trained(
    data: Path, tier: str, folds_only: bool = False, split_only: bool = False
) -> dict[str, Any]:
    from socialdesk.triage.classifier import ModelSet
    from socialdesk.triage.evaluation import evaluate_folds, evaluate_split

    complaint, _ = airline_sets(data)
    texts = [t for t, _ in complaint]
    gold = ["complaint" if g == "complaint" else "other" for _, g in complaint]
    started = time.perf_counter()
    figures: dict[str, Any] = {}
    if not folds_only:
        split = evaluate_split("kind", texts, gold, 0.8, ModelSet(tier=tier))
        figures["train_fraction_0.8"] = {
            "macro_f1": round(split["macro_f1"], 4),
            "accuracy": round(split["accuracy"], 4),
            "train_examples": split["train_examples"],
            "ensemble_weights": split["ensemble_weights"],
            "validation": split["validation"],
            "seconds": round(time.perf_counter() - started, 1),
        }
    if split_only:
        return figures
    split_seconds = time.perf_counter() - started
    folds = evaluate_folds("kind", texts, gold, 5, ModelSet(tier=tier))
    return {
        **figures,
        "folds_5": {
            "macro_f1": round(folds["macro_f1"], 4),
            "mean_fold_macro_f1": folds["mean_fold_macro_f1"],
            "fold_macro_f1": folds["fold_macro_f1"],
            "accuracy": round(folds["accuracy"], 4),
            "seconds": round(time.perf_counter() - started - split_seconds, 1),
        },
    }


def run(data: Path, tier: str, direct: bool, trained: bool, split: str = "all") -> dict[str, Any]:
    complaint, airline_sentiment = airline_sets(data)
    apple = apple_sentiment(data)
    care = care_set(data)
    complaint = [(t, g) for t, g in complaint if in_split(t, split)]
    airline_sentiment = [(t, g) for t, g in airline_sentiment if in_split(t, split)]
    apple = [(t, g) for t, g in apple if in_split(t, split)]
    care = [(t, g) for t, g in care if in_split(t, split)]
    texts = list(
        dict.fromkeys(
            [t for t, _ in airline_sentiment] + [t for t, _ in apple] + [t for t, _ in care]
        )
    )
    started = time.perf_counter()
    results = classify(texts, tier, direct)
    seconds = time.perf_counter() - started
    by_text = dict(zip(texts, results, strict=True))
    figures: dict[str, Any] = {
        "complaint": _report(
            [g for _, g in complaint],
            ["complaint" if by_text[t]["kind"] == "complaint" else "not" for t, _ in complaint],
        ),
        "care_vs_chatter": _report(
            [g for _, g in care],
            [
                "care"
                if by_text[t]["needs_response"] >= 0.5 and by_text[t]["route_to"] == "care"
                else "not"
                for t, _ in care
            ],
        ),
        "sentiment_apple": _report(
            [g for _, g in apple], [by_text[t]["sentiment"] for t, _ in apple]
        ),
        "sentiment_airline": _report(
            [g for _, g in airline_sentiment],
            [by_text[t]["sentiment"] for t, _ in airline_sentiment],
        ),
        "languages": multilingual(tier, direct),
        "classify_seconds": round(seconds, 2),
        "classified_texts": len(texts),
        # The texts the embedding tier's encoder read (the cascade's doubtful ones).
        "encoded_share": round(sum(r["tier"] == "embedding" for r in results) / len(texts), 4),
    }
    if trained:
        figures["airline_trained_sentiment"] = airline_trained(data, tier)
        figures["complaint_trained"] = complaint_trained(data, tier)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--tier", default="fast", choices=("fast", "embedding"))
    parser.add_argument("--direct", action="store_true", help="classify in this process")
    parser.add_argument(
        "--trained",
        action="store_true",
        help="also train on the labels: airline sentiment on 80%%, complaint on 80%% and 5-fold",
    )
    parser.add_argument(
        "--trained-only",
        choices=("airline", "complaint", "complaint-folds"),
        help="measure only one trained figure: airline sentiment on 80%% (with --fine-tune, "
        "the encoder's top layers fine-tuned too), complaint on 80%% or by 5-fold "
        "cross-validation",
    )
    parser.add_argument("--fine-tune", action="store_true", help="with --trained-only airline")
    parser.add_argument("--json", type=Path, help="write the report here")
    parser.add_argument(
        "--split",
        default="all",
        choices=("all", "dev", "holdout"),
        help="measure on one half of the public sets (the written sets are always whole)",
    )
    parser.add_argument(
        "--cascade",
        default=None,
        help="embedding tier: the cascade band (0 to 1), or 'always' to encode every text",
    )
    args = parser.parse_args()
    global CASCADE
    CASCADE = args.cascade
    if args.trained_only:
        trained_only(args)
        return
    report = {
        "benchmark": "triage_dayone",
        "tier": args.tier,
        "path": "in-process" if args.direct else "socialdesk triage classify -",
        "split": args.split,
        "cascade": args.cascade or "default",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "targets": {
            "complaint_macro_f1": 0.80,
            "care_vs_chatter_macro_f1": 0.90,
            "sentiment_macro_recall": 0.70,
            "airline_trained_accuracy": 0.87,
            "complaint_trained_5fold_macro_f1": 0.89,
        },
        **run(args.data_dir, args.tier, args.direct, args.trained, args.split),
    }
    summary = {
        "complaint_macro_f1": report["complaint"]["macro_f1"],
        "care_vs_chatter_macro_f1": report["care_vs_chatter"]["macro_f1"],
        "apple_sentiment_macro_recall": report["sentiment_apple"]["macro_recall"],
        "airline_sentiment_macro_recall": report["sentiment_airline"]["macro_recall"],
        "encoded_share": report["encoded_share"],
        "classify_seconds": report["classify_seconds"],
        "languages": {
            k: {m: v[m] for m in ("kind_accuracy", "sentiment_macro_recall", "topic_accuracy")}
            for k, v in report["languages"].items()
        },
    }
    if "airline_trained_sentiment" in report:
        summary["airline_trained_accuracy"] = report["airline_trained_sentiment"]["accuracy"]
        trained_kind = report["complaint_trained"]
        summary["complaint_trained_0.8_macro_f1"] = trained_kind["train_fraction_0.8"]["macro_f1"]
        summary["complaint_trained_5fold_macro_f1"] = trained_kind["folds_5"]["macro_f1"]
    report["summary"] = summary
    text = json.dumps(report, indent=2)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    print(json.dumps(summary, indent=2))


def trained_only(args: argparse.Namespace) -> None:
    """One trained figure alone (the day-one sets are not classified)."""
    tier = "embedding" if args.fine_tune else args.tier
    load_at_start = os.getloadavg()
    started = time.perf_counter()
    if args.trained_only == "airline":
        figures = {
            "airline_trained_sentiment": airline_trained(args.data_dir, tier, args.fine_tune)
        }
    elif args.trained_only == "complaint":
        figures = {"complaint_trained": complaint_trained(args.data_dir, tier, split_only=True)}
    else:
        figures = {"complaint_trained": complaint_trained(args.data_dir, tier, folds_only=True)}
    report = {
        "benchmark": "triage_dayone",
        "tier": tier,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "load_average_at_start": load_at_start,
        "load_average_at_end": os.getloadavg(),
        "seconds": round(time.perf_counter() - started, 1),
        **figures,
    }
    text = json.dumps(report, indent=2)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
