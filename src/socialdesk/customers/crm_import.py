"""Customer value and demographics from the brand's CRM: a file import and live updates.

A CRM record names a person by any of ``handle`` (optionally with ``channel``), ``email``
or ``phone``; it matches the one customer those point to. Records that match no one, or
several different customers, are reported and change nothing. Known fields: ``tier``,
``lifetime_value``, ``name``; every other field (age, city, segment, the CRM's own id...)
is kept in ``Customer.crm_fields``. Open tasks of updated customers are re-scored so the
work list reflects the new value at once.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.core.errors import InvalidInput
from socialdesk.customers.identity import normalize_email, normalize_handle, normalize_phone
from socialdesk.customers.models import Customer, Identity

MATCH_KEYS = ("handle", "channel", "email", "phone")
KNOWN = ("tier", "lifetime_value", "name")
MAX_FIELD_CHARS = 2000
MAX_FIELDS = 100


@dataclass(frozen=True, slots=True)
class CrmRecord:
    line: int
    handle: str | None = None
    channel: str | None = None
    email: str | None = None
    phone: str | None = None
    tier: str | None = None
    lifetime_value: Decimal | None = None
    name: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    reason: str


@dataclass
class CrmReport:
    read: int = 0
    updated: int = 0
    unmatched: list[Problem] = field(default_factory=list)
    ambiguous: list[Problem] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)
    customer_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "updated": self.updated,
            "unmatched": [{"line": p.line, "reason": p.reason} for p in self.unmatched],
            "ambiguous": [{"line": p.line, "reason": p.reason} for p in self.ambiguous],
            "rejected": [{"line": p.line, "reason": p.reason} for p in self.rejected],
        }


def _text(value: Any, name: str, limit: int = 320) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueError(f"{name} must be text")
    text = str(value).strip()
    if len(text) > limit:
        raise ValueError(f"{name} is longer than {limit} characters")
    return text or None


def parse_record(line: int, raw: dict[str, Any]) -> CrmRecord:
    """Validate one record; raises ValueError with the reason."""
    if not isinstance(raw, dict):
        raise ValueError("a record must be an object with named fields")
    data = {str(k).strip().lower(): v for k, v in raw.items() if k is not None}
    handle = _text(data.get("handle"), "handle")
    email = _text(data.get("email"), "email")
    phone = _text(data.get("phone"), "phone", 40)
    if email is not None and normalize_email(email) is None:
        raise ValueError(f"email {email!r} is not an address")
    if phone is not None and normalize_phone(phone) is None:
        raise ValueError(f"phone {phone!r} has too few digits")
    if not (handle or email or phone):
        raise ValueError("no handle, email or phone to match on")
    ltv_raw = data.get("lifetime_value")
    lifetime_value = None
    if ltv_raw not in (None, ""):
        try:
            lifetime_value = Decimal(str(ltv_raw).strip().replace(",", ""))
        except InvalidOperation:
            raise ValueError(f"lifetime_value {str(ltv_raw)[:40]!r} is not a number") from None
        if not lifetime_value.is_finite() or not 0 <= lifetime_value < Decimal("1e12"):
            raise ValueError("lifetime_value must be a number from 0 to 10^12")
        lifetime_value = lifetime_value.quantize(Decimal("0.01"))
    extra = {
        k: v
        for k, v in data.items()
        if k not in MATCH_KEYS and k not in KNOWN and v not in (None, "")
    }
    if len(extra) > MAX_FIELDS:
        raise ValueError(f"more than {MAX_FIELDS} fields")
    for key, value in extra.items():
        if len(key) > 64:
            raise ValueError(f"field name {key[:20]!r}... is longer than 64 characters")
        if isinstance(value, dict | list) or len(str(value)) > MAX_FIELD_CHARS:
            raise ValueError(f"field {key!r} must be a short plain value")
    tier = _text(data.get("tier"), "tier", 40)
    return CrmRecord(
        line=line,
        handle=handle,
        channel=_text(data.get("channel"), "channel", 32),
        email=email,
        phone=phone,
        tier=tier.lower() if tier else None,
        lifetime_value=lifetime_value,
        name=_text(data.get("name"), "name", 200),
        fields=extra,
    )


def read_records(path: Path) -> Iterator[CrmRecord | Problem]:
    """Records of a CSV (header row) or JSONL file; bad lines come out as Problems."""
    suffix = path.suffix.lower()
    raw = path.read_bytes()
    if suffix in (".jsonl", ".ndjson", ".json"):
        yield from _jsonl(raw)
    elif suffix in (".csv", ".tsv", ".txt"):
        yield from _csv(raw, "\t" if suffix == ".tsv" else ",")
    else:
        raise InvalidInput(f"{path.name}: use a .csv or .jsonl file")


def _decoded_lines(raw: bytes) -> Iterator[tuple[int, str | None]]:
    for number, line in enumerate(raw.splitlines(keepends=True), start=1):
        try:
            yield number, line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            yield number, None


def _jsonl(raw: bytes) -> Iterator[CrmRecord | Problem]:
    for number, text in _decoded_lines(raw):
        if text is None:
            yield Problem(number, "not valid UTF-8")
            continue
        if not text.strip():
            continue
        try:
            yield parse_record(number, json.loads(text))
        except json.JSONDecodeError as exc:
            yield Problem(number, f"not JSON: {exc.msg}")
        except ValueError as exc:
            yield Problem(number, str(exc))


def _csv(raw: bytes, delimiter: str) -> Iterator[CrmRecord | Problem]:
    good: list[str] = []
    starts: list[int] = []
    for number, text in _decoded_lines(raw):
        if text is None:
            yield Problem(number, "not valid UTF-8")
            continue
        good.append(text)
        starts.append(number)
    reader = csv.DictReader(io.StringIO("".join(good), newline=""), delimiter=delimiter)
    try:
        for row in reader:
            # line_num counts physical lines read; map it back to the file's numbering.
            number = starts[min(reader.line_num, len(starts)) - 1]
            if None in row:
                yield Problem(number, "more values than columns in the header")
                continue
            try:
                yield parse_record(number, dict(row))
            except ValueError as exc:
                yield Problem(number, str(exc))
    except csv.Error as exc:
        yield Problem(starts[min(reader.line_num, len(starts)) - 1] if starts else 0, str(exc))


# -- matching and applying -------------------------------------------------------------------


def _resolve(session: Session, ids: set[int]) -> set[int]:
    """Follow explicit merges so a folded customer counts as its target."""
    out: set[int] = set()
    pending = set(ids)
    for _ in range(10):
        if not pending:
            break
        rows = session.execute(
            select(Customer.id, Customer.merged_into_id).where(Customer.id.in_(pending))
        ).all()
        pending = set()
        for cid, target in rows:
            if target is None:
                out.add(cid)
            else:
                pending.add(target)
    return out


def match(session: Session, workspace_id: int, records: Sequence[CrmRecord]) -> list[set[int]]:
    """The customers each record points to (by any of its keys)."""
    handles = {normalize_handle(r.handle) for r in records if r.handle}
    emails = {e for r in records if (e := normalize_email(r.email))}
    phones = {p for r in records if (p := normalize_phone(r.phone))}
    by_handle: dict[tuple[str, str], set[int]] = {}
    if handles:
        for handle, channel, cid in session.execute(
            select(Identity.handle, Identity.channel, Identity.customer_id).where(
                Identity.workspace_id == workspace_id,
                Identity.handle.in_(handles),
                Identity.customer_id.is_not(None),
                Identity.is_brand.is_(False),
            )
        ):
            by_handle.setdefault((handle, channel), set()).add(int(cid or 0))
    by_email: dict[str, set[int]] = {}
    by_phone: dict[str, set[int]] = {}
    if emails:
        for email, cid in session.execute(
            select(Customer.email, Customer.id).where(
                Customer.workspace_id == workspace_id, Customer.email.in_(emails)
            )
        ):
            by_email.setdefault(email or "", set()).add(cid)
        for ext, cid in session.execute(
            select(Identity.external_id, Identity.customer_id).where(
                Identity.workspace_id == workspace_id,
                Identity.channel == "email",
                Identity.external_id.in_(emails),
                Identity.customer_id.is_not(None),
            )
        ):
            by_email.setdefault(ext, set()).add(int(cid or 0))
    if phones:
        for phone, cid in session.execute(
            select(Customer.phone, Customer.id).where(
                Customer.workspace_id == workspace_id, Customer.phone.in_(phones)
            )
        ):
            by_phone.setdefault(phone or "", set()).add(cid)
    found = []
    for r in records:
        ids: set[int] = set()
        if r.handle:
            h = normalize_handle(r.handle)
            for (handle, channel), cids in by_handle.items():
                if handle == h and (r.channel is None or channel == r.channel):
                    ids |= cids
        if (e := normalize_email(r.email)) is not None:
            ids |= by_email.get(e, set())
        if (p := normalize_phone(r.phone)) is not None:
            ids |= by_phone.get(p, set())
        found.append(_resolve(session, ids) if ids else set())
    return found


def apply_records(
    session: Session,
    workspace_id: int,
    items: Iterable[CrmRecord | Problem],
    now: datetime,
    *,
    batch_size: int = 1000,
    report: CrmReport | None = None,
) -> CrmReport:
    """Match and apply records in batches (flushes; the caller commits)."""
    report = report or CrmReport()
    batch: list[CrmRecord] = []
    seen = set(report.customer_ids)

    def flush_batch() -> None:
        for record, ids in zip(batch, match(session, workspace_id, batch), strict=True):
            if not ids:
                report.unmatched.append(Problem(record.line, "matches no customer"))
            elif len(ids) > 1:
                listed = ", ".join(str(i) for i in sorted(ids)[:10])
                report.ambiguous.append(
                    Problem(record.line, f"matches {len(ids)} customers ({listed})")
                )
            else:
                customer_id = ids.pop()
                _apply(session, customer_id, record, now)
                report.updated += 1
                if customer_id not in seen:
                    seen.add(customer_id)
                    report.customer_ids.append(customer_id)
        batch.clear()
        session.flush()

    for item in items:
        report.read += 1
        if isinstance(item, Problem):
            report.rejected.append(item)
            continue
        batch.append(item)
        if len(batch) >= batch_size:
            flush_batch()
    if batch:
        flush_batch()
    return report


def _apply(session: Session, customer_id: int, record: CrmRecord, now: datetime) -> None:
    customer = session.get(Customer, customer_id)
    if customer is None:
        return
    if record.tier is not None:
        customer.tier = record.tier
    if record.lifetime_value is not None:
        customer.lifetime_value = record.lifetime_value
    if record.name and not customer.display_name:
        customer.display_name = record.name
    if record.email and not customer.email:
        customer.email = normalize_email(record.email)
    if record.phone and not customer.phone:
        customer.phone = normalize_phone(record.phone)
    if record.fields:
        customer.crm_fields = {**(customer.crm_fields or {}), **record.fields}
    customer.updated_at = now
