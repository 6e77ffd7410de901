"""Reading labeled or unlabeled rows from CSV and JSONL files, reporting bad rows and going on."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from socialdesk.core.errors import InvalidInput

# Social posts are short, but a CSV field can hold an email thread.
csv.field_size_limit(10_000_000)


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    reason: str


def detect_format(path: str, fmt: str | None) -> str:
    if fmt:
        if fmt not in ("csv", "jsonl"):
            raise InvalidInput(f"unknown format {fmt!r}: use csv or jsonl")
        return fmt
    if path == "-":
        return "jsonl"
    return "csv" if path.lower().endswith((".csv", ".tsv")) else "jsonl"


def open_text(path: str) -> TextIO:
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    try:
        return Path(path).open(encoding="utf-8", errors="replace", newline="")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from exc


def read_rows(stream: TextIO, fmt: str) -> Iterator[Row | BadRow]:
    """Rows in file order; a row that cannot be read comes as a BadRow with its line."""
    if fmt == "csv":
        yield from _csv_rows(stream)
    else:
        yield from _jsonl_rows(stream)


def _csv_rows(stream: TextIO) -> Iterator[Row | BadRow]:
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        yield BadRow(1, f"unreadable header: {exc}")
        return
    width = len(header)
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield BadRow(start, f"malformed CSV: {exc}")
            continue
        if not values:
            continue
        if len(values) != width:
            yield BadRow(start, f"{len(values)} fields where the header has {width}")
            continue
        yield Row(start, dict(zip(header, values, strict=True)))


def _jsonl_rows(stream: TextIO) -> Iterator[Row | BadRow]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield BadRow(number, f"not JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(value, dict):
            yield BadRow(number, "not a JSON object")
            continue
        yield Row(number, value)


def parse_map(spec: str | None) -> dict[str, str]:
    """``a=b,c=d``: a file's labels onto socialdesk's; ``x=`` drops rows labeled x."""
    mapping: dict[str, str] = {}
    if not spec:
        return mapping
    for part in spec.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise InvalidInput(f"--map entry {part!r}: write FILE_LABEL=SOCIALDESK_LABEL")
        source, target = part.split("=", 1)
        mapping[source.strip()] = target.strip()
    return mapping


def labeled(
    rows: Iterator[Row | BadRow],
    text_column: str,
    label_column: str,
    mapping: dict[str, str],
    normalize: Callable[[str], str],
    on_bad: Callable[[BadRow], None],
) -> Iterator[tuple[int, str, str]]:
    """(line, text, label) of usable rows; unusable ones go to ``on_bad``."""
    for row in rows:
        if isinstance(row, BadRow):
            on_bad(row)
            continue
        text = row.fields.get(text_column)
        raw_label = row.fields.get(label_column)
        if not isinstance(text, str):
            on_bad(BadRow(row.line, f"no text in column {text_column!r}"))
            continue
        if raw_label is None or str(raw_label).strip() == "":
            on_bad(BadRow(row.line, f"no label in column {label_column!r}"))
            continue
        label = str(raw_label).strip()
        if label in mapping:
            label = mapping[label]
            if not label:
                continue  # dropped on purpose by the map
        try:
            yield row.line, text, normalize(label)
        except InvalidInput as exc:
            on_bad(BadRow(row.line, str(exc)))
