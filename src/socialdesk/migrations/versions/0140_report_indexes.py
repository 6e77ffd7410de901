"""Reports read messages and cases by time within a workspace

Revision ID: 0140_report_indexes
Revises: 0060_message_revisions
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0140_report_indexes"
down_revision: str | Sequence[str] | None = "0060_message_revisions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_messages_ws_created", "messages", ["workspace_id", "created_at"])
    op.create_index(
        "ix_conversations_ws_first_message", "conversations", ["workspace_id", "first_message_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_ws_first_message", table_name="conversations")
    op.drop_index("ix_messages_ws_created", table_name="messages")
