"""Workspace scoping of queries that find their rows by key."""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute


def workspace_check(
    column: InstrumentedAttribute[int] | ColumnElement[int], workspace_id: int
) -> ColumnElement[bool]:
    """``column = workspace_id`` as a check on rows found by their primary or unique key,
    never as the way to find them.

    Without statistics SQLite prefers an index that starts with workspace_id to a list of
    keys, and on a one-brand install such an index holds every row: looking up a batch's
    2,000 triage results walked all of them, slower with every batch stored. Adding 0 keeps
    the column out of SQLite's choice of index (its documented way to do so); PostgreSQL
    plans by statistics and reads the keys either way."""
    return (column + 0) == workspace_id
