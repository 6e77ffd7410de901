import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.db import make_engine
from socialdesk.core.models import Workspace


def test_datetimes_come_back_timezone_aware_utc(session_factory: sessionmaker[Session]) -> None:
    paris = timezone(timedelta(hours=1))
    with session_factory() as s:
        s.add(Workspace(slug="w", name="W", created_at=datetime(2026, 1, 1, 13, 0, tzinfo=paris)))
        s.commit()
    with session_factory() as s:
        stored = s.scalars(select(Workspace)).one().created_at
    assert stored == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert stored.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as s:
        s.add(Workspace(slug="w", name="W", created_at=datetime(2026, 1, 1)))
        with pytest.raises(StatementError, match="naive datetime"):
            s.commit()


def test_workspace_slugs_are_unique(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as s:
        s.add_all([Workspace(slug="w", name="A"), Workspace(slug="w", name="B")])
        with pytest.raises(IntegrityError):
            s.commit()


def test_an_embedded_database_writes_ahead_and_checkpoints_in_large_steps(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'socialdesk.sqlite3'}")
    try:
        with engine.connect() as connection:
            setting = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "wal_autocheckpoint", "journal_size_limit")
            }
    finally:
        engine.dispose()
    assert setting == {
        "journal_mode": "wal",
        "wal_autocheckpoint": 32_768,  # pages of 4 KB: 128 MB
        "journal_size_limit": 32 * 1024 * 1024,
    }


def test_an_embedded_database_binds_none_and_booleans_without_looking_for_adapters(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'socialdesk.sqlite3'}")
    try:
        # sqlite3 keys its adapters by (type, protocol); a registered one skips the lookup
        # that otherwise raises and discards an AttributeError for every such value bound.
        registered = {type_ for type_, _protocol in sqlite3.adapters}
        assert {type(None), bool} <= registered
        with engine.connect() as connection:
            stored = connection.exec_driver_sql(
                "SELECT ? IS NULL, typeof(?), ?, typeof(?), ?", (None, True, True, False, False)
            ).one()
    finally:
        engine.dispose()
    assert tuple(stored) == (1, "integer", 1, "integer", 0)


def test_sqlites_memory_stays_under_one_limit_for_all_connections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from sqlalchemy import text

    from socialdesk.core import db
    from socialdesk.ingest.soak_memory import native_memory

    # 12 MB of rows read through three connections, each allowed a 64 MB page cache: 36 MB
    # of cached pages without the process-wide limit, which a small one here must hold to.
    product_limit = db.SQLITE_MEMORY_LIMIT
    monkeypatch.setattr(db, "SQLITE_MEMORY_LIMIT", 8 * 1024 * 1024)
    engine = make_engine(f"sqlite:///{tmp_path / 'cache.sqlite3'}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x BLOB)"))
            conn.execute(
                text("INSERT INTO t VALUES (:x)"), [{"x": os.urandom(400)} for _ in range(30_000)]
            )
        held = [engine.connect() for _ in range(3)]
        for conn in held:
            conn.execute(text("SELECT sum(length(x)) FROM t")).one()
        used = native_memory()["sqlite_mb"]
        for conn in held:
            conn.close()
        assert used < 10, used
    finally:
        engine.dispose()
        with sqlite3.connect(":memory:") as restore:  # the limit is the whole process's
            restore.execute(f"PRAGMA soft_heap_limit={product_limit}")
