"""triage: results per message, versioned models, labels

Revision ID: 0002_triage
Revises: 0001_foundation
Create Date: 2026-11-23 16:38:16.838525
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import socialdesk.core.db

revision: str = "0002_triage"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "triage_models",
        sa.Column("id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False
        ),
        sa.Column("task", sa.String(length=32), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "classes",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.Column(
            "metrics",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "training",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", socialdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("activated_at", socialdesk.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_triage_models_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_models")),
        sa.UniqueConstraint(
            "workspace_id",
            "task",
            "tier",
            "version",
            name=op.f("uq_triage_models_workspace_id_task_tier_version"),
        ),
    )
    with op.batch_alter_table("triage_models", schema=None) as batch_op:
        batch_op.create_index(
            "ix_triage_models_ws_task_active", ["workspace_id", "task", "active"], unique=False
        )

    op.create_table(
        "triage_labels",
        sa.Column("id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False
        ),
        sa.Column("task", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column(
            "message_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=True
        ),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", socialdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_triage_labels_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_triage_labels_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_triage_labels_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_labels")),
        sa.UniqueConstraint(
            "workspace_id", "task", "key", name=op.f("uq_triage_labels_workspace_id_task_key")
        ),
    )
    with op.batch_alter_table("triage_labels", schema=None) as batch_op:
        batch_op.create_index(
            "ix_triage_labels_ws_task_created", ["workspace_id", "task", "created_at"], unique=False
        )

    op.create_table(
        "triage_results",
        sa.Column("id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False
        ),
        sa.Column(
            "message_id", sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("kind_confidence", sa.Float(), nullable=False),
        sa.Column("needs_response", sa.Float(), nullable=False),
        sa.Column("route_to", sa.String(length=16), nullable=False),
        sa.Column("sentiment", sa.String(length=16), nullable=False),
        sa.Column("sentiment_score", sa.Float(), nullable=False),
        sa.Column("sentiment_confidence", sa.Float(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=True),
        sa.Column("topic_confidence", sa.Float(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("language_confidence", sa.Float(), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column(
            "signals",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "explanation",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "model_versions",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("corrected", sa.Boolean(), nullable=False),
        sa.Column("created_at", socialdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", socialdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_triage_results_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_triage_results_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_results")),
        sa.UniqueConstraint("message_id", name=op.f("uq_triage_results_message_id")),
    )
    with op.batch_alter_table("triage_results", schema=None) as batch_op:
        batch_op.create_index("ix_triage_results_ws_kind", ["workspace_id", "kind"], unique=False)
        batch_op.create_index(
            "ix_triage_results_ws_severity", ["workspace_id", "severity"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("triage_results", schema=None) as batch_op:
        batch_op.drop_index("ix_triage_results_ws_severity")
        batch_op.drop_index("ix_triage_results_ws_kind")

    op.drop_table("triage_results")
    with op.batch_alter_table("triage_labels", schema=None) as batch_op:
        batch_op.drop_index("ix_triage_labels_ws_task_created")

    op.drop_table("triage_labels")
    with op.batch_alter_table("triage_models", schema=None) as batch_op:
        batch_op.drop_index("ix_triage_models_ws_task_active")

    op.drop_table("triage_models")
