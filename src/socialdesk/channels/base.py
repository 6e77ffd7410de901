"""The one interface every connector implements, and the errors it speaks in.

A connector turns a platform's webhook payloads into InboundEvents and performs outbound
actions on the platform's API. It holds no database state: the webhook endpoint stores
what it parses, the outbox sender records what it sends.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from socialdesk.channels.credentials import Credentials
from socialdesk.channels.events import InboundEvent


@dataclass(frozen=True, slots=True)
class AccountRef:
    """What a connector needs to know of a channel account (no database session)."""

    id: int
    workspace_id: int
    channel: str
    external_id: str
    handle: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)

    def setting(self, name: str, default: str = "") -> str:
        value = self.settings.get(name, default)
        return str(value) if value is not None else default


@dataclass(frozen=True, slots=True)
class OutboundRequest:
    action: str
    text: str
    target: Mapping[str, Any]
    idempotency_key: str
    # The first attempt's time: a lookup for an earlier post only considers newer ones.
    queued_at: datetime


@dataclass(frozen=True, slots=True)
class SendResult:
    external_id: str


class DeliveryError(Exception):
    """A send that did not succeed, classified so the sender knows what to do next."""

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool,
        code: str | None = None,
        retry_at: datetime | None = None,
        retry_after: timedelta | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.code = code
        # When the platform says access comes back: a moment, or a delay from now.
        self.retry_at = retry_at
        self.retry_after = retry_after
        # The request may have reached the platform (timeout, 5xx): look before resending.
        self.outcome_unknown = outcome_unknown


class WebhookRejected(Exception):
    """Not from the platform: 401 when unsigned, 403 when the signature is wrong."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class MalformedPayload(Exception):
    """Authentic but not understood; the payload goes to the dead-letter table."""


@dataclass(frozen=True, slots=True)
class PollResult:
    events: list[InboundEvent]
    cursor: str | None
    # What the cursor is only valid within (IMAP's UIDVALIDITY): a new epoch resets it.
    epoch: str | None = None


class Connector(Protocol):
    channel: str

    def verify(self, body: bytes, headers: Mapping[str, str], credentials: Credentials) -> None:
        """Raise WebhookRejected unless the request is signed by the platform."""
        ...

    def parse(self, body: bytes, account: AccountRef) -> list[InboundEvent]:
        """Normalize a webhook body; raise MalformedPayload with the reason."""
        ...

    def send(
        self, request: OutboundRequest, account: AccountRef, credentials: Credentials
    ) -> SendResult:
        """Perform the action once; raise DeliveryError when it did not happen."""
        ...

    def find_sent(
        self, request: OutboundRequest, account: AccountRef, credentials: Credentials
    ) -> str | None:
        """The platform id of an earlier attempt of this request that did get through."""
        ...


def hmac_sha256(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def check_signature(header: str | None, expected: str, scheme: str) -> None:
    """Compare a ``sha256=...`` signature header in constant time."""
    if not header:
        raise WebhookRejected(401, f"missing {scheme} signature")
    if not hmac.compare_digest(header.strip().encode(), expected.encode()):
        raise WebhookRejected(403, f"{scheme} signature does not match")


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}
