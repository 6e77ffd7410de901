"""The audit log, the erasure mark on customers, the pruning mark on raw events

Revision ID: 0080_compliance
Revises: 0001_foundation
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import socialdesk.core.db

revision: str = "0080_compliance"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.INTEGER(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTC = socialdesk.core.db.UTCDateTime(timezone=True)

# Append-only: the database itself refuses to change a recorded event.
_PG_GUARD = """
CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
"""
_SQLITE_GUARD = """
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only');
END;
"""


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("workspace_id", BIG_ID, nullable=False),
        sa.Column("actor", sa.String(length=400), nullable=False),
        sa.Column("actor_user_id", BIG_ID, nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=False),
        sa.Column("before", JSON, nullable=False),
        sa.Column("after", JSON, nullable=False),
        sa.Column("client", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_audit_events_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(
        "ix_audit_events_ws_created", "audit_events", ["workspace_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_audit_events_ws_action", "audit_events", ["workspace_id", "action"], unique=False
    )
    guard = _PG_GUARD if op.get_bind().dialect.name == "postgresql" else _SQLITE_GUARD
    op.execute(guard)
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("erased_at", UTC, nullable=True))
    with op.batch_alter_table("raw_events") as batch:
        batch.add_column(sa.Column("pruned_at", UTC, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("raw_events") as batch:
        batch.drop_column("pruned_at")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("erased_at")
    op.drop_index("ix_audit_events_ws_action", table_name="audit_events")
    op.drop_index("ix_audit_events_ws_created", table_name="audit_events")
    op.drop_table("audit_events")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
