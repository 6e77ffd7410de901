"""socialdesk's own webhook signature, for the generic webhook and inbound email.

``X-Socialdesk-Timestamp: <unix seconds>`` and ``X-Socialdesk-Signature: sha256=<hex
HMAC-SHA256(secret, "<timestamp>." + body)>``. Signing the timestamp with the body makes
a captured request useless after the tolerance window.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta

from socialdesk.channels.base import WebhookRejected, check_signature, lower_headers

TIMESTAMP_HEADER = "x-socialdesk-timestamp"
SIGNATURE_HEADER = "x-socialdesk-signature"
TOLERANCE = timedelta(minutes=5)


def sign(body: bytes, secret: str, timestamp: int) -> str:
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(body: bytes, secret: str, now: datetime) -> dict[str, str]:
    timestamp = int(now.timestamp())
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(body, secret, timestamp)}


def verify(body: bytes, headers: Mapping[str, str], secret: str, now: datetime) -> None:
    found = lower_headers(headers)
    stamp = found.get(TIMESTAMP_HEADER, "")
    if not found.get(SIGNATURE_HEADER) or not stamp:
        raise WebhookRejected(401, "missing socialdesk signature or timestamp")
    if not stamp.isdigit():
        raise WebhookRejected(403, "timestamp is not a number")
    sent = datetime.fromtimestamp(int(stamp), now.tzinfo)
    if abs(now - sent) > TOLERANCE:
        raise WebhookRejected(403, "timestamp outside the accepted window")
    check_signature(found.get(SIGNATURE_HEADER), sign(body, secret, int(stamp)), "socialdesk")
