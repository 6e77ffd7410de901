"""The soak's view of native memory: the C heap and SQLite, beside RSS."""

from __future__ import annotations

import platform
import sqlite3

import pytest

from socialdesk.ingest.soak_memory import native_memory


@pytest.mark.skipif(platform.system() != "Linux", reason="glibc's mallinfo2 is Linux only")
def test_sqlite_and_the_c_heap_are_measured_apart() -> None:
    before = native_memory()
    assert {"heap_in_use_mb", "heap_free_mb", "sqlite_mb"} <= before.keys()
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (x)")
    db.executemany("INSERT INTO t VALUES (?)", [("x" * 100,)] * 50_000)  # about 6 MB of pages
    during = native_memory()
    assert during["sqlite_mb"] >= before["sqlite_mb"] + 4
    assert during["heap_in_use_mb"] >= before["heap_in_use_mb"] + 4  # SQLite uses malloc
    db.close()
    assert native_memory()["sqlite_mb"] <= before["sqlite_mb"] + 1
