"""Bulk reads and writes through the driver agree with what the ORM writes and reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Table, select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.bulk import (
    SQLITE_IN_CHUNK,
    JsonText,
    bulk_insert,
    bulk_update,
    datetime_converter,
    datetime_param,
    execute_in,
    insert_prepared,
    utc_from_db,
)
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
        assert bulk_insert(s, WORKSPACES, [{"id": 1, **row}]) == 1
        second = [{"id": 2, **row}, {"id": 3, **row, "slug": "b"}]
        assert bulk_insert(s, WORKSPACES, second, skip_conflicts_on=("slug",)) == 1
        s.commit()
        assert s.scalars(select(Workspace.id)).all() == [1, 3]


def test_prepared_rows_are_stored_as_the_orm_reads_them(
    session_factory: sessionmaker[Session],
) -> None:
    paris = timezone(timedelta(hours=1))
    columns = ("id", "slug", "name", "settings", "created_at")
    with session_factory() as s:
        to_db = datetime_converter(s)
        rows = [
            (1, "a", "A", '{"tz": "Europe/Paris"}', to_db(datetime(2026, 1, 1, 13, tzinfo=paris))),
            (2, "b", "B", "{}", to_db(datetime(2026, 1, 1, 12, 30, tzinfo=UTC))),
        ]
        assert insert_prepared(s, WORKSPACES, columns, rows) == 2
        again = [(3, "a", "A again", "{}", to_db(datetime(2026, 1, 2, tzinfo=UTC)))]
        assert insert_prepared(s, WORKSPACES, columns, again, skip_conflicts_on=("slug",)) == 0
        assert insert_prepared(s, WORKSPACES, columns, []) == 0
        s.commit()
    with session_factory() as s:
        stored = {w.slug: w for w in s.scalars(select(Workspace))}
    assert sorted(stored) == ["a", "b"]
    assert stored["a"].created_at == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert (stored["a"].name, stored["a"].settings) == ("A", {"tz": "Europe/Paris"})
    assert stored["b"].settings == {}


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 1, 1, 12, 30, 5, 123456, tzinfo=UTC),
        datetime(2026, 1, 1, 12, 30, tzinfo=UTC),  # no fraction of a second
        datetime(2026, 1, 1, 0, 30, 0, 5, tzinfo=timezone(timedelta(hours=2))),  # the day before
        datetime(999, 3, 4, 5, 6, 7, tzinfo=UTC),
    ],
)
def test_converted_datetimes_are_stored_exactly_as_the_orm_stores_them(
    session_factory: sessionmaker[Session], at: datetime
) -> None:
    with session_factory() as s:
        s.add(Workspace(id=1, slug="orm", name="ORM", created_at=at))
        s.flush()
        columns = ("id", "slug", "name", "settings", "created_at")
        insert_prepared(
            s, WORKSPACES, columns, [(2, "bulk", "Bulk", "{}", datetime_converter(s)(at))]
        )
        stored = (
            s.connection().exec_driver_sql("SELECT created_at FROM workspaces ORDER BY id").all()
        )
    assert stored[0] == stored[1]


def test_the_datetime_converter_refuses_naive_datetimes(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as s, pytest.raises(ValueError, match="naive datetime"):
        datetime_converter(s)(datetime(2026, 1, 1))


def _workspaces(count: int) -> list[dict[str, object]]:
    return [
        {
            "id": i,
            "slug": f"w{i}",
            "name": f"W{i % 3}",
            "settings": {},
            "created_at": datetime(2026, 1, 1, 12, 0, i % 60, tzinfo=UTC),
        }
        for i in range(1, count + 1)
    ]


def test_reads_by_a_value_list_longer_than_sqlites_parameter_limit(
    session_factory: sessionmaker[Session],
) -> None:
    count = SQLITE_IN_CHUNK + 50
    with session_factory() as s:
        bulk_insert(s, WORKSPACES, _workspaces(count))
        wanted = list(range(0, count + 10, 2))  # some ids that exist, some that do not
        rows = execute_in(
            s,
            "SELECT id, slug, created_at FROM workspaces WHERE name = ? AND id IN ({values})",
            ("W1",),
            wanted,
        )
    expected = {i for i in range(1, count + 1) if i % 2 == 0 and i % 3 == 1}
    assert {row.id for row in rows} == expected
    first = min(rows, key=lambda row: row.id)
    assert first.slug == f"w{first.id}"
    assert utc_from_db(first.created_at) == datetime(2026, 1, 1, 12, 0, first.id % 60, tzinfo=UTC)


def test_updates_by_a_value_list_and_an_empty_list_does_nothing(
    session_factory: sessionmaker[Session],
) -> None:
    renamed_at = datetime(2026, 2, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    with session_factory() as s:
        bulk_insert(s, WORKSPACES, _workspaces(5))
        sql = "UPDATE workspaces SET name = ?, created_at = ? WHERE id IN ({values})"
        assert execute_in(s, sql, ("renamed", datetime_param(s, renamed_at)), [2, 4, 4]) == []
        assert execute_in(s, sql, ("never", datetime_param(s, renamed_at)), []) == []
        s.commit()
        stored = {w.id: w for w in s.scalars(select(Workspace))}
    assert [i for i, w in stored.items() if w.name == "renamed"] == [2, 4]
    assert stored[2].created_at == datetime(2026, 2, 1, 7, 30, tzinfo=UTC)


def test_driver_datetimes_are_read_as_utc() -> None:
    assert utc_from_db(None) is None
    assert utc_from_db("2026-01-01 12:00:05.000007") == datetime(
        2026, 1, 1, 12, 0, 5, 7, tzinfo=UTC
    )
    assert utc_from_db(datetime(2026, 1, 1, 12)) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    paris = datetime(2026, 1, 1, 13, tzinfo=timezone(timedelta(hours=1)))
    assert utc_from_db(paris) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert utc_from_db(paris).tzinfo is UTC  # type: ignore[union-attr]
