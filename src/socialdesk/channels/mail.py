"""Email: IMAP polling or a signed inbound webhook in, SMTP out, threaded by Message-ID.

Inbound mail is parsed from its raw RFC 5322 form; ``Message-ID`` names the message,
``In-Reply-To`` and ``References`` tie it to the chain. Outbound mail gets a Message-ID
chosen before sending (kept on our message), ``In-Reply-To`` the customer's last message
and ``References`` the chain, so every mail client threads it and a resend after a crash
carries the same Message-ID, which receiving systems de-duplicate.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import smtplib
import ssl
from collections.abc import Iterator, Mapping
from datetime import UTC
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses, parsedate_to_datetime
from html import unescape
from typing import Any

from pydantic import ValidationError

from socialdesk.channels import signing
from socialdesk.channels.base import (
    AccountRef,
    DeliveryError,
    MalformedPayload,
    OutboundRequest,
    PollResult,
    SendResult,
)
from socialdesk.channels.credentials import Credentials
from socialdesk.channels.events import InboundEvent
from socialdesk.core.clock import Clock, utcnow

log = logging.getLogger(__name__)

SMTP_TIMEOUT = 20.0
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_TAG = re.compile(r"<[^>]+>")


def message_ids(value: str | None) -> list[str]:
    return _MESSAGE_ID.findall(value or "")


class EmailConnector:
    channel = "email"

    def __init__(self, clock: Clock = utcnow) -> None:
        self.clock = clock

    # -- inbound ------------------------------------------------------------------------------

    def verify(self, body: bytes, headers: Mapping[str, str], credentials: Credentials) -> None:
        signing.verify(body, headers, credentials.require("webhook_secret"), self.clock())

    def parse(self, body: bytes, account: AccountRef) -> list[InboundEvent]:
        event = parse_message(body, account, self.clock)
        return [] if event is None else [event]

    def poll_imap(
        self,
        account: AccountRef,
        credentials: Credentials,
        last_uid: int,
        uidvalidity: str | None = None,
    ) -> PollResult:
        """Fetch messages with a UID above ``last_uid`` from the mailbox, read-only.

        UIDs only mean something together with the mailbox's UIDVALIDITY (RFC 3501
        section 2.3.1.1): when the server announces another value (the mailbox was rebuilt
        or moved), every saved UID is void, so the whole mailbox is read again; the
        messages already stored are recognised by their Message-ID and not stored twice.
        """
        newest = last_uid
        with _imap(account, credentials) as client:
            folder = account.setting("imap_folder", "INBOX")
            client.select(folder, readonly=True)
            epoch = _uidvalidity(client)
            if renumbered(account, folder, uidvalidity, epoch):
                last_uid = newest = 0
            status, data = client.uid("SEARCH", "UID", f"{last_uid + 1}:*")
            if status != "OK":
                raise DeliveryError(f"IMAP search failed: {status}", permanent=False)
            uids = [int(u) for u in (data[0] or b"").split() if int(u) > last_uid]
            events, fetched = fetch_events(client, uids, account, self.clock)
            newest = max(newest, fetched)
        return PollResult(events=events, cursor=str(newest), epoch=epoch)

    # -- outbound -----------------------------------------------------------------------------

    def send(
        self, request: OutboundRequest, account: AccountRef, credentials: Credentials
    ) -> SendResult:
        message = build_message(request, account)
        host = account.setting("smtp_host")
        if not host:
            raise DeliveryError("the mailbox has no smtp_host", permanent=True, code="config")
        port = int(account.setting("smtp_port", "587"))
        security = account.setting("smtp_security", "starttls")  # starttls, ssl or none
        # Once the message itself has gone out, a lost answer leaves the outcome unknown:
        # the server may have queued it. The next attempt looks in the Sent folder first.
        handed_over = False
        try:
            smtp = (
                smtplib.SMTP_SSL(
                    host, port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context()
                )
                if security == "ssl"
                else smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
            )
            with smtp:
                if security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if credentials.get("username"):
                    smtp.login(credentials.require("username"), credentials.require("password"))
                send_data = smtp.data

                def data(msg: Any) -> tuple[int, bytes]:
                    nonlocal handed_over
                    handed_over = True
                    return send_data(msg)

                smtp.data = data  # type: ignore[method-assign]
                smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"mail server rejected the credentials: {_smtp_reason(exc)}",
                permanent=True,
                code=str(exc.smtp_code),
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            code, reason = next(iter(exc.recipients.values()))
            raise DeliveryError(
                f"recipient refused: {reason.decode(errors='replace')}",
                permanent=code >= 500,
                code=str(code),
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                _smtp_reason(exc), permanent=exc.smtp_code >= 500, code=str(exc.smtp_code)
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"mail server unreachable: {type(exc).__name__}"
                + (" after the message was handed over" if handed_over else ""),
                permanent=False,
                code="network",
                outcome_unknown=handed_over,
            ) from exc
        return SendResult(external_id=str(request.target["message_id"]))

    def find_sent(
        self, request: OutboundRequest, account: AccountRef, credentials: Credentials
    ) -> str | None:
        """Our mail in the Sent folder, by its Message-ID (chosen before the first attempt).

        Without IMAP there is nothing to look in: the resend carries the same Message-ID,
        which receiving systems de-duplicate.
        """
        if not account.setting("imap_host"):
            return None
        message_id = str(request.target["message_id"])
        with _imap(account, credentials) as client:
            status, _ = client.select(_quoted(account.setting("imap_sent_folder", "Sent")), True)
            if status != "OK":
                raise DeliveryError(
                    "the Sent folder cannot be opened; set imap_sent_folder",
                    permanent=False,
                    code="config",
                )
            status, data = client.uid("SEARCH", "HEADER", "Message-ID", _quoted(message_id))
            if status != "OK":
                raise DeliveryError(f"IMAP search failed: {status}", permanent=False)
        return message_id if (data[0] or b"").split() else None


@contextlib.contextmanager
def _imap(account: AccountRef, credentials: Credentials) -> Iterator[imaplib.IMAP4]:
    host = account.setting("imap_host")
    if not host:
        raise DeliveryError("the mailbox has no imap_host", permanent=True, code="config")
    port = int(account.setting("imap_port", "993"))
    use_ssl = account.setting("imap_ssl", "true").lower() != "false"
    try:
        client: imaplib.IMAP4 = (
            imaplib.IMAP4_SSL(host, port, ssl_context=ssl.create_default_context(), timeout=30)
            if use_ssl
            else imaplib.IMAP4(host, port, timeout=30)
        )
    except OSError as exc:
        raise DeliveryError(
            f"mail server unreachable: {type(exc).__name__}", permanent=False, code="network"
        ) from exc
    try:
        try:
            client.login(credentials.require("username"), credentials.require("password"))
        except imaplib.IMAP4.error as exc:
            raise DeliveryError(
                f"mail server rejected the credentials: {exc}", permanent=True, code="auth"
            ) from exc
        yield client
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()


def fetch_events(
    client: imaplib.IMAP4,
    uids: list[int],
    account: AccountRef,
    clock: Clock,
    *,
    keep_automatic: bool = False,
) -> tuple[list[InboundEvent], int]:
    """The messages with these UIDs as events (automatic mail left out unless
    ``keep_automatic``), and the highest UID fetched (0 when none was)."""
    events: list[InboundEvent] = []
    newest = 0
    for uid in sorted(uids):
        status, parts = client.uid("FETCH", str(uid), "(RFC822)")
        raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
        if status != "OK" or raw is None:
            continue
        try:
            event = parse_message(raw, account, clock, keep_automatic=keep_automatic)
        except MalformedPayload:
            event = None  # a message without Message-ID or sender: nothing to answer
        if event is not None:
            events.append(event)
        newest = max(newest, uid)
    return events, newest


def renumbered(account: AccountRef, folder: str, saved: str | None, current: str | None) -> bool:
    """Whether the folder's UIDVALIDITY differs from the one the saved UID belongs to (the
    saved UID is then void, and the folder is read again)."""
    if saved is None or current is None or saved == current:
        return False
    log.warning(
        "mailbox %s, folder %r: UIDVALIDITY changed from %s to %s, reading it again",
        account.id,
        folder,
        saved,
        current,
    )
    return True


def _uidvalidity(client: imaplib.IMAP4) -> str | None:
    _, data = client.response("UIDVALIDITY")
    value = data[0] if data else None
    if isinstance(value, bytes):
        return value.decode(errors="replace").strip() or None
    return None


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _smtp_reason(exc: smtplib.SMTPResponseException) -> str:
    error = exc.smtp_error
    text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
    return f"{exc.smtp_code} {text}"[:500]


def build_message(request: OutboundRequest, account: AccountRef) -> EmailMessage:
    target = request.target
    message = EmailMessage()
    sender_name = account.setting("display_name") or account.handle.lstrip("@")
    message["From"] = Address(display_name=sender_name, addr_spec=str(target["from"]))
    message["To"] = str(target["to"])
    message["Subject"] = str(target.get("subject") or "")
    message["Message-ID"] = str(target["message_id"])
    message["Date"] = format_datetime(request.queued_at.astimezone(UTC))
    if target.get("in_reply_to"):
        message["In-Reply-To"] = str(target["in_reply_to"])
    references = [str(r) for r in target.get("references") or []]
    if references:
        message["References"] = " ".join(references)
    message["Auto-Submitted"] = "no"
    message.set_content(request.text)
    return message


def parse_message(
    raw: bytes, account: AccountRef, clock: Clock, *, keep_automatic: bool = False
) -> InboundEvent | None:
    """An inbound email as an event; None for automatic mail that asks for no answer, unless
    ``keep_automatic`` (mail heard in a listening folder, where news and alert digests are
    automatic by nature: kept, and marked so in ``extra["automatic"]``)."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except (ValueError, TypeError) as exc:
        raise MalformedPayload(f"not an email message: {exc}") from exc
    ids = message_ids(str(message.get("Message-ID", "")))
    if not ids:
        raise MalformedPayload("the email has no Message-ID")
    senders = getaddresses([str(message.get("From", ""))])
    if not senders or "@" not in senders[0][1]:
        raise MalformedPayload("the email has no sender address")
    name, address = senders[0]
    auto = str(message.get("Auto-Submitted", "no")).lower()
    precedence = str(message.get("Precedence", "")).lower()
    automatic = auto != "no" or precedence in ("bulk", "junk", "auto_reply", "list")
    if automatic and not keep_automatic:
        return None  # out-of-office and bounces: answering them starts loops
    mailbox = account.external_id.lower()
    from_brand = address.lower() == mailbox
    try:
        created = parsedate_to_datetime(str(message["Date"])) if message["Date"] else clock()
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
    except (TypeError, ValueError):
        created = clock()
    references = message_ids(str(message.get("References", "")))
    in_reply_to = message_ids(str(message.get("In-Reply-To", "")))
    try:
        return InboundEvent.model_validate(
            {
                "channel": "email",
                "external_id": ids[0],
                "direction": "outbound" if from_brand else "inbound",
                "visibility": "private",
                "author": {
                    "id": address.lower(),
                    "name": name[:200],
                    "email": address.lower(),
                    "is_brand": from_brand,
                },
                "recipient": {"id": mailbox, "email": mailbox, "is_brand": not from_brand},
                "account": account.external_id,
                "text": _body_text(message)[:100_000],
                "subject": str(message.get("Subject", ""))[:998],
                "created_at": created,
                "reply_to": in_reply_to[0]
                if in_reply_to
                else (references[-1] if references else None),
                "references": references[-50:],
                "extra": {"automatic": True} if automatic else {},
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise MalformedPayload(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    text = content if isinstance(content, str) else ""
    if part.get_content_subtype() == "html":
        text = unescape(_TAG.sub(" ", text))
    return text.strip()
