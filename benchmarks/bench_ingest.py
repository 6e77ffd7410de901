"""Ingestion throughput and peak memory: accept + process + persist on embedded SQLite.

    python benchmarks/bench_ingest.py --messages 100000 --json benchmarks/results/ingest.json

(the same as `socialdesk bench ingest`). Target on a 2-core machine: 10,000 messages/s and
under 500 MB.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from socialdesk.core.report_file import json_report
from socialdesk.ingest.bench import IngestStages, run_ingest_benchmark
from socialdesk.ingest.pipeline import BULK_BATCH_SIZE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=BULK_BATCH_SIZE)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--stages", choices=[s.value for s in IngestStages], default=IngestStages.FOUNDATION.value
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    report = run_ingest_benchmark(
        messages=args.messages,
        batch_size=args.batch_size,
        database_url=args.database_url,
        stages=IngestStages(args.stages),
    )
    print(json_report(report, args.json))


if __name__ == "__main__":
    main()
