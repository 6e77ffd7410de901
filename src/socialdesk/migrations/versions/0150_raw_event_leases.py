"""Leases on raw events: which worker holds a pending event, and until when

Revision ID: 0150_raw_event_leases
Revises: 0080_compliance
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import socialdesk.core.db

revision: str = "0150_raw_event_leases"
down_revision: str | Sequence[str] | None = "0080_compliance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = socialdesk.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("raw_events") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("lease_until", UTC, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("raw_events") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("claimed_by")
