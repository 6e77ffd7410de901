"""Shared by the email tests: raw RFC 5322 mail and signed deliveries to the inbound webhook."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from socialdesk.channels import signing
from socialdesk.channels.models import ChannelAccount

WEBHOOK_SECRET = "inbound-mail-secret"


def mail(
    message_id: str,
    *,
    sender: str = "Dana K <dana@mail.test>",
    subject: str = "Invoice 2231 is wrong",
    body: str = "Hello, you charged me twice.",
    in_reply_to: str | None = None,
    extra: str = "",
) -> bytes:
    headers = [
        f"From: {sender}",
        "To: Acme Care <care@acme.test>",
        f"Subject: {subject}",
        "Date: Mon, 02 Nov 2026 09:00:00 +0000",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    if in_reply_to:
        headers += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    if extra:
        headers.append(extra)
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode()


def post_mail(
    client: TestClient, account: ChannelAccount, raw: bytes, secret: str = WEBHOOK_SECRET
) -> Any:
    headers = signing.signed_headers(raw, secret, datetime.now(UTC))
    headers["content-type"] = "message/rfc822"
    return client.post(f"/webhooks/email/{account.id}", content=raw, headers=headers)
