"""What the databases can hold: integer ranges and storable text, checked at the edge.

PostgreSQL's ``bigint`` and SQLite's INTEGER are signed 64-bit, so a larger number in an id,
an offset or a follower count cannot be compared or stored. PostgreSQL's ``text`` and
``jsonb`` cannot hold the NUL character, and no database driver can encode a lone UTF-16
surrogate (``"\\ud83d"`` without its pair) as UTF-8. Inputs are checked against these limits
where they enter, so a bad one is refused with its reason (or cleaned) instead of failing
deep inside a transaction.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field

MAX_DB_INT = 2**63 - 1
# A stored id, or any count that is kept in a 64-bit column.
DbInt = Annotated[int, Field(ge=-MAX_DB_INT, le=MAX_DB_INT)]
DbId = Annotated[int, Field(ge=1, le=MAX_DB_INT)]

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def has_unstorable(text: str) -> bool:
    return _UNSTORABLE.search(text) is not None


def storable_text(text: str) -> str:
    """Drop NUL characters and replace lone surrogates with U+FFFD (the replacement mark)."""
    if _UNSTORABLE.search(text) is None:
        return text
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def storable(value: Any) -> Any:
    """``storable_text`` applied to every string inside JSON-like data (keys too)."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value


def out_of_range_integer(text: str) -> bool:
    """Whether ``text`` is an integer literal beyond the signed 64-bit range."""
    stripped = text.strip()
    digits = stripped.lstrip("+-")
    if not digits.isdigit() or len(digits) < 19:
        return False
    return abs(int(stripped)) > MAX_DB_INT
