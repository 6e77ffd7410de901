"""Upgrading a database whose users are one account per workspace: one person per e-mail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine

from socialdesk.core.db import BigId, JsonData, UTCDateTime, make_engine
from socialdesk.core.migrate import alembic_config, upgrade
from socialdesk.web.auth import hash_password, verify_password
from tests.conftest import _create_pg_database, _drop_pg_database

WORKSPACES = sa.table(
    "workspaces",
    sa.column("id", BigId),
    sa.column("slug", sa.String()),
    sa.column("name", sa.String()),
    sa.column("settings", JsonData),
    sa.column("created_at", UTCDateTime()),
)
OLD_USERS = sa.table(
    "users",
    sa.column("id", BigId),
    sa.column("workspace_id", BigId),
    sa.column("email", sa.String()),
    sa.column("name", sa.String()),
    sa.column("password_hash", sa.String()),
    sa.column("role", sa.String()),
    sa.column("is_active", sa.Boolean()),
    sa.column("created_at", UTCDateTime()),
)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database of its own, with no schema yet."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
        yield engine
        engine.dispose()
        return
    engine, name = _create_pg_database()
    try:
        yield engine
    finally:
        engine.dispose()
        _drop_pg_database(name)


def _at(month: int) -> datetime:
    return datetime(2026, month, 1, tzinfo=UTC)


def test_accounts_of_one_email_become_one_person_with_the_oldest_password(
    empty_engine: Engine,
) -> None:
    config = alembic_config(empty_engine)
    with empty_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006_web")  # users still carry their own password
    first, second = hash_password("first password"), hash_password("second password")
    with empty_engine.begin() as c:
        c.execute(
            WORKSPACES.insert(),
            [
                {"id": 1, "slug": "acme", "name": "Acme", "settings": {}, "created_at": _at(1)},
                {"id": 2, "slug": "globex", "name": "Globex", "settings": {}, "created_at": _at(1)},
            ],
        )
        user = {"name": "x", "role": "agent", "is_active": True}
        c.execute(
            OLD_USERS.insert(),
            [
                {
                    **user,
                    "id": 1,
                    "workspace_id": 2,
                    "email": "Olga@Outsource.test",
                    "password_hash": second,
                    "created_at": _at(3),
                },
                {
                    **user,
                    "id": 2,
                    "workspace_id": 1,
                    "email": "olga@outsource.test",
                    "password_hash": first,
                    "created_at": _at(2),
                },
                {
                    **user,
                    "id": 3,
                    "workspace_id": 1,
                    "email": "ana@acme.test",
                    "password_hash": None,
                    "created_at": _at(2),
                },
            ],
        )
    upgrade(empty_engine)
    with empty_engine.connect() as c:
        persons = {
            email: (person_id, password_hash)
            for person_id, email, password_hash in c.execute(
                sa.text("SELECT id, email, password_hash FROM persons")
            )
        }
        links = {
            int(user_id): person_id
            for user_id, person_id in c.execute(sa.text("SELECT id, person_id FROM users"))
        }
    columns = {col["name"] for col in sa.inspect(empty_engine).get_columns("users")}
    assert set(persons) == {"olga@outsource.test", "ana@acme.test"}
    olga_id, olga_hash = persons["olga@outsource.test"]
    assert links[1] == links[2] == olga_id and links[3] == persons["ana@acme.test"][0]
    assert verify_password(olga_hash, "first password")  # the oldest account's
    assert persons["ana@acme.test"][1] is None
    assert "password_hash" not in columns  # no copy of a password is left behind
