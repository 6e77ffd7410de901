"""Pages of a listing: the shape every list endpoint returns, and its opaque cursors.

A list is read in a stable order (its sort key, then the id), and a page's ``next_cursor``
names where the next one starts: the sort key and id of the page's last row, encoded so a
client treats it as an opaque token. Passing it back as ``cursor`` reads on from there, so
rows added or removed meanwhile never shift a page (as an offset would). The older
``offset`` parameter still works where a list had it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict
from sqlalchemy import ColumnElement, and_, or_

from socialdesk.core.errors import InvalidInput

T = TypeVar("T")
R = TypeVar("R")

MAX_CURSOR = 500
CursorParam = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR,
        description="The next_cursor of the page before (leave out for the first page)",
    ),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="How many items match the filters, over all pages")
    limit: int
    offset: int = Field(default=0, description="Where an offset-read page starts (0 by cursor)")
    next_cursor: str | None = Field(
        default=None, description="Pass as ?cursor= for the next page; null on the last page"
    )


def examples(*cases: JsonDict) -> ConfigDict:
    """A model's examples, shown with every operation that takes or returns it."""
    return ConfigDict(json_schema_extra={"examples": list(cases)})


def _plain(value: Any) -> Any:
    return {"t": value.isoformat()} if isinstance(value, datetime) else value


def _typed(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"t"} and isinstance(value["t"], str):
        return datetime.fromisoformat(value["t"])
    return value


def encode_cursor(*key: Any) -> str:
    """The opaque token for the position after a row with this sort key (ints, floats,
    strings, None, datetimes)."""
    raw = json.dumps([_plain(v) for v in key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> tuple[Any, ...]:
    """The sort key a cursor names; a token this API did not give is refused (400)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != arity:
            raise ValueError("wrong shape")
        key = tuple(_typed(v) for v in values)
    except (ValueError, binascii.Error, UnicodeDecodeError, TypeError):
        raise InvalidInput("the cursor is not one this list gave (start without it)") from None
    for value in key:
        if value is not None and not isinstance(value, int | float | str | datetime):
            raise InvalidInput("the cursor is not one this list gave (start without it)")
    return key


def page_by_id(
    rows: Sequence[R],
    *,
    cursor: str | None,
    limit: int,
    id_of: Callable[[R], int],
    out: Callable[[R], T],
) -> Page[T]:
    """A page of a short list (a workspace's teams, agents, canned replies ...) read in id
    order: the cursor holds the last id seen."""
    ordered = sorted(rows, key=id_of)
    after = None
    if cursor is not None:
        (after,) = decode_cursor(cursor, 1)
        if not isinstance(after, int):
            raise InvalidInput("the cursor is not one this list gave (start without it)")
    rest = [r for r in ordered if after is None or id_of(r) > after]
    chunk = rest[:limit]
    more = len(rest) > limit
    return Page(
        items=[out(r) for r in chunk],
        total=len(ordered),
        limit=limit,
        next_cursor=encode_cursor(id_of(chunk[-1])) if more and chunk else None,
    )


NEXT_CURSOR_HEADER = "X-Next-Cursor"
# Lists that answer with a bare array (they did before cursors came) tell the next page's
# cursor in a header, so their shape stays as clients know it.
NEXT_CURSOR_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            NEXT_CURSOR_HEADER: {
                "description": "The cursor of the next page (absent on the last page)",
                "schema": {"type": "string"},
            }
        }
    }
}


def list_by_id(
    response: Response,
    rows: Sequence[R],
    *,
    cursor: str | None,
    limit: int,
    id_of: Callable[[R], int],
    out: Callable[[R], T],
) -> list[T]:
    """``page_by_id`` for a list answered as a bare array: the cursor of the next page goes
    in the ``X-Next-Cursor`` header."""
    page = page_by_id(rows, cursor=cursor, limit=limit, id_of=id_of, out=out)
    if page.next_cursor is not None:
        response.headers[NEXT_CURSOR_HEADER] = page.next_cursor
    return page.items


def after_key(
    columns: Sequence[Any], key: Sequence[Any], *, descending: bool
) -> ColumnElement[bool]:
    """The rows that come after ``key`` in the order of ``columns`` (all ascending or all
    descending): a keyset condition, so a page costs the same however deep it is."""
    condition: ColumnElement[bool] | None = None
    for column, value in reversed(list(zip(columns, key, strict=True))):
        beyond = column < value if descending else column > value
        condition = beyond if condition is None else or_(beyond, and_(column == value, condition))
    assert condition is not None
    return condition


def read_on(cursor: str | None, offset: int, arity: int) -> tuple[Any, ...] | None:
    """The key a list reads on from: a cursor's, or none (from the start, or an offset)."""
    if cursor is None:
        return None
    if offset:
        raise InvalidInput("give a cursor or an offset, not both")
    return decode_cursor(cursor, arity)


def keyset_page(
    rows: Sequence[R],
    *,
    total: int,
    limit: int,
    offset: int,
    key: Callable[[R], Sequence[Any]],
    out: Callable[[R], T],
) -> Page[T]:
    """A page from up to ``limit + 1`` rows read in the list's order (one more than shown
    says whether a next page exists); its cursor is the sort key of the last row shown."""
    chunk = list(rows[:limit])
    more = len(rows) > limit
    return Page(
        items=[out(r) for r in chunk],
        total=total,
        limit=limit,
        offset=offset,
        next_cursor=encode_cursor(*key(chunk[-1])) if more and chunk else None,
    )


def keyset_list(
    response: Response,
    rows: Sequence[R],
    *,
    limit: int,
    key: Callable[[R], Sequence[Any]],
    out: Callable[[R], T],
) -> list[T]:
    """``keyset_page`` for a list answered as a bare array (the cursor in ``X-Next-Cursor``)."""
    page = keyset_page(rows, total=0, limit=limit, offset=0, key=key, out=out)
    if page.next_cursor is not None:
        response.headers[NEXT_CURSOR_HEADER] = page.next_cursor
    return page.items


def time_and_id(cursor: str | None) -> tuple[Any, ...] | None:
    """The (time, id) a cursor of a list in time order holds (a forged one is refused)."""
    after = read_on(cursor, 0, 2)
    if after is not None and not (isinstance(after[0], datetime) and isinstance(after[1], int)):
        raise InvalidInput("the cursor is not one this list gave (start without it)")
    return after
