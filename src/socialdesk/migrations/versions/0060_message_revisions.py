"""Messages remember the platform's edits and removals

Revision ID: 0060_message_revisions
Revises: 0001_foundation
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import socialdesk.core.db

revision: str = "0060_message_revisions"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(
            sa.Column("edited_at", socialdesk.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("original_text", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("removed_at", socialdesk.core.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("removed_at")
        batch.drop_column("original_text")
        batch.drop_column("edited_at")
