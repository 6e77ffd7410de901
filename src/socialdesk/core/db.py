"""Database engine, sessions and the declarative base shared by every domain's models."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from socialdesk.core.clock import as_utc

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets 64-bit keys.
BigId = BigInteger().with_variant(sqlite.INTEGER(), "sqlite")
JsonData = JSON().with_variant(postgresql.JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; socialdesk stores UTC-aware datetimes only")
        value = as_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


WAL_CHECKPOINT_PAGES = 32_768  # of 4 KB
WAL_KEPT_BYTES = 32 * 1024 * 1024
CACHE_KIB = 65_536  # each connection's page cache at the most
# All of SQLite's memory in the process (every connection's page cache together): past it,
# a connection reuses its own least recently used pages instead of taking more. Without it
# the bound is CACHE_KIB per pooled connection (the web process, the routing thread, the
# workers' pool), several hundred MB, and a soak's RSS kept growing while the caches filled.
SQLITE_MEMORY_LIMIT = 64 * 1024 * 1024


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    # A limit for the whole process (SQLite keeps one), set again with each connection.
    cursor.execute(f"PRAGMA soft_heap_limit={SQLITE_MEMORY_LIMIT}")
    # Checkpoint the write-ahead log less often (at 128 MB): a page that several bulk batches
    # change in a row is written back to the database once. After a checkpoint the log file
    # is cut back to 32 MB, so a quiet database does not keep the whole 128 MB on disk.
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
    cursor.execute(f"PRAGMA journal_size_limit={WAL_KEPT_BYTES}")
    cursor.close()


def _null(_value: None) -> None:
    return None


def register_plain_value_adapters() -> None:
    """Bind None and booleans straight, as sqlite3 binds int, float, str and bytes.

    For any other value, sqlite3 looks for an adapter on every bind, and when it finds none
    it raises and discards an AttributeError. A bulk batch binds a None or a boolean about
    ten times per message (empty times, missing emails, flags), so that failed lookup alone
    cost a few percent of ingestion. The adapters change nothing that is stored: None is
    still NULL and a boolean still the integer 0 or 1. sqlite3 keeps adapters per process.
    """
    sqlite3.register_adapter(type(None), _null)
    sqlite3.register_adapter(bool, int)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; an embedded SQLite file gets its directory and WAL mode."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        register_plain_value_adapters()
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The owner of a unit of work commits; services only flush (DESIGN.md rule 3)."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
