"""Meta Graph API: Facebook Page and Instagram webhooks, comment replies, private replies,
Messenger and Instagram messaging.

Webhooks: Meta verifies the endpoint with ``GET ?hub.mode=subscribe&hub.verify_token=..&
hub.challenge=..`` (echo the challenge) and signs every POST with
``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, body)>``. A POST carries
``{"object": "page"|"instagram", "entry": [{"id", "time", "changes": [...], "messaging":
[...]}]}``. Errors come back as ``{"error": {"message", "type", "code", "error_subcode",
"fbtrace_id"}}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import ValidationError

from socialdesk.channels import http
from socialdesk.channels.base import (
    AccountRef,
    DeliveryError,
    MalformedPayload,
    OutboundRequest,
    SendResult,
    check_signature,
    lower_headers,
)
from socialdesk.channels.credentials import Credentials
from socialdesk.channels.events import InboundEvent
from socialdesk.channels.graph_versions import DEFAULT_GRAPH_VERSION, graph_base

SIGNATURE_HEADER = "x-hub-signature-256"
# Graph API throttling: application, user, page and business-use-case rate limits.
THROTTLING_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
# Permanent answers an agent must see: expired token, missing object, blocked user...
EXPIRED_TOKEN = 190
PERMISSION_CODES = frozenset({10, *range(200, 300)})
USER_UNAVAILABLE = 551
# Send API: "(#10) This message is sent outside of allowed window."
OUTSIDE_WINDOW = (10, 2018278)
TRANSIENT_CODES = frozenset({1, 2})


def signature(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


class _MetaConnector:
    channel = "facebook"
    object_name = "page"
    # Meta expects 200 for every authentic delivery; others are retried and, if failures
    # go on, the app's subscription is disabled. Not understood = kept as a dead letter.
    malformed_status = 200

    def __init__(self, graph_version: str = DEFAULT_GRAPH_VERSION) -> None:
        self.graph_version = graph_version

    def _base(self, account: AccountRef) -> str:
        """The Graph API root: the account's own ``api_base`` (a full root, version and
        all), else the configured version on ``graph_host`` (default graph.facebook.com)."""
        return account.setting("api_base") or graph_base(
            self.graph_version, account.setting("graph_host")
        )

    # -- webhooks in ----------------------------------------------------------------------

    def verify(self, body: bytes, headers: Mapping[str, str], credentials: Credentials) -> None:
        secret = credentials.require("app_secret")
        check_signature(
            lower_headers(headers).get(SIGNATURE_HEADER), signature(body, secret), "Meta"
        )

    def parse(self, body: bytes, account: AccountRef) -> list[InboundEvent]:
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MalformedPayload(f"body is not JSON: {exc}") from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
            raise MalformedPayload("not a Graph API webhook: 'entry' list is missing")
        if payload.get("object") != self.object_name:
            raise MalformedPayload(
                f"object is {payload.get('object')!r}, expected {self.object_name!r}"
            )
        events: list[InboundEvent] = []
        try:
            for entry in payload["entry"]:
                owner = str(entry["id"])
                for change in entry.get("changes") or []:
                    event = self._change(change["field"], change["value"], owner, account)
                    if event is not None:
                        events.append(event)
                for messaging in entry.get("messaging") or []:
                    event = self._messaging(messaging, owner, account)
                    if event is not None:
                        events.append(event)
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            raise MalformedPayload(f"{self.channel} event not understood: {_why(exc)}") from exc
        return events

    def _change(
        self, field: str, value: Mapping[str, Any], owner: str, account: AccountRef
    ) -> InboundEvent | None:
        raise NotImplementedError

    def _messaging(
        self, messaging: Mapping[str, Any], owner: str, account: AccountRef
    ) -> InboundEvent | None:
        message = messaging.get("message")
        if not isinstance(message, dict) or "mid" not in message:
            return None  # delivery and read receipts, reactions, postbacks: not messages
        sender = str(messaging["sender"]["id"])
        recipient = str(messaging["recipient"]["id"])
        from_brand = bool(message.get("is_echo")) or sender == owner
        attachments = message.get("attachments") or []
        text = str(message.get("text") or "")
        if not text and attachments:
            text = f"[{len(attachments)} attachment(s)]"
        return InboundEvent.model_validate(
            {
                "channel": self.channel,
                "external_id": str(message["mid"]),
                "direction": "outbound" if from_brand else "inbound",
                "visibility": "private",
                "author": {"id": sender, "is_brand": from_brand},
                "recipient": {"id": recipient, "is_brand": not from_brand},
                "account": owner,
                "text": text,
                "created_at": _ms(messaging["timestamp"]),
                "reply_to": (message.get("reply_to") or {}).get("mid"),
            }
        )

    # -- outbound -------------------------------------------------------------------------

    def send(
        self, request: OutboundRequest, account: AccountRef, credentials: Credentials
    ) -> SendResult:
        token = credentials.require("access_token")
        path, form, body = self._request(request, account)
        with http.client(self._base(account)) as c:
            try:
                response = c.post(path, data=form, json=body, headers=_auth(token))
                if body and body.get("messaging_type") == "RESPONSE" and _outside_window(response):
                    # Queued inside the 24 hours, sent after them: a person wrote it, so it
                    # may still go out with the HUMAN_AGENT tag within the 7 days.
                    body = {**body, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
                    response = c.post(path, data=form, json=body, headers=_auth(token))
            except httpx.HTTPError as exc:
                raise http.transport_error(exc) from exc
        data = _answer(response)
        external_id = data.get("id") or data.get("message_id")
        if not external_id:
            raise DeliveryError(
                "Meta answered without an id", permanent=False, outcome_unknown=True
            )
        return SendResult(external_id=str(external_id))

    def _request(
        self, request: OutboundRequest, account: AccountRef
    ) -> tuple[str, dict[str, str] | None, dict[str, Any] | None]:
        kind = request.action.split(".", 1)[1]
        target = request.target
        body: dict[str, Any]
        if kind == "comment_reply":
            return (
                self._comment_reply_path(str(target["object_id"])),
                {"message": request.text},
                None,
            )
        if kind == "post":
            # https://developers.facebook.com/docs/pages-api/posts: POST /{page-id}/feed
            return f"/{account.external_id}/feed", {"message": request.text}, None
        if kind == "mention_reply":
            form = {"media_id": str(target["media_id"]), "message": request.text}
            if target.get("comment_id"):
                form["comment_id"] = str(target["comment_id"])
            return f"/{account.external_id}/mentions", form, None
        if kind == "private_reply":
            body = {
                "recipient": {"comment_id": str(target["comment_id"])},
                "message": {"text": request.text},
            }
            return f"/{account.external_id}/messages", None, body
        if kind == "message":
            # The reply service chose the type by the window: RESPONSE within 24 hours of
            # the customer's last message, the HUMAN_AGENT tag up to 7 days after it.
            body = {
                "recipient": {"id": str(target["recipient_id"])},
                "messaging_type": str(target.get("messaging_type") or "RESPONSE"),
                "message": {"text": request.text},
            }
            if target.get("tag"):
                body["tag"] = str(target["tag"])
            return f"/{account.external_id}/messages", None, body
        raise DeliveryError(
            f"{self.channel} cannot perform {request.action}", permanent=True, code="action"
        )

    def _comment_reply_path(self, object_id: str) -> str:
        return f"/{object_id}/comments"

    def find_sent(
        self, request: OutboundRequest, account: AccountRef, credentials: Credentials
    ) -> str | None:
        token = credentials.require("access_token")
        kind = request.action.split(".", 1)[1]
        if kind == "mention_reply":
            return None  # Instagram offers no lookup of our replies to mentions
        with http.client(self._base(account)) as c:
            try:
                if kind == "post":
                    response = c.get(
                        f"/{account.external_id}/feed",
                        params={"fields": "id,message", "limit": "20"},
                        headers=_auth(token),
                    )
                    for post in _answer(response).get("data") or []:
                        if post.get("message") == request.text:
                            return str(post["id"])
                    return None
                if kind == "comment_reply":
                    # Only fields the node has: asking a Facebook Comment for ``text`` (or an
                    # Instagram one for ``message``) is error #100 for the whole request.
                    field = self._comment_text_field()
                    response = c.get(
                        self._comment_reply_path(str(request.target["object_id"])),
                        params={"fields": f"id,{field},from"},
                        headers=_auth(token),
                    )
                    for comment in _answer(response).get("data") or []:
                        author = (comment.get("from") or {}).get("id")
                        if author == account.external_id and comment.get(field) == request.text:
                            return str(comment["id"])
                    return None
                user = request.target.get("recipient_id")
                if not user:
                    return None
                response = c.get(
                    f"/{self._conversations_owner(account)}/conversations",
                    params={
                        "user_id": str(user),
                        "platform": self._platform(),
                        "fields": "messages.limit(20){id,message,from}",
                    },
                    headers=_auth(token),
                )
            except httpx.HTTPError as exc:
                raise http.transport_error(exc) from exc
        for conversation in _answer(response).get("data") or []:
            for message in (conversation.get("messages") or {}).get("data") or []:
                author = (message.get("from") or {}).get("id")
                if author == account.external_id and message.get("message") == request.text:
                    return str(message["id"])
        return None

    def _platform(self) -> str:
        return "messenger"

    def _comment_text_field(self) -> str:
        return "message"

    def _conversations_owner(self, account: AccountRef) -> str:
        return account.external_id


class FacebookConnector(_MetaConnector):
    channel = "facebook"
    object_name = "page"

    def _change(
        self, field: str, value: Mapping[str, Any], owner: str, account: AccountRef
    ) -> InboundEvent | None:
        verb = value.get("verb")
        if field != "feed" or verb not in ("add", "edited", "remove"):
            return None
        item = value.get("item")
        if item not in ("comment", "post", "status", "photo", "video"):
            return None  # reactions, likes, shares: reach, not messages
        if verb != "add":
            return _revision(value, str(verb), owner)
        author = value["from"]
        author_id = str(author["id"])
        from_brand = author_id == owner
        if item == "comment":
            external_id = str(value["comment_id"])
            parent = value.get("parent_id") or value.get("post_id")
        else:
            external_id = str(value["post_id"])
            parent = None
        return InboundEvent.model_validate(
            {
                "channel": "facebook",
                "external_id": external_id,
                "direction": "outbound" if from_brand else "inbound",
                "visibility": "public",
                "author": {
                    "id": author_id,
                    "name": str(author.get("name", ""))[:200],
                    "is_brand": from_brand,
                },
                "account": owner,
                "text": str(value.get("message") or ""),
                "created_at": _seconds(value.get("created_time")),
                "reply_to": str(parent) if parent else None,
                # A share of our own post shows up as a post by someone else with a link
                # back; the platform marks it and it is reach, not a request.
                "is_repost": item == "post" and bool(value.get("is_share")),
            }
        )


def _revision(value: Mapping[str, Any], verb: str, owner: str) -> InboundEvent:
    """An edit or removal of a post or comment, stored as its own event: the pipeline
    applies it to the message it names (``revision_of``), keeping the original text."""
    original = str(value.get("comment_id") if value.get("item") == "comment" else value["post_id"])
    text = str(value.get("message") or "")
    kind = "edited" if verb == "edited" else "removed"
    # The same edit delivered twice is one event; two edits with different texts are two.
    suffix = hashlib.sha256(text.encode()).hexdigest()[:16] if kind == "edited" else "0"
    author = value.get("from") or {}
    author_id = str(author.get("id") or "unknown")
    return InboundEvent.model_validate(
        {
            "channel": "facebook",
            "external_id": f"{original}#{kind}:{suffix}",
            "direction": "outbound" if author_id == owner else "inbound",
            "visibility": "public",
            "author": {"id": author_id, "name": str(author.get("name", ""))[:200]},
            "account": owner,
            "text": text,
            "created_at": _seconds(value.get("created_time")),
            "extra": {"revision": kind, "revision_of": original},
        }
    )


class InstagramConnector(_MetaConnector):
    channel = "instagram"
    object_name = "instagram"

    def _change(
        self, field: str, value: Mapping[str, Any], owner: str, account: AccountRef
    ) -> InboundEvent | None:
        if field in ("comments", "live_comments"):
            author = value["from"]
            author_id = str(author["id"])
            from_brand = author_id == owner or str(author.get("self_ig_scoped_id", "")) == owner
            return InboundEvent.model_validate(
                {
                    "channel": "instagram",
                    "external_id": str(value["id"]),
                    "direction": "outbound" if from_brand else "inbound",
                    "visibility": "public",
                    "author": {
                        "id": author_id,
                        "handle": "@" + str(author.get("username", "")),
                        "is_brand": from_brand,
                    },
                    "account": owner,
                    "text": str(value.get("text") or ""),
                    "created_at": _seconds(value.get("timestamp")),
                    "reply_to": str(value.get("parent_id") or value["media"]["id"]),
                }
            )
        if field == "mentions":
            # A mention names the comment or the media only: a stub, completed with
            # ``resolve_mention`` after the webhook has answered.
            comment_id = value.get("comment_id")
            media_id = str(value["media_id"])
            return InboundEvent.model_validate(
                {
                    "channel": "instagram",
                    "external_id": str(comment_id or media_id),
                    "visibility": "public",
                    "author": {"id": "unresolved"},
                    "account": owner,
                    "text": "",
                    "created_at": datetime.now(UTC),
                    "extra": {
                        "mention": True,
                        "unresolved": True,
                        "media_id": media_id,
                        "comment_id": str(comment_id) if comment_id else None,
                    },
                }
            )
        return None

    def resolve_mention(
        self, stub: InboundEvent, account: AccountRef, credentials: Credentials
    ) -> InboundEvent:
        """Fetch a mention's text and author (``mentioned_comment`` / ``mentioned_media``)."""
        token = credentials.require("access_token")
        media_id = str(stub.extra["media_id"])
        comment_id = stub.extra.get("comment_id")
        if comment_id:
            edge = "mentioned_comment"
            fields = (
                f"mentioned_comment.comment_id({comment_id})"
                "{id,text,timestamp,username,media{id}}"
            )
        else:
            edge = "mentioned_media"
            fields = f"mentioned_media.media_id({media_id}){{id,caption,timestamp,username}}"
        with http.client(self._base(account)) as c:
            try:
                response = c.get(
                    f"/{account.external_id}", params={"fields": fields}, headers=_auth(token)
                )
            except httpx.HTTPError as exc:
                raise http.transport_error(exc) from exc
        found = _answer(response).get(edge)
        if not isinstance(found, dict):
            raise DeliveryError(f"Instagram returned no {edge}", permanent=True, code="mention")
        username = str(found.get("username") or "")
        try:
            return InboundEvent.model_validate(
                {
                    "channel": "instagram",
                    "external_id": stub.external_id,
                    "visibility": "public",
                    "author": {
                        "id": f"username:{username}" if username else "unknown",
                        "handle": f"@{username}" if username else "",
                    },
                    "account": account.external_id,
                    "text": str(found.get("text") or found.get("caption") or ""),
                    "created_at": _seconds(found.get("timestamp")),
                    "reply_to": media_id if comment_id else None,
                    "extra": {"mention": True, "media_id": media_id, "comment_id": comment_id},
                }
            )
        except ValidationError as exc:
            raise DeliveryError(
                f"mention not understood: {_why(exc)}", permanent=True, code="mention"
            ) from exc

    def _comment_reply_path(self, object_id: str) -> str:
        return f"/{object_id}/replies"

    def _platform(self) -> str:
        return "instagram"

    def _comment_text_field(self) -> str:
        return "text"

    def _conversations_owner(self, account: AccountRef) -> str:
        # With Facebook Login, Instagram conversations live under the linked Page:
        # GET /PAGE-ID/conversations?platform=instagram.
        page = account.setting("page_id")
        if not page:
            raise DeliveryError(
                "the Instagram account has no page_id setting (the Facebook Page linked to "
                "it), so its conversations cannot be read",
                permanent=False,
                code="config",
            )
        return page


# -- helpers ----------------------------------------------------------------------------------


def _why(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    if isinstance(exc, KeyError):
        return f"field {exc.args[0]!r} is missing"
    return str(exc)


def _ms(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def _seconds(value: Any) -> datetime:
    if value is None:
        return datetime.now(UTC)
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(value), UTC)
    return datetime.fromisoformat(str(value).replace("+0000", "+00:00"))


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _answer(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code == 200 and isinstance(body, dict) and "error" not in body:
        return body
    raise _error(response, body)


def _error(response: httpx.Response, body: Any) -> DeliveryError:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        transient = response.status_code >= 500 or response.status_code == 429
        return DeliveryError(
            f"HTTP {response.status_code}",
            permanent=not transient,
            code=str(response.status_code),
            outcome_unknown=transient,
        )
    code = int(error.get("code") or 0)
    subcode = error.get("error_subcode")
    message = str(error.get("error_user_msg") or error.get("message") or "unknown error")[:500]
    label = f"{code}" + (f"/{subcode}" if subcode else "")
    if code in THROTTLING_CODES or response.status_code == 429:
        return DeliveryError(
            f"throttled: {message}",
            permanent=False,
            code=label,
            retry_after=_regain_access(response),
        )
    if code in TRANSIENT_CODES or response.status_code >= 500:
        return DeliveryError(message, permanent=False, code=label, outcome_unknown=True)
    if (code, subcode) == OUTSIDE_WINDOW:
        return DeliveryError(
            "the customer's last message is more than 7 days old: Meta refuses any answer "
            "until they write again; move them to e-mail or a phone callback",
            permanent=True,
            code=label,
        )
    if code == EXPIRED_TOKEN:
        return DeliveryError(
            f"access token expired or revoked: {message}", permanent=True, code=label
        )
    return DeliveryError(message, permanent=True, code=label)


def _outside_window(response: httpx.Response) -> bool:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return False
    return (error.get("code"), error.get("error_subcode")) == OUTSIDE_WINDOW


def _regain_access(response: httpx.Response) -> timedelta | None:
    """Business-use-case throttling says when access comes back, in minutes."""
    header = response.headers.get("x-business-use-case-usage")
    if not header:
        return None
    try:
        usage = json.loads(header)
        minutes = max(
            int(entry.get("estimated_time_to_regain_access") or 0)
            for entries in usage.values()
            for entry in entries
        )
    except (ValueError, TypeError, AttributeError):
        return None
    return timedelta(minutes=minutes) if minutes else None
