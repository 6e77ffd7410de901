"""Business reports and exports over a year of data (JSON report).

    python benchmarks/bench_reports.py --messages 200000 --json benchmarks/results/reports.json

Writes a year of cases (four messages each) with bulk inserts into a fresh embedded SQLite
database (or the empty database at --database-url), then times the year's report (day
buckets, Europe/London) and the three exports, each streamed to nowhere. Reports wall and
CPU seconds, rows and bytes, and the load average at the start.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from socialdesk.analytics.exports import export_chunks
from socialdesk.analytics.report_metrics import report_range
from socialdesk.analytics.reports import build_report
from socialdesk.core.db import make_engine, make_session_factory
from socialdesk.core.migrate import upgrade
from socialdesk.core.workspaces import ensure_workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.analytics.year_of_cases import PER_CASE, write_year

NOW = datetime(2026, 12, 2, tzinfo=UTC)


def _timed(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return {
        **out,
        "wall_s": round(time.perf_counter() - wall, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument(
        "--database-url", default=None, help="an empty database (default: new SQLite)"
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/reports.sqlite3"
        engine = make_engine(url)
        upgrade(engine)
        factory = make_session_factory(engine)
        cases = args.messages // PER_CASE
        with factory() as session:
            ws = ensure_workspace(session, "bench-reports").id
            session.commit()
            started = time.perf_counter()
            write_year(session, ws, cases)
            written = round(time.perf_counter() - started, 2)
        span = report_range(date(2025, 12, 1), date(2026, 12, 1), "Europe/London")

        def report() -> dict[str, Any]:
            with factory() as session:
                total = build_report(session, ws, span, bucket="day", now=NOW).total
            return {"inbound": total.inbound, "conversations": total.conversations}

        def export(kind: str) -> Callable[[], dict[str, Any]]:
            def run() -> dict[str, Any]:
                size = lines = 0
                with factory() as session:
                    for chunk in export_chunks(session, ws, kind, span, "csv", NOW):
                        size += len(chunk)
                        lines += chunk.count("\r\n")
                return {"rows": lines - 1, "mb": round(size / 1e6, 1)}

            return run

        result = {
            "database": engine.dialect.name,
            "messages": cases * PER_CASE,
            "cases": cases,
            "load_average_at_start": [round(x, 2) for x in load],
            "write_s": written,
            "year_report": _timed(report),
            "export_messages": _timed(export("messages")),
            "export_conversations": _timed(export("conversations")),
            "export_tasks": _timed(export("tasks")),
        }
        engine.dispose()
    text = json.dumps(result, indent=2)
    print(text)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
