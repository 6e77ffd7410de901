"""A fake Graph API speaking the documented shapes of Pages, Messenger and Instagram."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tests.channels.fakeplatform import FakePlatform, Recorded, Reply


def graph_error(
    code: int, message: str, subcode: int | None = None, kind: str = "OAuthException"
) -> dict[str, Any]:
    error: dict[str, Any] = {
        "message": message,
        "type": kind,
        "code": code,
        "fbtrace_id": "AbCdEfGhIjK",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


EXPIRED = graph_error(
    190,
    "Error validating access token: Session has expired on Monday, 02-Nov-26 08:00:00 PST.",
    463,
)
MISSING_OBJECT = graph_error(
    100,
    "Unsupported post request. Object with ID '555_901' does not exist, cannot be loaded due "
    "to missing permissions, or does not support this operation.",
    33,
    "GraphMethodException",
)
UNAVAILABLE = graph_error(551, "(#551) This person isn't available right now.", 1545041)
# Messenger Platform, Common Error Codes ("10 - 2018278: This message is sent outside of
# allowed window"): https://developers.facebook.com/docs/messenger-platform/error-codes
OUTSIDE_WINDOW = graph_error(10, "(#10) This message is sent outside of allowed window.", 2018278)
# The standard window and the HUMAN_AGENT tag: "Send a Message" and the Send API reference,
# https://developers.facebook.com/docs/messenger-platform/send-messages and
# https://developers.facebook.com/docs/messenger-platform/reference/send-api
STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)


# Every Graph API path starts with the version asked for ("Versioning"):
# https://developers.facebook.com/docs/graph-api/guides/versioning
VERSION = r"/v\d+\.\d+"


@dataclass
class FakeMeta(FakePlatform):
    owner_id: str = "page-1"
    page_id: str = "page-1"  # the Facebook Page (linked to the Instagram account)
    access_token: str = "page-token"
    deleted: set[str] = field(default_factory=set)
    unavailable: set[str] = field(default_factory=set)
    comments: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    # comment id -> (username, text, ISO timestamp): comments that @mention us
    mentioned: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    mention_replies: list[dict[str, str]] = field(default_factory=list)
    # When each customer last wrote, and the platform's "now": the Send API's windows.
    wrote_at: dict[str, datetime] = field(default_factory=dict)
    now: datetime | None = None
    # Hashtag Search: hashtag name -> id, and per id its recent media, newest first.
    hashtag_ids: dict[str, str] = field(default_factory=dict)
    hashtag_media: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Public posts that tag the Page, newest first (each with "from": its author).
    tagged_posts: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1)
        self.route("POST", VERSION + r"/([^/]+)/(comments|replies)", self._comment)
        self.route("GET", VERSION + r"/([^/]+)/(comments|replies)", self._list_comments)
        self.route("POST", VERSION + r"/([^/]+)/messages", self._message)
        self.route("GET", VERSION + r"/([^/]+)/conversations", self._conversations)
        self.route("POST", VERSION + r"/([^/]+)/mentions", self._reply_to_mention)
        self.route("GET", VERSION + r"/ig_hashtag_search", self._hashtag_search)
        self.route("GET", VERSION + r"/([^/]+)/tagged", self._tagged)
        self.route("GET", VERSION + r"/(\d+)/recent_media", self._recent_media)
        self.route("GET", VERSION + r"/([^/]+)", self._user_fields)

    def _authorized(self, request: Recorded) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.access_token}"

    def _comment(self, request: Recorded, match: re.Match[str]) -> Reply:
        if not self._authorized(request):
            return Reply(400, EXPIRED)
        parent = match.group(1)
        if parent in self.deleted:
            return Reply(400, MISSING_OBJECT)
        form = request.form()
        if not form.get("message"):
            return Reply(400, graph_error(100, "(#100) Missing message", kind="OAuthException"))
        comment_id = f"{parent}_{next(self._ids)}"
        self.comments.append({"id": comment_id, "parent": parent, "message": form["message"]})
        return Reply(200, {"id": comment_id})

    def _list_comments(self, request: Recorded, match: re.Match[str]) -> Reply:
        # A Facebook Comment carries its text in ``message``, an Instagram Comment in
        # ``text``; naming a field the node lacks fails the request with error #100.
        # https://developers.facebook.com/docs/graph-api/reference/comment/ and
        # https://developers.facebook.com/docs/instagram-platform/reference/instagram-comment
        field = "text" if match.group(2) == "replies" else "message"
        asked = request.query.get("fields", "id").split(",")
        unknown = [f for f in asked if f not in ("id", "from", "timestamp", field)]
        if unknown:
            node = "IGCommentFromUser" if field == "text" else "Comment"
            return Reply(
                400,
                graph_error(
                    100,
                    f"(#100) Tried accessing nonexisting field ({unknown[0]}) "
                    f"on node type ({node})",
                ),
            )
        data = [
            {"id": c["id"], field: c["message"], "from": {"id": self.owner_id, "name": "Acme"}}
            for c in self.comments
            if c["parent"] == match.group(1)
        ]
        return Reply(200, {"data": data, "paging": {"cursors": {"before": "a", "after": "b"}}})

    def _message(self, request: Recorded, match: re.Match[str]) -> Reply:
        if not self._authorized(request):
            return Reply(400, EXPIRED)
        body = request.json()
        recipient = body.get("recipient") or {}
        text = (body.get("message") or {}).get("text")
        if not text or not (recipient.get("id") or recipient.get("comment_id")):
            return Reply(400, graph_error(100, "(#100) The parameter recipient is required"))
        user = recipient.get("id") or f"commenter-of-{recipient['comment_id']}"
        if user in self.unavailable:
            return Reply(400, UNAVAILABLE)
        if recipient.get("id") and not self._within_window(user, body):
            return Reply(400, OUTSIDE_WINDOW)
        message_id = f"m_{next(self._ids)}"
        self.messages.append({"id": message_id, "user": user, "text": text, "body": body})
        return Reply(200, {"recipient_id": user, "message_id": message_id})

    def _within_window(self, user: str, body: dict[str, Any]) -> bool:
        wrote = self.wrote_at.get(user)
        if wrote is None or self.now is None:
            return True
        if body.get("messaging_type") == "RESPONSE":
            return self.now - wrote < STANDARD_WINDOW
        if body.get("messaging_type") == "MESSAGE_TAG" and body.get("tag") == "HUMAN_AGENT":
            return self.now - wrote < HUMAN_AGENT_WINDOW
        return False

    def _conversations(self, request: Recorded, match: re.Match[str]) -> Reply:
        # Conversations API: GET /PAGE-ID/conversations?platform=messenger|instagram; with
        # Facebook Login the Instagram inbox is read through the linked Page too.
        # https://developers.facebook.com/docs/messenger-platform/conversations
        if match.group(1) != self.page_id:
            return Reply(
                400,
                graph_error(
                    100,
                    "(#100) Tried accessing nonexisting field (conversations) on node type "
                    "(InstagramUser)",
                ),
            )
        user = request.query.get("user_id")
        data = [
            {"id": m["id"], "message": m["text"], "from": {"id": self.owner_id}}
            for m in reversed(self.messages)
            if m["user"] == user
        ]
        return Reply(200, {"data": [{"id": "t_1", "messages": {"data": data}}]})

    def _user_fields(self, request: Recorded, match: re.Match[str]) -> Reply:
        if not self._authorized(request):
            return Reply(400, EXPIRED)
        found = re.match(r"mentioned_comment\.comment_id\((\w+)\)", request.query.get("fields", ""))
        if not found or found.group(1) not in self.mentioned:
            return Reply(
                400, graph_error(100, "(#100) Invalid comment_id", kind="GraphMethodException")
            )
        username, text, timestamp = self.mentioned[found.group(1)]
        return Reply(
            200,
            {
                "mentioned_comment": {
                    "id": found.group(1),
                    "text": text,
                    "timestamp": timestamp,
                    "username": username,
                    "media": {"id": "17900099"},
                },
                "id": match.group(1),
            },
        )

    def _reply_to_mention(self, request: Recorded, match: re.Match[str]) -> Reply:
        if not self._authorized(request):
            return Reply(400, EXPIRED)
        form = request.form()
        if not form.get("media_id") or not form.get("message"):
            return Reply(400, graph_error(100, "(#100) media_id and message are required"))
        reply_id = str(next(self._ids))
        self.mention_replies.append(form | {"id": reply_id})
        return Reply(200, {"id": reply_id})

    # Hashtag Search (Instagram API with Facebook Login):
    # https://developers.facebook.com/docs/instagram-platform/instagram-api-with-facebook-login/hashtag-search
    # GET /ig_hashtag_search?user_id=&q= answers {"data": [{"id": ...}]}; GET
    # /{hashtag-id}/recent_media?user_id=&fields= answers the media newest first, at most 50
    # a page (an "after" cursor, and a "next" link while more remain), and refuses the
    # username field. (Here the cursor is an offset; Meta's is opaque.)
    def _hashtag_search(self, request: Recorded, match: re.Match[str]) -> Reply:
        if not self._authorized(request):
            return Reply(400, EXPIRED)
        if not request.query.get("user_id") or not request.query.get("q"):
            return Reply(400, graph_error(100, "(#100) The parameter user_id is required"))
        found = self.hashtag_ids.get(request.query["q"].lower())
        return Reply(200, {"data": [{"id": found}] if found else []})

    def _recent_media(self, request: Recorded, match: re.Match[str]) -> Reply:
        if not self._authorized(request):
            return Reply(400, EXPIRED)
        if not request.query.get("user_id"):
            return Reply(400, graph_error(100, "(#100) The parameter user_id is required"))
        fields = request.query.get("fields", "id").split(",")
        if "username" in fields:
            return Reply(
                400,
                graph_error(
                    100, "(#100) Tried accessing nonexisting field (username) on node type (Media)"
                ),
            )
        media = self.hashtag_media.get(match.group(1), [])
        limit = min(int(request.query.get("limit", "25")), 50)
        start = int(request.query.get("after", "0") or 0) if "after" in request.query else 0
        page = media[start : start + limit]
        body: dict[str, Any] = {
            "data": [{k: m[k] for k in fields if k in m} for m in page],
            "paging": {"cursors": {"after": str(start + limit)}},
        }
        if start + limit < len(media):
            body["paging"]["next"] = f"{self.base_url}/v0/{match.group(1)}/recent_media"
        return Reply(200, body)

    # Page Tagged: https://developers.facebook.com/docs/graph-api/reference/page/tagged
    # "All public posts in which the page has been tagged"; for user posts the from field is
    # only returned to the user who created the post. Time-based paging: since (Unix time).
    def _tagged(self, request: Recorded, match: re.Match[str]) -> Reply:
        if not self._authorized(request):
            return Reply(400, EXPIRED)
        if match.group(1) != self.page_id:
            return Reply(400, MISSING_OBJECT)
        fields = request.query.get("fields", "id,message,created_time").split(",")
        since = int(request.query.get("since", "0") or 0)
        posts = [
            p
            for p in self.tagged_posts
            if datetime.fromisoformat(p["created_time"].replace("+0000", "+00:00")).timestamp()
            >= since
        ]
        limit = min(int(request.query.get("limit", "25")), 100)
        start = int(request.query.get("after", "0") or 0)
        page = posts[start : start + limit]
        data = [
            {k: p[k] for k in fields if k in p and (k != "from" or p[k]["id"] == self.page_id)}
            for p in page
        ]
        body: dict[str, Any] = {
            "data": data,
            "paging": {"cursors": {"before": str(start), "after": str(start + limit)}},
        }
        if start + limit < len(posts):
            body["paging"]["next"] = f"{self.base_url}/v0/{self.page_id}/tagged"
        return Reply(200, body)
