"""A year of data exports in flat memory: 200,000 messages (50,000 cases) written with bulk
inserts, then exported by a process of its own whose peak resident memory is compared with
what it held before (after a one-day export has loaded every module and statement).

Runs in every pass of the suite, on its database (SQLite by default; PostgreSQL streams
through a server-side cursor). The bound is far below what holding the rows would take:
200,000 rows of this export are about 40 MB as text, more as Python objects.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.models import Workspace
from tests.analytics.year_of_cases import PER_CASE, write_year

MESSAGES = 200_000
CASES = MESSAGES // PER_CASE
PEAK_LIMIT = 20_000_000  # bytes of resident memory the export may add


@pytest.fixture
def a_year(session_factory: sessionmaker[Session], workspace: Workspace) -> int:
    started = time.monotonic()
    with session_factory() as s:
        write_year(s, workspace.id, CASES)
    print(f"wrote {MESSAGES} messages in {time.monotonic() - started:.1f} s")
    return workspace.id


# Run in a process of its own, so that its peak resident memory is the export's alone.
MEASURE = """
import json, sys
from datetime import UTC, date, datetime
from socialdesk.analytics.exports import export_chunks
from socialdesk.analytics.report_metrics import report_range
from socialdesk.core.db import make_engine, make_session_factory
from sqlalchemy import event

url, ws, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
engine = make_engine(url)
if engine.dialect.name == "sqlite":
    # SQLite's page cache (64 MB a connection, as the product sets it) fills up to its bound
    # whatever is read; 2 MB here leaves what the export itself holds to be measured.
    @event.listens_for(engine, "connect")
    def small_cache(connection, _record):
        connection.execute("PRAGMA cache_size=-2000")
factory = make_session_factory(engine)
now = datetime(2026, 12, 2, tzinfo=UTC)

def export(first, last):
    size = lines = 0
    with factory() as session:
        for chunk in export_chunks(session, ws, kind, report_range(first, last), "csv", now):
            size += len(chunk)
            lines += chunk.count("\\r\\n")
    return size, lines - 1

def status_kib(field):
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith(field))

export(date(2025, 12, 1), date(2025, 12, 1))  # one day: every module and statement warmed up
before = status_kib("VmRSS:")
size, rows = export(date(2025, 12, 1), date(2026, 12, 1))
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent.
peak = status_kib("VmHWM:")
print(json.dumps({"rows": rows, "bytes": size, "before_kib": before, "peak_kib": peak}))
"""


def _export_in_a_process(engine: Engine, ws: int, kind: str) -> dict[str, int]:
    url = engine.url.render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, url, str(ws), kind],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, int] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_a_year_of_messages_and_cases_exports_in_flat_memory(a_year: int, engine: Engine) -> None:
    started = time.monotonic()
    out = _export_in_a_process(engine, a_year, "messages")
    growth = (out["peak_kib"] - out["before_kib"]) * 1024
    print(f"messages: {out['rows']} rows, {out['bytes'] / 1e6:.1f} MB, RSS +{growth / 1e6:.1f} MB")
    assert out["rows"] == MESSAGES
    assert out["bytes"] > 2 * PEAK_LIMIT  # holding the text alone would pass the bound twice
    assert growth < PEAK_LIMIT
    out = _export_in_a_process(engine, a_year, "conversations")
    growth = (out["peak_kib"] - out["before_kib"]) * 1024
    print(f"conversations: {out['rows']} rows, RSS +{growth / 1e6:.1f} MB")
    assert out["rows"] == CASES
    assert growth < PEAK_LIMIT
    print(f"exports took {time.monotonic() - started:.1f} s")
