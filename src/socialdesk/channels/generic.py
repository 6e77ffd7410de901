"""A generic signed inbound webhook, so any source (a review site, a forum, a chat widget)
can push messages, and receive our answers at a callback URL.

Inbound: ``POST /webhooks/webhook/{account_id}`` with ``{"messages": [{"id", "text",
"author": {"id", "name", "handle", "email"}, "created_at", "reply_to", "private",
"subject"}]}``, signed as described in ``socialdesk.channels.signing``.
Outbound: ``POST <callback_url>`` with ``{"id", "reply_to", "recipient", "thread", "text"}``
signed the same way and an ``Idempotency-Key`` header that stays the same across retries,
so the receiver can drop a repeat.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from socialdesk.channels import http, signing
from socialdesk.channels.base import (
    AccountRef,
    DeliveryError,
    MalformedPayload,
    OutboundRequest,
    SendResult,
)
from socialdesk.channels.credentials import Credentials
from socialdesk.channels.events import InboundEvent, Party
from socialdesk.core.clock import Clock, utcnow

MAX_MESSAGES = 500


class _Author(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=300)
    name: str = Field(default="", max_length=200)
    handle: str = Field(default="", max_length=300)
    email: str | None = Field(default=None, max_length=320)
    followers: int = Field(default=0, ge=0)


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=300)
    text: str = Field(max_length=100_000)
    author: _Author
    created_at: AwareDatetime
    reply_to: str | None = Field(default=None, max_length=300)
    private: bool = False
    subject: str = Field(default="", max_length=998)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    messages: list[_Message] = Field(max_length=MAX_MESSAGES)


def scoped(account: AccountRef, source_id: str) -> str:
    """Ids are the source's own; prefixed so two sources never collide."""
    return f"{account.external_id}:{source_id}"


class GenericWebhookConnector:
    channel = "webhook"

    def __init__(self, clock: Clock = utcnow) -> None:
        self.clock = clock

    def verify(self, body: bytes, headers: Mapping[str, str], credentials: Credentials) -> None:
        signing.verify(body, headers, credentials.require("webhook_secret"), self.clock())

    def parse(self, body: bytes, account: AccountRef) -> list[InboundEvent]:
        try:
            parsed = _Body.model_validate_json(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise MalformedPayload(f"{where}: {first['msg']}") from exc
        events = []
        for message in parsed.messages:
            events.append(
                InboundEvent(
                    channel="webhook",
                    external_id=scoped(account, message.id),
                    visibility="private" if message.private else "public",
                    author=Party(
                        id=scoped(account, message.author.id),
                        name=message.author.name,
                        handle=message.author.handle,
                        email=message.author.email,
                        followers=message.author.followers,
                    ),
                    account=account.external_id,
                    text=message.text,
                    created_at=message.created_at,
                    reply_to=scoped(account, message.reply_to) if message.reply_to else None,
                    subject=message.subject,
                )
            )
        return events

    def send(
        self, request: OutboundRequest, account: AccountRef, credentials: Credentials
    ) -> SendResult:
        url = account.setting("callback_url")
        if not url:
            raise DeliveryError(
                "the webhook account has no callback_url", permanent=True, code="config"
            )
        prefix = f"{account.external_id}:"

        def unscope(value: object) -> object:
            text = str(value)
            return text[len(prefix) :] if text.startswith(prefix) else value

        body = json.dumps(
            {
                "id": request.idempotency_key,
                "reply_to": unscope(request.target.get("reply_to")),
                "recipient": unscope(request.target.get("recipient_id")),
                "thread": unscope(request.target.get("thread")),
                "text": request.text,
            }
        ).encode()
        headers = {
            "content-type": "application/json",
            "idempotency-key": request.idempotency_key,
            **signing.signed_headers(body, credentials.require("webhook_secret"), self.clock()),
        }
        with http.client("") as c:
            try:
                response = c.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                raise http.transport_error(exc) from exc
        if response.status_code in (200, 201, 202):
            try:
                answer = response.json()
            except ValueError:
                answer = {}
            found = answer.get("id") if isinstance(answer, dict) else None
            return SendResult(external_id=str(found or request.idempotency_key))
        reason = response.text[:300] or f"HTTP {response.status_code}"
        if response.status_code == 429:
            after = response.headers.get("retry-after", "")
            return_after = timedelta(seconds=int(after)) if after.isdigit() else None
            raise DeliveryError(
                f"rate limited: {reason}", permanent=False, code="429", retry_after=return_after
            )
        if response.status_code >= 500:
            raise DeliveryError(
                reason, permanent=False, code=str(response.status_code), outcome_unknown=True
            )
        raise DeliveryError(reason, permanent=True, code=str(response.status_code))

    def find_sent(
        self, request: OutboundRequest, account: AccountRef, credentials: Credentials
    ) -> str | None:
        # The receiver de-duplicates by Idempotency-Key, so sending again is the check.
        return None
