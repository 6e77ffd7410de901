"""Pure rules for recognising the same person across channels."""

from __future__ import annotations

import hashlib

from socialdesk.channels.events import Party


def normalize_handle(handle: str) -> str:
    """Handles compare case-insensitively and without the leading @."""
    return handle.strip().lstrip("@").casefold()


def normalize_email(address: str | None) -> str | None:
    if not address or "@" not in address:
        return None
    return address.strip().casefold()


def normalize_phone(number: str | None) -> str | None:
    if not number:
        return None
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) < 6:
        return None
    return ("+" if number.strip().startswith("+") else "") + digits


def contact_email(party: Party, channel: str) -> str | None:
    """An email channel's party id is the address itself."""
    return normalize_email(party.email or (party.id if channel == "email" else None))


def handle_key(workspace_id: int, handle: str) -> int:
    """A signed 64-bit hash of a workspace's normalized handle: the key of its claim, so that
    the claims table holds no handle in clear (an erased customer's claim is deleted too)."""
    digest = hashlib.blake2b(f"{workspace_id}\x1f{handle}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
