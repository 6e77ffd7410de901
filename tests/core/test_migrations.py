"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

import socialdesk.models  # noqa: F401  (registers every table)
from socialdesk.core.db import Base
from socialdesk.core.migrate import current_heads, upgrade


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_upgrading_again_is_a_no_op(engine: Engine) -> None:
    before = current_heads(engine)
    upgrade(engine)
    assert current_heads(engine) == before and before
