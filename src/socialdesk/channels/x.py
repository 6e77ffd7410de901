"""X (Twitter) API v2: Account Activity webhooks, polling fallback, replies in thread, DMs.

Webhooks: X sends ``GET ?crc_token=`` (answer ``{"response_token": "sha256=<base64 HMAC>"}``
keyed with the app's consumer secret) and signs every POST with
``x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(consumer secret, body)>``.
Events carry ``for_user_id`` plus ``tweet_create_events`` (v1.1 tweet objects) and
``direct_message_events`` (``message_create`` objects, users in ``users``). One app's
webhook serves every user subscribed to it: ``for_user_id`` names the account an event is
for, and events are filed (and answered) under that account, whatever the URL named.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from pydantic import ValidationError

from socialdesk.channels import http
from socialdesk.channels.actions import Action
from socialdesk.channels.base import (
    AccountRef,
    DeliveryError,
    MalformedPayload,
    OutboundRequest,
    PollResult,
    SendResult,
    check_signature,
    hmac_sha256,
    lower_headers,
)
from socialdesk.channels.credentials import Credentials
from socialdesk.channels.events import InboundEvent
from socialdesk.channels.x_tokens import call_as_user

log = logging.getLogger(__name__)

API_BASE = "https://api.x.com"
# Polling reads at most this many pages of 100 per round (the rest waits for the next one).
MAX_PAGES = 50
# Our clock and X's may disagree a little: a post a few seconds "before" queueing is ours.
CLOCK_SKEW = timedelta(minutes=1)
_LINK = re.compile(r"https?://\S+")
SIGNATURE_HEADER = "x-twitter-webhooks-signature"
# note_tweet: a post longer than 280 characters comes with a shortened ``text`` and its
# whole text in ``note_tweet.text``, only when asked for.
TWEET_FIELDS = (
    "created_at,conversation_id,in_reply_to_user_id,referenced_tweets,public_metrics,author_id,"
    "note_tweet"
)
USER_FIELDS = "username,name,public_metrics,verified"


def api_base(account: AccountRef) -> str:
    return account.setting("api_base", API_BASE)


def crc_response(crc_token: str, consumer_secret: str) -> dict[str, str]:
    digest = hmac_sha256(consumer_secret, crc_token.encode())
    return {"response_token": "sha256=" + base64.b64encode(digest).decode()}


def signature(body: bytes, consumer_secret: str) -> str:
    return "sha256=" + base64.b64encode(hmac_sha256(consumer_secret, body)).decode()


class XConnector:
    channel = "x"

    # -- webhooks in ----------------------------------------------------------------------

    def verify(self, body: bytes, headers: Mapping[str, str], credentials: Credentials) -> None:
        secret = credentials.require("consumer_secret")
        check_signature(lower_headers(headers).get(SIGNATURE_HEADER), signature(body, secret), "X")

    def parse(self, body: bytes, account: AccountRef) -> list[InboundEvent]:
        payload = _json_object(body)
        if "for_user_id" not in payload:
            raise MalformedPayload("not an Account Activity event: 'for_user_id' is missing")
        brand = str(payload["for_user_id"])
        events: list[InboundEvent] = []
        try:
            for tweet in _list(payload, "tweet_create_events"):
                event = _v1_tweet_event(tweet, brand, account)
                if event is not None:
                    events.append(event)
            users = payload.get("users") or {}
            for dm in _list(payload, "direct_message_events"):
                event = _dm_event(dm, users, brand, account)
                if event is not None:
                    events.append(event)
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            raise MalformedPayload(f"X event not understood: {_why(exc)}") from exc
        return events

    # -- polling fallback -----------------------------------------------------------------

    def poll_mentions(
        self, account: AccountRef, credentials: Credentials, since_id: str | None
    ) -> PollResult:
        params = {
            "max_results": "100",
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
        }
        if since_id:
            params["since_id"] = since_id
        return self._poll(
            account, credentials, f"/2/users/{account.external_id}/mentions", params, since_id
        )

    def poll_search(
        self, account: AccountRef, credentials: Credentials, query: str, since_id: str | None
    ) -> PollResult:
        """Brand keywords and hashtags, for accounts without webhook access."""
        params = {
            "query": query,
            "max_results": "100",
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
        }
        if since_id:
            params["since_id"] = since_id
        return self._poll(account, credentials, "/2/tweets/search/recent", params, since_id)

    def _poll(
        self,
        account: AccountRef,
        credentials: Credentials,
        path: str,
        params: dict[str, str],
        since_id: str | None,
    ) -> PollResult:
        """Every page newer than ``since_id``, so a burst after a quiet time loses nothing.

        With ``since_id`` X answers the newest posts first, 100 a page, and names the next
        (older) page with ``meta.next_token`` until the range is exhausted.
        """
        events: list[InboundEvent] = []
        newest: str | None = None
        next_token: str | None = None
        for _ in range(MAX_PAGES):
            page = dict(params)
            if next_token:
                page["pagination_token"] = next_token
            body = self._get(account, credentials, path, page)
            meta = body.get("meta") or {}
            newest = newest or meta.get("newest_id")
            users = {u["id"]: u for u in (body.get("includes") or {}).get("users", [])}
            for tweet in body.get("data") or []:
                event = _v2_tweet_event(tweet, users, account)
                if event is not None:
                    events.append(event)
            next_token = meta.get("next_token")
            if not next_token:
                break
        else:
            log.warning("X %s: more than %d pages since %s", path, MAX_PAGES, since_id)
        return PollResult(events=events, cursor=newest or since_id)

    def _get(
        self, account: AccountRef, credentials: Credentials, path: str, params: dict[str, str]
    ) -> dict[str, Any]:
        if credentials.get("bearer_token"):  # app-only: no user token to refresh
            bearer = credentials.require("bearer_token")
            with http.client(api_base(account)) as c:
                try:
                    response = c.get(path, params=params, headers=_auth(bearer))
                except httpx.HTTPError as exc:
                    raise http.transport_error(exc) from exc
        else:
            response = call_as_user(
                api_base(account),
                account,
                credentials,
                lambda c, token: c.get(path, params=params, headers=_auth(token)),
            )
        if response.status_code != 200:
            raise _error(response)
        body = response.json()
        return body if isinstance(body, dict) else {}

    # -- outbound -------------------------------------------------------------------------

    def send(
        self, request: OutboundRequest, account: AccountRef, credentials: Credentials
    ) -> SendResult:
        if request.action == Action.X_REPLY:
            path = "/2/tweets"
            body: dict[str, Any] = {
                "text": request.text,
                "reply": {"in_reply_to_tweet_id": str(request.target["in_reply_to_tweet_id"])},
            }
        elif request.action == Action.X_QUOTE:
            path = "/2/tweets"
            body = {"text": request.text, "quote_tweet_id": str(request.target["quote_tweet_id"])}
        elif request.action == Action.X_DM:
            path = f"/2/dm_conversations/with/{request.target['recipient_id']}/messages"
            body = {"text": request.text}
        elif request.action == Action.X_POST:
            # https://docs.x.com/x-api/posts/create-post: a post of our own, no reply field.
            path = "/2/tweets"
            body = {"text": request.text}
        else:
            raise DeliveryError(f"X cannot perform {request.action}", permanent=True, code="action")
        response = call_as_user(
            api_base(account),
            account,
            credentials,
            lambda c, token: c.post(path, json=body, headers=_auth(token)),
        )
        if response.status_code not in (200, 201):
            raise _error(response)
        data = response.json().get("data") or {}
        external_id = data.get("id") or data.get("dm_event_id")
        if not external_id:
            raise DeliveryError("X answered without an id", permanent=False, outcome_unknown=True)
        return SendResult(external_id=str(external_id))

    def find_sent(
        self, request: OutboundRequest, account: AccountRef, credentials: Credentials
    ) -> str | None:
        """Our post or DM made for this request since it was queued, matched by what it
        answers and when; not by its text, which X rewrites (links become t.co)."""
        since = request.queued_at - CLOCK_SKEW
        if request.action in (Action.X_REPLY, Action.X_QUOTE, Action.X_POST):
            kind, answered = (
                ("replied_to", request.target.get("in_reply_to_tweet_id"))
                if request.action == Action.X_REPLY
                else ("quoted", request.target.get("quote_tweet_id"))
            )
            body = self._get(
                account,
                credentials,
                f"/2/users/{account.external_id}/tweets",
                {
                    "max_results": "100",
                    "tweet.fields": "referenced_tweets,created_at",
                    "start_time": _rfc3339(since),
                },
            )
            for post in body.get("data") or []:
                refs = {
                    (r.get("type"), str(r.get("id"))) for r in post.get("referenced_tweets") or []
                }
                if not _at_or_after(post.get("created_at"), since):
                    continue
                if request.action == Action.X_POST:
                    # A post of our own answers nothing: matched by its text, links aside.
                    same = _without_links(str(post.get("text") or "")) == _without_links(
                        request.text
                    )
                    if not refs and same:
                        return str(post["id"])
                elif (kind, str(answered)) in refs:
                    return str(post["id"])
            return None
        body = self._get(
            account,
            credentials,
            f"/2/dm_conversations/with/{request.target['recipient_id']}/dm_events",
            {"dm_event.fields": "sender_id,text,created_at"},
        )
        wanted = _without_links(request.text)
        for event in body.get("data") or []:
            if (
                str(event.get("sender_id")) == account.external_id
                and _at_or_after(event.get("created_at"), since)
                and _without_links(str(event.get("text") or "")) == wanted
            ):
                return str(event["id"])
        return None


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _at_or_after(value: Any, moment: datetime) -> bool:
    if not value:
        return False
    try:
        created = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return False
    return created >= moment


def _without_links(text: str) -> str:
    return _LINK.sub("<link>", text).strip()


# -- normalization ------------------------------------------------------------------------


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedPayload(f"body is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise MalformedPayload("body is not a JSON object")
    return payload


def _list(payload: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    value = payload.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise MalformedPayload(f"{name!r} is not a list of objects")
    return value


def _why(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    if isinstance(exc, KeyError):
        return f"field {exc.args[0]!r} is missing"
    return str(exc)


def _v1_tweet_event(
    tweet: Mapping[str, Any], brand: str, account: AccountRef
) -> InboundEvent | None:
    user = tweet["user"]
    retweeted = tweet.get("retweeted_status")
    if retweeted and str(retweeted["user"]["id_str"]) == brand:
        return None  # a repost of our own post is reach, not work
    text = (
        (tweet.get("extended_tweet") or {}).get("full_text")
        or tweet.get("full_text")
        or tweet["text"]
    )
    author_id = str(user["id_str"])
    return InboundEvent.model_validate(
        {
            "channel": "x",
            "external_id": str(tweet["id_str"]),
            "direction": "outbound" if author_id == brand else "inbound",
            "visibility": "public",
            "author": {
                "id": author_id,
                "handle": "@" + str(user.get("screen_name", "")),
                "name": str(user.get("name", ""))[:200],
                "followers": int(user.get("followers_count") or 0),
                "verified": bool(user.get("verified")),
                "is_brand": author_id == brand,
            },
            "account": brand,
            "text": text,
            "created_at": _v1_time(tweet),
            "reply_to": tweet.get("in_reply_to_status_id_str"),
            "metrics": {
                "likes": int(tweet.get("favorite_count") or 0),
                "reposts": int(tweet.get("retweet_count") or 0),
                "replies": int(tweet.get("reply_count") or 0),
                "quotes": int(tweet.get("quote_count") or 0),
            },
            "is_repost": retweeted is not None,
            # A quote of our post lets a self-serve app answer it in public (a mention too).
            "extra": {"quotes_account": True} if _quotes(tweet, brand) else {},
        }
    )


def _quotes(tweet: Mapping[str, Any], brand: str) -> bool:
    quoted = tweet.get("quoted_status") or {}
    return str((quoted.get("user") or {}).get("id_str", "")) == brand


def _v1_time(tweet: Mapping[str, Any]) -> datetime:
    if tweet.get("timestamp_ms"):
        return datetime.fromtimestamp(int(tweet["timestamp_ms"]) / 1000, UTC)
    return parsedate_to_datetime(str(tweet["created_at"])).astimezone(UTC)


def _dm_event(
    dm: Mapping[str, Any], users: Mapping[str, Any], brand: str, account: AccountRef
) -> InboundEvent | None:
    if dm.get("type") != "message_create":
        return None
    create = dm["message_create"]
    sender = str(create["sender_id"])
    recipient = str(create["target"]["recipient_id"])
    profile = users.get(sender) or {}
    return InboundEvent.model_validate(
        {
            "channel": "x",
            "external_id": str(dm["id"]),
            "direction": "outbound" if sender == brand else "inbound",
            "visibility": "private",
            "author": {
                "id": sender,
                "handle": "@" + str(profile.get("screen_name", "")) if profile else "",
                "name": str(profile.get("name", ""))[:200],
                "followers": int(profile.get("followers_count") or 0),
                "verified": bool(profile.get("verified")),
                "is_brand": sender == brand,
            },
            "recipient": {"id": recipient, "is_brand": recipient == brand},
            "account": brand,
            "text": create["message_data"]["text"],
            "created_at": datetime.fromtimestamp(int(dm["created_timestamp"]) / 1000, UTC),
        }
    )


def _v2_tweet_event(
    tweet: Mapping[str, Any], users: Mapping[str, Any], account: AccountRef
) -> InboundEvent | None:
    refs = {r.get("type"): str(r.get("id")) for r in tweet.get("referenced_tweets") or []}
    author_id = str(tweet["author_id"])
    if "retweeted" in refs and author_id != account.external_id:
        return None  # polling sees the retweet itself; the original is what matters
    user = users.get(author_id) or {}
    metrics = tweet.get("public_metrics") or {}
    brand = author_id == account.external_id
    return InboundEvent.model_validate(
        {
            "channel": "x",
            "external_id": str(tweet["id"]),
            "direction": "outbound" if brand else "inbound",
            "visibility": "public",
            "author": {
                "id": author_id,
                "handle": "@" + str(user.get("username", "")) if user else "",
                "name": str(user.get("name", ""))[:200],
                "followers": int((user.get("public_metrics") or {}).get("followers_count") or 0),
                "verified": bool(user.get("verified")),
                "is_brand": brand,
            },
            "account": account.external_id,
            "text": (tweet.get("note_tweet") or {}).get("text") or tweet["text"],
            "created_at": tweet["created_at"],
            "reply_to": refs.get("replied_to"),
            "metrics": {
                "likes": int(metrics.get("like_count") or 0),
                "reposts": int(metrics.get("retweet_count") or 0),
                "replies": int(metrics.get("reply_count") or 0),
                "quotes": int(metrics.get("quote_count") or 0),
            },
        }
    )


# -- errors ---------------------------------------------------------------------------------


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _error(response: httpx.Response) -> DeliveryError:
    reason = _reason(response)
    status = response.status_code
    if status == 429:
        reset = response.headers.get("x-rate-limit-reset")
        retry_at = datetime.fromtimestamp(int(reset), UTC) if reset and reset.isdigit() else None
        return DeliveryError(
            f"rate limited: {reason}", permanent=False, code="429", retry_at=retry_at
        )
    if status >= 500:
        return DeliveryError(reason, permanent=False, code=str(status), outcome_unknown=True)
    if status == 401:
        return DeliveryError(
            f"access token expired or revoked and no refresh token to renew it: {reason}; "
            "connect the account again with the offline.access scope",
            permanent=True,
            code="401",
        )
    if status == 403 and "duplicate" in reason.lower():
        # X refuses a post identical to one just made: most likely our own earlier attempt,
        # so the next round looks it up instead of failing the reply.
        return DeliveryError(reason, permanent=False, code="403", outcome_unknown=True)
    return DeliveryError(reason, permanent=True, code=str(status))


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict):
        if body.get("detail"):
            return str(body["detail"])[:500]
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("message") or errors[0].get("detail"))[:500]
        if body.get("title"):
            return str(body["title"])[:500]
    return f"HTTP {response.status_code}"
