"""Test databases: the suite runs on SQLite, or on PostgreSQL with SOCIALDESK_TEST_DB=postgresql.

Each run gets a database of its own (a temporary SQLite file, or a freshly created
PostgreSQL database that is dropped afterwards), so parallel runs never collide. Tables are
emptied after every test. Where PostgreSQL or Redis is not reachable, tests that need them
skip with the reason, except under CI=true, where a missing service is a failure.
"""

from __future__ import annotations

import gc
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.db import Base, make_engine, make_session_factory
from socialdesk.core.migrate import upgrade
from socialdesk.core.models import Workspace


def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave without a last garbage collection: after a full run the heap holds hundreds of
    MB of finished tests' objects, and collecting them at exit took minutes on a busy
    machine. The process ends right after; the operating system frees it all."""
    gc.freeze()


PG_ADMIN_URL = os.environ.get(
    "SOCIALDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("SOCIALDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI requires this service)")
    pytest.skip(reason)


def _create_pg_database() -> tuple[Engine, str]:
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"socialdesk_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any connection failure means: no server here
        admin.dispose()
        _unavailable(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}")
    admin.dispose()
    url = make_engine(PG_ADMIN_URL).url.set(database=name)
    return make_engine(url.render_as_string(hide_password=False)), name


def _drop_pg_database(name: str) -> None:
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_tables(engine: Engine) -> None:
    """Delete every row and restart the ids (DELETE is far quicker than TRUNCATE on the
    small tables of a test)."""
    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.begin() as conn:
        for table in tables:
            conn.execute(table.delete())
        if engine.dialect.name == "postgresql":
            restarts = [
                f"setval(pg_get_serial_sequence('{t.name}', 'id'), 1, false)"
                for t in tables
                if "id" in t.c and t.c.id.primary_key and t.c.id.autoincrement is not False
            ]
            conn.execute(text("SELECT " + ", ".join(restarts)))


@pytest.fixture(scope="session")
def test_db_backend() -> str:
    return os.environ.get("SOCIALDESK_TEST_DB", "sqlite")


@pytest.fixture(scope="session")
def _session_engine(
    test_db_backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if test_db_backend == "postgresql":
        engine, name = _create_pg_database()
        upgrade(engine)
        yield engine
        engine.dispose()
        _drop_pg_database(name)
    else:
        path: Path = tmp_path_factory.mktemp("db") / "socialdesk.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        yield engine
        engine.dispose()


@pytest.fixture
def engine(_session_engine: Engine) -> Iterator[Engine]:
    """The suite's database (SQLite or PostgreSQL), emptied after each test."""
    yield _session_engine
    _empty_tables(_session_engine)


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s:
        yield s


@pytest.fixture
def workspace(session_factory: sessionmaker[Session]) -> Workspace:
    with session_factory() as s:
        ws = Workspace(slug="acme", name="Acme Telecom")
        s.add(ws)
        s.commit()
        return ws


@pytest.fixture(scope="session")
def _pg_session_engine() -> Iterator[Engine]:
    engine, name = _create_pg_database()
    upgrade(engine)
    yield engine
    engine.dispose()
    _drop_pg_database(name)


@pytest.fixture
def pg_engine(_pg_session_engine: Engine) -> Iterator[Engine]:
    """A PostgreSQL database whatever the suite's backend (for concurrency tests)."""
    yield _pg_session_engine
    _empty_tables(_pg_session_engine)


@pytest.fixture
def pg_factory(pg_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(pg_engine)


@pytest.fixture
def pg_workspace(pg_factory: sessionmaker[Session]) -> int:
    """A workspace's id in the PostgreSQL database of ``pg_engine``."""
    with pg_factory() as s:
        ws = Workspace(slug="acme", name="Acme")
        s.add(ws)
        s.commit()
        return ws.id


@pytest.fixture
def redis_url() -> str:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        _unavailable(f"Redis not reachable at {REDIS_URL}: {exc.__class__.__name__}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def cli_env(engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Point the `socialdesk` command (and get_settings) at the suite's database."""
    from socialdesk.config import get_settings

    monkeypatch.setenv("SOCIALDESK_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SOCIALDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SOCIALDESK_CONFIG_FILE", str(tmp_path / "absent.toml"))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
