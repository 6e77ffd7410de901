"""Signatures of outgoing webhooks: HMAC-SHA256 over the timestamp and the body.

Headers: ``X-Socialdesk-Timestamp: <unix seconds>`` and
``X-Socialdesk-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>``.
A receiver recomputes it over the raw bytes it got, compares in constant time, and refuses
timestamps older than a few minutes (a replayed request).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TIMESTAMP_HEADER = "X-Socialdesk-Timestamp"
SIGNATURE_HEADER = "X-Socialdesk-Signature"
EVENT_HEADER = "X-Socialdesk-Event"
DELIVERY_HEADER = "X-Socialdesk-Delivery"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={digest.hexdigest()}"


def verify(
    secret: str, timestamp: str, body: bytes, header: str, now: int, tolerance: int = 300
) -> bool:
    """What a receiver does (and what the tests do as a receiver)."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent_at) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, sent_at, body), header)
