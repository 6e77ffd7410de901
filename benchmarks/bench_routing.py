"""Routing benchmark: 500 agents, 100,000 open tasks on embedded SQLite (JSON report).

python benchmarks/bench_routing.py --json routing.json      # or: socialdesk bench routing
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from socialdesk.core.report_file import json_report
from socialdesk.routing.bench import run_routing_benchmark


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", type=Path, default=None, help="write the report here")
    args = parser.parse_args(argv)
    report = run_routing_benchmark(
        agents=args.agents,
        tasks=args.tasks,
        rounds=args.rounds,
        database_url=args.database_url,
        on_phase=lambda phase: print(phase, file=sys.stderr),
    )
    print(json_report(report, args.json))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
