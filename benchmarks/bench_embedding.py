"""The embedding tier's encoder speed, and how its int8 vectors compare with fp32 ones.

    python benchmarks/bench_embedding.py \
        --data ../shared/data/twitter_us_airline_sentiment/Tweets.csv --messages 4000 \
        --json benchmarks/results/embedding.json

Encodes the file's first texts with the encoder as triage uses it (ONNX Runtime, int8,
texts sorted by length, one worker per core), in batches, a few rounds; reports messages per
wall second and per CPU second of this process (all its threads), with the load average
before and after, since on a shared machine the wall figure counts the waits for a core.
With ``--fp32`` it also builds the fp32 export (in a scratch cache) and gives the cosine of
each int8 vector to its fp32 one. The data is only read.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from socialdesk.core.report_file import json_report
from socialdesk.triage import embedding, row_quantization

DEFAULT_DATA = Path("../shared/data/twitter_us_airline_sentiment/Tweets.csv")


def _texts(path: Path, count: int) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row["text"] for row, _ in zip(csv.DictReader(handle), range(count), strict=False)]


def _speed(encoder: embedding.Encoder, texts: list[str], batch: int, rounds: int) -> list[Any]:
    encoder.encode(texts[:batch])  # warm-up: sessions, threads
    figures = []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(texts), batch):
            encoder.encode(texts[start : start + batch])
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        figures.append(
            {
                "per_wall_second": round(len(texts) / wall, 1),
                "per_cpu_second": round(len(texts) / cpu, 1),
                "load_average_after": round(os.getloadavg()[0], 2),
            }
        )
    return figures


def run(args: argparse.Namespace) -> dict[str, Any]:
    texts = _texts(args.data, args.messages)
    load = round(os.getloadavg()[0], 2)
    encoder = embedding.Encoder()
    report: dict[str, Any] = {
        "data": str(args.data),
        "messages": len(texts),
        "batch_size": args.batch_size,
        "workers": encoder.workers,
        "precision": encoder.precision,
        # getattr: the same script also measures checkouts from before signed weights.
        "signed_weights": getattr(row_quantization, "signed_weights_exact", bool)(),
        "export_recipe": embedding.EXPORT_RECIPE,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "processor": _processor(),
        },
        "load_average_at_start": load,
        "rounds": _speed(encoder, texts, args.batch_size, args.rounds),
    }
    if args.fp32:
        with tempfile.TemporaryDirectory(prefix="socialdesk-fp32-") as scratch:
            exact = embedding.Encoder(cache_dir=Path(scratch), precision="fp32")
            sample = texts[: args.fp32]
            cosine = np.sum(encoder.encode(sample) * exact.encode(sample), axis=1)
        report["cosine_to_fp32"] = {
            "texts": len(sample),
            "mean": round(float(cosine.mean()), 5),
            "min": round(float(cosine.min()), 5),
        }
    return report


def _processor() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Tweets.csv")
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--fp32", type=int, default=0, help="Compare this many vectors with fp32 ones"
    )
    parser.add_argument("--json", type=Path, default=None, help="Where to write the report")
    args = parser.parse_args()
    if not args.data.exists():
        parser.error(f"no data file at {args.data} (give --data)")
    if not embedding.available():
        parser.error(embedding.missing_reason() or "the embedding tier is not installed")
    print(json_report(run(args), args.json))


if __name__ == "__main__":
    main()
