"""routing: agent presence, skills, capacity; task SLA fields; assignments, policies

Revision ID: 0003_routing
Revises: 0001_foundation
Create Date: 2026-11-23 16:30:53.972707
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import socialdesk.core.db

revision: str = "0003_routing"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "workspace_policies",
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False
        ),
        sa.Column(
            "value", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("sla", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column(
            "routing", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "business_hours",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", socialdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_workspace_policies_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_workspace_policies")),
    )
    op.create_table(
        "routing_notifications",
        sa.Column("id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False
        ),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=True),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column(
            "detail", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("created_at", socialdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", socialdesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_routing_notifications_task_id_tasks")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_routing_notifications_team_id_teams")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_routing_notifications_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_routing_notifications_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_notifications")),
    )
    with op.batch_alter_table("routing_notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_routing_notifications_ws_created", ["workspace_id", "created_at"], unique=False
        )

    op.create_table(
        "task_assignments",
        sa.Column("id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False
        ),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=True
        ),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("assigned_at", socialdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("released_at", socialdesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_task_assignments_task_id_tasks")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_task_assignments_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_task_assignments_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_assignments")),
    )
    with op.batch_alter_table("task_assignments", schema=None) as batch_op:
        batch_op.create_index("ix_task_assignments_task", ["task_id"], unique=False)
        batch_op.create_index(
            "ix_task_assignments_ws_customer",
            ["workspace_id", "customer_id", "assigned_at"],
            unique=False,
        )

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("topic", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("customer_tier", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column(
                "last_agent_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "avoid_agent_id",
                sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "sla_started_at", socialdesk.core.db.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("sla_target_seconds", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("sla_paused_at", socialdesk.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("sla_paused_seconds", sa.Float(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("sla_state", sa.String(length=16), server_default="ok", nullable=False)
        )
        batch_op.add_column(
            sa.Column("sla_warning_level", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "sla_next_check_at", socialdesk.core.db.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("breached_at", socialdesk.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("breach_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_index(
            "ix_tasks_ws_sla_next_check", ["workspace_id", "sla_next_check_at"], unique=False
        )
        batch_op.create_index("ix_tasks_ws_updated", ["workspace_id", "updated_at"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("presence", sa.String(length=16), server_default="offline", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "presence_changed_at", socialdesk.core.db.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "languages",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                server_default="[]",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "topics",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                server_default="[]",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "tiers",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                server_default="[]",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "capacity",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                server_default="{}",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "last_assigned_at", socialdesk.core.db.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("last_assigned_at")
        batch_op.drop_column("capacity")
        batch_op.drop_column("tiers")
        batch_op.drop_column("topics")
        batch_op.drop_column("languages")
        batch_op.drop_column("presence_changed_at")
        batch_op.drop_column("presence")

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_ws_updated")
        batch_op.drop_index("ix_tasks_ws_sla_next_check")
        batch_op.drop_column("breach_count")
        batch_op.drop_column("breached_at")
        batch_op.drop_column("sla_next_check_at")
        batch_op.drop_column("sla_warning_level")
        batch_op.drop_column("sla_state")
        batch_op.drop_column("sla_paused_seconds")
        batch_op.drop_column("sla_paused_at")
        batch_op.drop_column("sla_target_seconds")
        batch_op.drop_column("sla_started_at")
        batch_op.drop_column("avoid_agent_id")
        batch_op.drop_column("last_agent_id")
        batch_op.drop_column("customer_tier")
        batch_op.drop_column("topic")
        batch_op.drop_column("language")
        batch_op.drop_column("kind")

    with op.batch_alter_table("task_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_task_assignments_ws_customer")
        batch_op.drop_index("ix_task_assignments_task")

    op.drop_table("task_assignments")
    with op.batch_alter_table("routing_notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_routing_notifications_ws_created")

    op.drop_table("routing_notifications")
    op.drop_table("workspace_policies")
