"""Choose the embedding tier's cascade band on the dev half of the day-one sets.

    python benchmarks/calibrate_cascade.py --data-dir ../shared/data --split dev \
        --json benchmarks/results/cascade_calibration.json

Each text is read once by the embedding tier in full (every text encoded) and once by the
fast tier with its margins (cascade.py). A text's answer under a band is then the embedding
tier's where its margin is under the band, else the fast tier's: exactly what the cascade
gives, since each text's answer depends on the text alone. For each band on the grid the
report gives the day-one figures (bench_triage_dayone.py's: complaint macro-F1, care vs
chatter macro-F1, sentiment macro-recall) and the share of texts encoded. Choose on
``--split dev`` only; ``--split holdout`` measures how the choice carries over. The data is
only read; nothing from it goes into the package.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from bench_triage_dayone import _report, airline_sets, apple_sentiment, care_set, in_split
from socialdesk.triage.classifier import ModelSet, fast_margins, read_texts
from socialdesk.triage.reading import in_context
from socialdesk.triage.result import MessageContext

BANDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.01)
BATCH = 1000


def _figures(
    by_text: dict[str, dict[str, Any]], sets: dict[str, list[tuple[str, str]]]
) -> dict[str, float]:
    complaint = _report(
        [g for _, g in sets["complaint"]],
        ["complaint" if by_text[t]["kind"] == "complaint" else "not" for t, _ in sets["complaint"]],
    )
    care = _report(
        [g for _, g in sets["care"]],
        [
            "care"
            if by_text[t]["needs_response"] >= 0.5 and by_text[t]["route_to"] == "care"
            else "not"
            for t, _ in sets["care"]
        ],
    )
    apple = _report(
        [g for _, g in sets["apple"]], [by_text[t]["sentiment"] for t, _ in sets["apple"]]
    )
    airline = _report(
        [g for _, g in sets["airline"]], [by_text[t]["sentiment"] for t, _ in sets["airline"]]
    )
    return {
        "complaint_macro_f1": complaint["macro_f1"],
        "care_vs_chatter_macro_f1": care["macro_f1"],
        "apple_sentiment_macro_recall": apple["macro_recall"],
        "airline_sentiment_macro_recall": airline["macro_recall"],
    }


def run(data: Path, split: str) -> dict[str, Any]:
    complaint, airline = airline_sets(data)
    sets = {
        "complaint": complaint,
        "airline": airline,
        "apple": apple_sentiment(data),
        "care": care_set(data),
    }
    sets = {name: [(t, g) for t, g in rows if in_split(t, split)] for name, rows in sets.items()}
    texts = list(dict.fromkeys(t for rows in sets.values() for t, _ in rows))
    full = ModelSet(tier="embedding", cascade_band=None)
    slow: list[dict[str, Any]] = []
    fast: list[dict[str, Any]] = []
    least: list[float] = []
    for start in range(0, len(texts), BATCH):
        part = texts[start : start + BATCH]
        slow.extend(in_context(r, MessageContext()).to_dict() for r in read_texts(part, full))
        answered = fast_margins(part, full)
        assert answered is not None  # day-one models always have a fast tier
        fast.extend(in_context(r, MessageContext()).to_dict() for r in answered[0])
        least.extend(answered[1].tolist())
    bands: list[dict[str, Any]] = []
    for band in BANDS:
        encoded = [m < band for m in least]
        by_text = {
            t: (s if e else f) for t, s, f, e in zip(texts, slow, fast, encoded, strict=True)
        }
        bands.append(
            {
                "band": band,
                "encoded_share": round(sum(encoded) / len(texts), 4),
                **_figures(by_text, sets),
            }
        )
    return {"split": split, "texts": len(texts), "bands": bands}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--split", default="dev", choices=("all", "dev", "holdout"))
    parser.add_argument("--json", type=Path, help="write the report here")
    args = parser.parse_args()
    report = {
        "benchmark": "cascade_calibration",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        **run(args.data_dir, args.split),
    }
    text = json.dumps(report, indent=2)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    for row in report["bands"]:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
