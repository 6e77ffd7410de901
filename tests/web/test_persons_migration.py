"""Upgrading a database whose users are one account per workspace: one person per e-mail."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from socialdesk.core.db import make_engine
from socialdesk.core.migrate import alembic_config, upgrade
from socialdesk.web.auth import hash_password, verify_password


def test_accounts_of_one_email_become_one_person_with_the_oldest_password(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        config = alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0006_web")  # users still carry their own password
        first, second = hash_password("first password"), hash_password("second password")
        with engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO workspaces (id, slug, name, settings, created_at) VALUES "
                    "(1, 'acme', 'Acme', '{}', '2026-01-01 00:00:00'),"
                    "(2, 'globex', 'Globex', '{}', '2026-01-01 00:00:00')"
                )
            )
            rows = [
                (1, 2, "Olga@Outsource.test", second, "2026-03-01 00:00:00"),
                (2, 1, "olga@outsource.test", first, "2026-02-01 00:00:00"),
                (3, 1, "ana@acme.test", None, "2026-02-01 00:00:00"),
            ]
            for user_id, ws, email, password_hash, created in rows:
                c.execute(
                    text(
                        "INSERT INTO users (id, workspace_id, email, name, password_hash, role,"
                        " is_active, created_at)"
                        " VALUES (:id, :ws, :email, 'x', :hash, 'agent', 1, :created)"
                    ),
                    {
                        "id": user_id,
                        "ws": ws,
                        "email": email,
                        "hash": password_hash,
                        "created": created,
                    },
                )
        upgrade(engine)
        with engine.connect() as c:
            persons = {
                email: (person_id, password_hash)
                for person_id, email, password_hash in c.execute(
                    text("SELECT id, email, password_hash FROM persons")
                )
            }
            links = {
                int(user_id): person_id
                for user_id, person_id in c.execute(text("SELECT id, person_id FROM users"))
            }
            columns = [row[1] for row in c.execute(text("PRAGMA table_info(users)"))]
        assert set(persons) == {"olga@outsource.test", "ana@acme.test"}
        olga_id, olga_hash = persons["olga@outsource.test"]
        assert links[1] == links[2] == olga_id and links[3] == persons["ana@acme.test"][0]
        assert verify_password(olga_hash, "first password")  # the oldest account's
        assert persons["ana@acme.test"][1] is None
        assert "password_hash" not in columns  # no copy of a password is left behind
    finally:
        engine.dispose()
