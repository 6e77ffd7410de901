"""Partial indexes for task assignees and SLA checks

Revision ID: 0008_partial_task_indexes
Revises: 0003_routing
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_partial_task_indexes"
down_revision: str | Sequence[str] | None = "0003_routing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (index, columns, the column that must be set for a task to be in the index)
PARTIAL = (
    ("ix_tasks_assignee_status", ["assignee_id", "status"], "assignee_id"),
    ("ix_tasks_ws_sla_next_check", ["workspace_id", "sla_next_check_at"], "sla_next_check_at"),
)


def upgrade() -> None:
    for name, columns, required in PARTIAL:
        where = sa.text(f"{required} IS NOT NULL")
        op.drop_index(name, table_name="tasks")
        op.create_index(
            name, "tasks", columns, unique=False, sqlite_where=where, postgresql_where=where
        )


def downgrade() -> None:
    for name, columns, _ in PARTIAL:
        op.drop_index(name, table_name="tasks")
        op.create_index(name, "tasks", columns, unique=False)
