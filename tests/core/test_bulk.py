"""Bulk writes through the driver read back exactly as the ORM would have written them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Table, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.bulk import JsonText, bulk_insert, bulk_update
from socialdesk.core.models import Workspace

WORKSPACES: Table = Workspace.__table__  # type: ignore[assignment]


def test_datetimes_and_documents_round_trip(session_factory: sessionmaker[Session]) -> None:
    paris = timezone(timedelta(hours=1))
    rows = [
        {
            "id": 1,
            "slug": "a",
            "name": "A",
            "settings": {"tz": "Europe/Paris", "n": [1, 2]},
            "created_at": datetime(2026, 1, 1, 13, 0, 5, 7, tzinfo=paris),
        },
        {
            "id": 2,
            "slug": "b",
            "name": "B",
            "settings": JsonText('{"ready": true}'),
            "created_at": datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
        },
        {
            "id": 3,
            "slug": "c",
            "name": "C",
            "settings": {},
            "created_at": datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
        },
    ]
    with session_factory() as s:
        bulk_insert(s, WORKSPACES, rows)
        bulk_update(s, WORKSPACES, [{"id": 3, "name": "C2"}])
        s.commit()
    with session_factory() as s:
        stored = {w.slug: w for w in s.scalars(select(Workspace))}
    assert stored["a"].created_at == datetime(2026, 1, 1, 12, 0, 5, 7, tzinfo=UTC)
    assert stored["a"].settings == {"tz": "Europe/Paris", "n": [1, 2]}
    assert stored["b"].settings == {"ready": True}
    assert (stored["c"].settings, stored["c"].name) == ({}, "C2")
    assert stored["b"].created_at == stored["c"].created_at


def test_naive_datetimes_are_refused(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as s, pytest.raises(ValueError, match="naive datetime"):
        bulk_insert(
            s,
            WORKSPACES,
            [
                {
                    "id": 1,
                    "slug": "a",
                    "name": "A",
                    "settings": {},
                    "created_at": datetime(2026, 1, 1),
                }
            ],
        )


def test_conflicting_rows_can_be_skipped(session_factory: sessionmaker[Session]) -> None:
    row = {"slug": "a", "name": "A", "settings": {}, "created_at": datetime(2026, 1, 1, tzinfo=UTC)}
    with session_factory() as s:
        bulk_insert(s, WORKSPACES, [{"id": 1, **row}])
        bulk_insert(s, WORKSPACES, [{"id": 2, **row}], skip_conflicts_on=("slug",))
        s.commit()
        assert s.scalars(select(Workspace.id)).all() == [1]
