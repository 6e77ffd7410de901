"""Cases are found by the case they were folded into

Deleting cases (retention) makes the database look for cases folded into each one; without
an index that is a scan of every case per deleted case.

Revision ID: 0141_merged_case_index
Revises: 0140_report_indexes
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0141_merged_case_index"
down_revision: str | Sequence[str] | None = "0140_report_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_conversations_merged_into_id", "conversations", ["merged_into_id"])


def downgrade() -> None:
    op.drop_index("ix_conversations_merged_into_id", table_name="conversations")
