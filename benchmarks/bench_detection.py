"""Spike detection quality on generated mention-volume series, scored the way NAB scores.

    python benchmarks/bench_detection.py --series 40 --json benchmarks/results/detection.json

Each series is four weeks of five-minute counts (daily and weekly cycles, drift, negative
binomial noise, outliers, gaps) with three labelled anomalies (spikes, level shifts,
drops), from :mod:`socialdesk.listening.synthetic`; the sizes and rates vary by seed. The
production detector (the one ``socialdesk listening detect`` runs) is scored with our
NAB-style scorer (standard and low-false-positive profiles), with the delay of each
caught anomaly and the false alarms per week.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from socialdesk.listening.detection import DetectorConfig, detect_series
from socialdesk.listening.evaluation import LOW_FP, STANDARD, normalised, score_series
from socialdesk.listening.series import cli_config
from socialdesk.listening.synthetic import SeriesSpec, generate_series


def corpus(count: int, seed: int) -> list[tuple[str, SeriesSpec, int]]:
    """Varied series: busy and sparse brands, calm and noisy, strongly seasonal or flat."""
    rng = random.Random(seed)
    specs = []
    for i in range(count):
        spec = SeriesSpec(
            days=rng.choice((21, 28, 42)),
            base_per_step=rng.choice((3.0, 10.0, 30.0, 100.0, 300.0)),
            daily_amplitude=rng.choice((0.2, 0.5, 0.8)),
            weekend_factor=rng.choice((0.6, 0.8, 1.0)),
            dispersion=rng.choice((0.01, 0.04, 0.1)),
            drift_per_week=rng.choice((0.02, 0.08, 0.15)),
            outliers_per_week=rng.choice((0.0, 1.0, 3.0)),
            anomalies=rng.choice((2, 3, 4)),
        )
        specs.append((f"series-{i:03d}", spec, seed * 1000 + i))
    return specs


def run(config: DetectorConfig, count: int, seed: int) -> dict[str, Any]:
    standard, low_fp = [], []
    delays: list[int] = []
    false_alarms = 0
    weeks = 0.0
    detections_total = 0
    by_kind: dict[str, list[int]] = {}
    per_series = []
    for name, spec, series_seed in corpus(count, seed):
        series = generate_series(spec, series_seed)
        found = detect_series(series.timestamps, series.values, series.step, config)
        times = [d.at for d in found]
        labels = [a.start for a in series.anomalies]
        s = score_series(series.timestamps, labels, times, STANDARD)
        standard.append(s)
        low_fp.append(score_series(series.timestamps, labels, times, LOW_FP))
        delays.extend(s.delays_steps)
        false_alarms += s.false_positives
        weeks += spec.days / 7 * 0.85
        detections_total += len(times)
        for anomaly in series.anomalies:
            hit = any(anomaly.start <= t <= anomaly.start + anomaly.duration for t in times)
            by_kind.setdefault(anomaly.kind, []).append(int(hit))
        per_series.append(
            {"series": name, "hits": s.true_positives, "missed": s.missed, "fp": s.false_positives}
        )
    ordered = sorted(delays)
    return {
        "nab_standard": round(normalised(standard), 1),
        "nab_low_fp": round(normalised(low_fp), 1),
        "windows": sum(s.true_positives + s.missed for s in standard),
        "caught": sum(s.true_positives for s in standard),
        "false_alarms_per_week": round(false_alarms / weeks, 3),
        "detections": detections_total,
        "median_delay_steps": ordered[len(ordered) // 2] if ordered else None,
        "caught_during_anomaly_by_kind": {k: round(sum(v) / len(v), 3) for k, v in by_kind.items()},
        "series": per_series,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    config = cli_config()
    if args.threshold is not None:
        config = replace(config, threshold=args.threshold)
    began = time.perf_counter()
    report = run(config, args.series, args.seed)
    report["seconds"] = round(time.perf_counter() - began, 1)
    report["config"] = {"threshold": config.threshold, "refractory": str(config.refractory)}
    summary = {k: v for k, v in report.items() if k != "series"}
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
