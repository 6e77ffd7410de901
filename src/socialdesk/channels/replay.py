"""Replay connectors: socialdesk JSONL and the "Customer Support on Twitter" CSV layout.

Both readers yield one outcome per record: an event, or a rejection with the file, the line
number and the reason. A bad record never stops the reading of the rest of the file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from socialdesk.channels.events import InboundEvent, Party

TWCS_COLUMNS = (
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "response_tweet_id",
    "in_response_to_tweet_id",
)
TWCS_TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"


@dataclass(frozen=True, slots=True)
class Rejected:
    file: str
    line: int
    reason: str
    raw: str

    def as_record(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "reason": self.reason, "raw": self.raw}


@dataclass(frozen=True, slots=True)
class Read:
    line: int
    event: InboundEvent


Outcome = Read | Rejected


def validation_reason(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"]) or "record"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def _has_invalid_utf8(text: str) -> int | None:
    """Position of the first byte that was not valid UTF-8 (kept as a lone surrogate)."""
    for index, char in enumerate(text):
        if "\udc80" <= char <= "\udcff":
            return index
    return None


def _printable(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix == ".csv":
        return "twcs"
    raise ValueError(f"{path}: unknown file type {suffix!r}; expected .jsonl or .csv")


def read_file(path: Path, fmt: str | None = None) -> Iterator[Outcome]:
    fmt = fmt or detect_format(path)
    if fmt == "jsonl":
        return read_jsonl(path)
    if fmt == "twcs":
        return read_twcs_csv(path)
    raise ValueError(f"unknown format {fmt!r}; expected jsonl or twcs")


def read_jsonl(path: Path) -> Iterator[Outcome]:
    name = str(path)
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield Rejected(
                    name,
                    number,
                    f"invalid UTF-8 at byte {exc.start}",
                    raw.decode("utf-8", "backslashreplace").rstrip("\r\n"),
                )
                continue
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Rejected(
                    name, number, f"not JSON: {exc.msg} at column {exc.colno}", line.rstrip("\r\n")
                )
                continue
            if not isinstance(data, dict):
                yield Rejected(
                    name, number, "a line must hold one JSON object", line.rstrip("\r\n")
                )
                continue
            try:
                yield Read(number, InboundEvent.model_validate(data))
            except ValidationError as exc:
                yield Rejected(name, number, validation_reason(exc), line.rstrip("\r\n"))


def twcs_event(row: dict[str, str]) -> InboundEvent:
    """One twcs row as an event; raises ValueError with a reason a person can act on."""
    missing = [c for c in TWCS_COLUMNS if c not in row or row[c] is None]
    if missing:
        raise ValueError(f"missing column(s) {', '.join(missing)}")
    tweet_id = row["tweet_id"].strip()
    author = row["author_id"].strip()
    if not tweet_id:
        raise ValueError("tweet_id is empty")
    if not author:
        raise ValueError("author_id is empty")
    flag = row["inbound"].strip().lower()
    if flag not in ("true", "false"):
        raise ValueError(f"inbound must be True or False, not {row['inbound']!r}")
    inbound = flag == "true"
    try:
        created = datetime.strptime(row["created_at"].strip(), TWCS_TIME_FORMAT)
    except ValueError:
        raise ValueError(
            f"created_at {row['created_at']!r} is not like 'Tue Oct 31 22:10:47 +0000 2017'"
        ) from None
    reply_to = row["in_response_to_tweet_id"].strip() or None
    if reply_to and reply_to.endswith(".0"):  # spreadsheets turn ids into floats
        reply_to = reply_to[:-2]
    return InboundEvent(
        channel="x",
        external_id=tweet_id,
        direction="inbound" if inbound else "outbound",
        visibility="public",
        author=Party(id=author, handle=author, is_brand=not inbound),
        text=row["text"],
        created_at=created,
        reply_to=reply_to,
    )


def read_twcs_csv(path: Path) -> Iterator[Outcome]:
    name = str(path)
    # surrogateescape keeps undecodable bytes so each row can be rejected on its own.
    with path.open("r", encoding="utf-8", errors="surrogateescape", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            return
        header = [h.strip().lstrip("\ufeff") for h in header]
        missing = [c for c in TWCS_COLUMNS if c not in header]
        if missing:
            yield Rejected(
                name,
                1,
                f"not a twcs-layout file: missing column(s) {', '.join(missing)}",
                ",".join(header),
            )
            return
        previous_end = reader.line_num
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                yield Rejected(name, previous_end + 1, f"unreadable CSV: {exc}", "")
                previous_end = reader.line_num
                continue
            line = previous_end + 1
            previous_end = reader.line_num
            if not fields or all(not f.strip() for f in fields):
                continue
            raw = _printable(_csv_line(fields))
            bad = next((i for f in fields if (i := _has_invalid_utf8(f)) is not None), None)
            if bad is not None:
                yield Rejected(name, line, "invalid UTF-8 in the row", raw)
                continue
            if len(fields) != len(header):
                yield Rejected(
                    name, line, f"expected {len(header)} fields, found {len(fields)}", raw
                )
                continue
            try:
                yield Read(line, twcs_event(dict(zip(header, fields, strict=True))))
            except ValidationError as exc:
                yield Rejected(name, line, validation_reason(exc), raw)
            except ValueError as exc:
                yield Rejected(name, line, str(exc), raw)


def _csv_line(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(fields)
    return out.getvalue().rstrip("\r\n")
