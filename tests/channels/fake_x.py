"""A fake X API v2 speaking the documented request and response shapes."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.channels.fakeplatform import FakePlatform, Recorded, Reply

UNAUTHORIZED = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
DELETED = {
    "title": "Forbidden",
    "type": "about:blank",
    "status": 403,
    "detail": "You attempted to reply to a Tweet that is deleted or not visible to you.",
}
# "Post creation restrictions (self-serve)" of the manage-Posts integration guide
# (https://docs.x.com/x-api/posts/manage-tweets/integrate): an API reply is accepted only
# when the original post's author summoned the replying account (mentioned or quoted it);
# Enterprise apps are exempt. The guide gives no error body; this one is X's usual
# problem shape with the refusal's wording as developers reported it in February 2026.
REPLY_NOT_ALLOWED = {
    "title": "Forbidden",
    "type": "about:blank",
    "status": 403,
    "detail": "Reply to this conversation is not allowed because you have not been mentioned "
    "or otherwise engaged by the author of the post you are replying to.",
}
TOO_MANY = {
    "title": "Too Many Requests",
    "detail": "Too Many Requests",
    "type": "about:blank",
    "status": 429,
}


# "Counting characters": every URL in a post is wrapped in a t.co link, so the text X gives
# back is not the text that was sent. https://docs.x.com/fundamentals/counting-characters
_URL = re.compile(r"https?://\S+")
# OAuth 2.0 refresh: https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code
# ("POST /2/oauth2/token", grant_type=refresh_token; tokens last two hours; offline.access
# issues a refresh token). The error body follows RFC 6749 section 5.2.
INVALID_GRANT = {
    "error": "invalid_request",
    "error_description": "Value passed for the token was invalid.",
}


@dataclass
class FakeX(FakePlatform):
    brand_id: str = "900"
    access_token: str = "user-token"
    bearer_token: str = "app-bearer-token"
    deleted: set[str] = field(default_factory=set)
    posts: list[dict[str, Any]] = field(default_factory=list)
    dms: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    brand_username: str = "AcmeCare"
    # A self-serve app (Free, Basic, Pro, pay-per-use) is held to the reply restriction.
    enterprise: bool = False
    client_id: str = "client-1"
    refresh_token: str = "refresh-1"
    # Posts per page of a timeline, newest first; meta.next_token names the next (older)
    # page, sent back as pagination_token. Recent search pagination:
    # https://docs.x.com/x-api/posts/search/integrate/paginate
    page_size: int = 100

    def __post_init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1_860_000_000_000_000_001)
        self._tokens = itertools.count(2)
        self.route("POST", "/2/oauth2/token", self._token)
        self.route("POST", "/2/tweets", self._create_tweet)
        self.route("POST", r"/2/dm_conversations/with/(\w+)/messages", self._send_dm)
        self.route("GET", r"/2/users/(\w+)/tweets", self._user_tweets)
        self.route("GET", r"/2/dm_conversations/with/(\w+)/dm_events", self._dm_events)
        self.route("GET", r"/2/users/(\w+)/mentions", self._timeline)
        self.route("GET", "/2/tweets/search/recent", self._timeline)

    def _authorized(self, request: Recorded) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.access_token}"

    def _create_tweet(self, request: Recorded, _: re.Match[str]) -> Reply:
        if not self._authorized(request):
            return Reply(401, UNAUTHORIZED)
        body = request.json()
        if not isinstance(body.get("text"), str):
            return Reply(
                400,
                {
                    "errors": [{"message": "$.text: is missing"}],
                    "title": "Invalid Request",
                    "detail": "One or more parameters to your request was invalid.",
                    "type": "https://api.twitter.com/2/problems/invalid-request",
                },
            )
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to in self.deleted:
            return Reply(403, DELETED)
        if reply_to and not self.enterprise and not self._summoned(reply_to):
            return Reply(403, REPLY_NOT_ALLOWED)
        tweet_id = str(next(self._ids))
        self.posts.append(
            {
                "id": tweet_id,
                "text": _URL.sub("https://t.co/a1B2c3D4e5", body["text"]),
                "reply_to": reply_to,
                "quote_of": body.get("quote_tweet_id"),
                "created_at": _now(),
            }
        )
        return Reply(
            201,
            {"data": {"id": tweet_id, "text": body["text"], "edit_history_tweet_ids": [tweet_id]}},
        )

    def _token(self, request: Recorded, _: re.Match[str]) -> Reply:
        form = request.form()
        if (
            form.get("grant_type") != "refresh_token"
            or form.get("refresh_token") != self.refresh_token
            or form.get("client_id") != self.client_id
        ):
            return Reply(400, INVALID_GRANT)
        n = next(self._tokens)
        self.access_token, self.refresh_token = f"user-token-{n}", f"refresh-{n}"
        return Reply(
            200,
            {
                "token_type": "bearer",
                "expires_in": 7200,
                "access_token": self.access_token,
                "scope": "tweet.read tweet.write users.read dm.write offline.access",
                "refresh_token": self.refresh_token,
            },
        )

    def _summoned(self, tweet_id: str) -> bool:
        """Whether the post mentions our account (posts the fake does not know pass)."""
        post = next((t for t in self.timeline if t["id"] == tweet_id), None)
        return post is None or f"@{self.brand_username}".lower() in post["text"].lower()

    def _send_dm(self, request: Recorded, match: re.Match[str]) -> Reply:
        if not self._authorized(request):
            return Reply(401, UNAUTHORIZED)
        event_id = str(next(self._ids))
        participant = match.group(1)
        self.dms.append(
            {
                "id": event_id,
                "text": _URL.sub("https://t.co/a1B2c3D4e5", request.json()["text"]),
                "participant": participant,
                "created_at": _now(),
            }
        )
        return Reply(
            201,
            {
                "data": {
                    "dm_conversation_id": f"{participant}-{self.brand_id}",
                    "dm_event_id": event_id,
                }
            },
        )

    def _user_tweets(self, request: Recorded, _: re.Match[str]) -> Reply:
        # GET /2/users/:id/tweets: newest first, ``start_time`` bounds the oldest post,
        # ``referenced_tweets`` names what each post replies to or quotes.
        # https://docs.x.com/x-api/posts/timelines/introduction
        if not self._authorized(request):
            return Reply(401, UNAUTHORIZED)
        since = request.query.get("start_time", "")
        data = []
        for p in reversed(self.posts):
            if p["created_at"] < since:
                continue
            refs = [{"type": "replied_to", "id": p["reply_to"]}] if p["reply_to"] else []
            refs += [{"type": "quoted", "id": p["quote_of"]}] if p.get("quote_of") else []
            post = {"id": p["id"], "text": p["text"], "created_at": p["created_at"]}
            data.append(post | ({"referenced_tweets": refs} if refs else {}))
        return Reply(200, {"data": data, "meta": {"result_count": len(data)}})

    def _dm_events(self, request: Recorded, match: re.Match[str]) -> Reply:
        data = [
            {
                "id": d["id"],
                "text": d["text"],
                "sender_id": self.brand_id,
                "event_type": "MessageCreate",
                "created_at": d["created_at"],
            }
            for d in reversed(self.dms)
            if d["participant"] == match.group(1)
        ]
        return Reply(200, {"data": data, "meta": {"result_count": len(data)}})

    def _timeline(self, request: Recorded, _: re.Match[str]) -> Reply:
        if not self._authorized(request) and request.headers.get("authorization") != (
            f"Bearer {self.bearer_token}"
        ):
            return Reply(401, UNAUTHORIZED)
        since = request.query.get("since_id")
        tweets = sorted(
            (t for t in self.timeline if not since or int(t["id"]) > int(since)),
            key=lambda t: int(t["id"]),
            reverse=True,
        )
        start = int(request.query.get("pagination_token") or 0)
        page = tweets[start : start + self.page_size]
        users: dict[str, Any] = {}
        for tweet in page:
            users[tweet["author_id"]] = {
                "id": tweet["author_id"],
                "name": "Dana",
                "username": f"dana{tweet['author_id']}",
                "public_metrics": {"followers_count": 120},
                "verified": False,
            }
        # A long post's whole text is in note_tweet.text, returned only when tweet.fields
        # names it; ``text`` holds the first 280 characters (Post object, data dictionary:
        # https://docs.x.com/x-api/fundamentals/data-dictionary).
        wants_note = "note_tweet" in request.query.get("tweet.fields", "").split(",")
        page = [
            t if wants_note else {k: v for k, v in t.items() if k != "note_tweet"} for t in page
        ]
        body: dict[str, Any] = {"meta": {"result_count": len(page)}}
        if page:
            body["data"] = page
            body["includes"] = {"users": list(users.values())}
            body["meta"]["newest_id"] = page[0]["id"]
            body["meta"]["oldest_id"] = page[-1]["id"]
        if start + self.page_size < len(tweets):
            body["meta"]["next_token"] = str(start + self.page_size)
        return Reply(200, body)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
