"""Persons: one sign-in (e-mail, password) shared by a person's memberships of workspaces

Revision ID: 0160_persons
Revises: 0006_web

Each distinct e-mail of ``users`` becomes one person. Where one e-mail had accounts with
different passwords in several workspaces, the person keeps the password of the oldest
account (by creation time) that had one.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import socialdesk.core.db

revision: str = "0160_persons"
down_revision: str | Sequence[str] | None = "0006_web"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.INTEGER(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "persons",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=400), nullable=True),
        sa.Column("created_at", socialdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("email", name=op.f("uq_persons_email")),
    )
    if op.get_bind().dialect.name == "sqlite":
        # A column with a reference is added in place; a batch copy of ``users`` would trip
        # the references other tables hold to it.
        op.execute(
            "ALTER TABLE users ADD COLUMN person_id INTEGER "
            "CONSTRAINT fk_users_person_id_persons REFERENCES persons (id)"
        )
    else:
        op.add_column("users", sa.Column("person_id", BIG_ID, nullable=True))
        op.create_foreign_key(
            op.f("fk_users_person_id_persons"), "users", "persons", ["person_id"], ["id"]
        )
    op.create_index(op.f("ix_users_person_id"), "users", ["person_id"], unique=False)
    _one_person_per_email()
    op.drop_column("users", "password_hash")


def _one_person_per_email() -> None:
    bind = op.get_bind()
    users = sa.table(
        "users",
        sa.column("id", BIG_ID),
        sa.column("email", sa.String()),
        sa.column("password_hash", sa.String()),
        sa.column("created_at", socialdesk.core.db.UTCDateTime(timezone=True)),
    )
    rows = bind.execute(
        sa.select(users.c.id, users.c.email, users.c.password_hash, users.c.created_at).order_by(
            users.c.created_at, users.c.id
        )
    ).all()
    persons: dict[str, tuple[str | None, object, list[int]]] = {}
    for user_id, email, password_hash, created_at in rows:
        key = email.strip().lower()
        found = persons.get(key)
        if found is None:
            persons[key] = (password_hash, created_at, [user_id])
        else:
            kept = found[0] if found[0] is not None else password_hash
            persons[key] = (kept, found[1], [*found[2], user_id])
    table = sa.table(
        "persons",
        sa.column("id", BIG_ID),
        sa.column("email", sa.String()),
        sa.column("password_hash", sa.String()),
        sa.column("created_at", socialdesk.core.db.UTCDateTime(timezone=True)),
    )
    for email, (password_hash, created_at, user_ids) in persons.items():
        person_id = bind.execute(
            table.insert()
            .values(email=email, password_hash=password_hash, created_at=created_at)
            .returning(table.c.id)
        ).scalar_one()
        bind.execute(
            sa.text("UPDATE users SET person_id = :p WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"p": person_id, "ids": user_ids},
        )


def downgrade() -> None:
    op.add_column("users", sa.Column("password_hash", sa.String(length=400), nullable=True))
    op.execute(
        "UPDATE users SET password_hash = "
        "(SELECT persons.password_hash FROM persons WHERE persons.id = users.person_id)"
    )
    op.drop_index(op.f("ix_users_person_id"), table_name="users")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_users_person_id_persons"), type_="foreignkey")
        batch_op.drop_column("person_id")
    op.drop_table("persons")
