"""Handle claims: the unique key that makes matching by handle race-free across workers

Revision ID: 0210_handle_claims
Revises: 0160_persons
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0210_handle_claims"
down_revision: str | Sequence[str] | None = "0160_persons"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "handle_claims",
        sa.Column("workspace_id", BIG_ID, nullable=False),
        sa.Column("handle_key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_handle_claims_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("workspace_id", "handle_key", name=op.f("pk_handle_claims")),
    )


def downgrade() -> None:
    op.drop_table("handle_claims")
