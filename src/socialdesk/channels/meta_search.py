"""Searching Meta for what is said about the brand beyond its own accounts.

**Instagram hashtag search**: public posts carrying the listening rules' hashtags.

The Graph API's Hashtag Search (Instagram API with Facebook Login, the *Instagram Public
Content Access* feature): ``GET /ig_hashtag_search?user_id={ig-user-id}&q={name}`` answers
``{"data": [{"id": "<hashtag id>"}]}`` (ids are static, so each is looked up once), then
``GET /{hashtag-id}/recent_media?user_id={ig-user-id}&fields=...`` answers the media
published with it in the last 24 hours, newest first, up to 50 a page (``{"data": [...],
"paging": {"cursors": {"after": ...}, "next": ...}}``). An account may query at most 30
unique hashtags in a rolling 7 days, and hashtag media never carry the author's username,
so each post counts as its own author.
https://developers.facebook.com/docs/instagram-platform/instagram-api-with-facebook-login/hashtag-search

**Facebook Page mentions**: ``GET /{page-id}/tagged`` lists the public posts in which the Page
has been tagged (a Page access token with ``pages_read_user_content``), as Post objects
(``id``, ``message``, ``created_time``, ``permalink_url``) in ``{"data": [...], "paging":
{...}}``, newest first; ``since`` (a Unix time) keeps to the new ones. A user post's ``from``
is returned only to its own author, so each post counts as its own author here too.
https://developers.facebook.com/docs/graph-api/reference/page/tagged
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from pydantic import ValidationError

from socialdesk.channels import http
from socialdesk.channels.base import AccountRef, DeliveryError
from socialdesk.channels.credentials import Credentials
from socialdesk.channels.events import InboundEvent
from socialdesk.channels.meta import (
    FacebookConnector,
    InstagramConnector,
    _answer,
    _auth,
    _seconds,
    _why,
)

MAX_HASHTAGS = 30
"""Unique hashtags an Instagram account may query in a rolling 7 days."""
MEDIA_FIELDS = "id,caption,timestamp,permalink,media_type,comments_count,like_count"
MAX_PAGES = 4


def poll_hashtag(
    connector: InstagramConnector,
    account: AccountRef,
    credentials: Credentials,
    tag: str,
    hashtag_id: str | None,
    since: datetime | None,
) -> tuple[list[InboundEvent], str, datetime | None]:
    """The posts with ``#tag`` published after ``since``; also the hashtag's id and the newest
    post's time (the next cursor)."""
    token = credentials.require("access_token")
    user = account.external_id
    with http.client(connector._base(account)) as c:
        if not hashtag_id:
            found = _get(c, "/ig_hashtag_search", {"user_id": user, "q": tag}, token)
            data = found.get("data") or []
            if not data or not isinstance(data[0], dict) or not data[0].get("id"):
                raise DeliveryError(
                    f"Instagram knows no hashtag #{tag}", permanent=True, code="hashtag"
                )
            hashtag_id = str(data[0]["id"])
        params: dict[str, str] = {"user_id": user, "fields": MEDIA_FIELDS, "limit": "50"}
        events: list[InboundEvent] = []
        for _ in range(MAX_PAGES):
            page = _get(c, f"/{hashtag_id}/recent_media", params, token)
            items = [m for m in page.get("data") or [] if isinstance(m, dict)]
            fresh = [m for m in items if since is None or _seconds(m.get("timestamp")) > since]
            events += [_event(m, tag, account) for m in fresh]
            after = ((page.get("paging") or {}).get("cursors") or {}).get("after")
            if len(fresh) < len(items) or not after or not (page.get("paging") or {}).get("next"):
                break
            params["after"] = str(after)
    newest = max((e.created_at for e in events), default=since)
    return events, hashtag_id, newest


POST_FIELDS = "id,message,created_time,permalink_url"


def poll_tagged(
    connector: FacebookConnector,
    account: AccountRef,
    credentials: Credentials,
    since: datetime | None,
) -> tuple[list[InboundEvent], datetime | None]:
    """The public posts that tagged the Page after ``since``, and the newest one's time."""
    token = credentials.require("access_token")
    params: dict[str, str] = {"fields": POST_FIELDS, "limit": "100"}
    if since is not None:
        params["since"] = str(int(since.timestamp()))
    events: list[InboundEvent] = []
    with http.client(connector._base(account)) as c:
        for _ in range(MAX_PAGES):
            page = _get(c, f"/{account.external_id}/tagged", params, token)
            items = [p for p in page.get("data") or [] if isinstance(p, dict)]
            fresh = [p for p in items if since is None or _seconds(p.get("created_time")) > since]
            events += [_post_event(p, account) for p in fresh]
            after = ((page.get("paging") or {}).get("cursors") or {}).get("after")
            if len(fresh) < len(items) or not after or not (page.get("paging") or {}).get("next"):
                break
            params["after"] = str(after)
    return events, max((e.created_at for e in events), default=since)


def _get(c: httpx.Client, path: str, params: dict[str, str], token: str) -> dict[str, Any]:
    try:
        response = c.get(path, params=params, headers=_auth(token))
    except httpx.HTTPError as exc:
        raise http.transport_error(exc) from exc
    return _answer(response)


def _event(media: dict[str, Any], tag: str, account: AccountRef) -> InboundEvent:
    media_id = str(media.get("id") or "")
    try:
        return InboundEvent.model_validate(
            {
                "channel": "instagram",
                "external_id": media_id,
                "visibility": "public",
                # The API never names the author of hashtag media.
                "author": {"id": f"hashtag-media:{media_id}"},
                "account": account.external_id,
                "text": str(media.get("caption") or ""),
                "created_at": _seconds(media.get("timestamp")),
                "metrics": {
                    "likes": int(media.get("like_count") or 0),
                    "replies": int(media.get("comments_count") or 0),
                },
                "extra": {
                    "hashtag_search": tag,
                    "permalink": str(media.get("permalink") or ""),
                },
            }
        )
    except (ValidationError, ValueError) as exc:
        raise DeliveryError(
            f"hashtag media not understood: {_why(exc)}", permanent=True, code="hashtag"
        ) from exc


def _post_event(post: dict[str, Any], account: AccountRef) -> InboundEvent:
    post_id = str(post.get("id") or "")
    author = post.get("from") if isinstance(post.get("from"), dict) else None
    try:
        return InboundEvent.model_validate(
            {
                "channel": "facebook",
                "external_id": post_id,
                "visibility": "public",
                "author": {
                    "id": str(author["id"])
                    if author and author.get("id")
                    else f"tagged-post:{post_id}",
                    "name": str(author.get("name") or "") if author else "",
                },
                "account": account.external_id,
                "text": str(post.get("message") or ""),
                "created_at": _seconds(post.get("created_time")),
                "extra": {"tagged": True, "permalink": str(post.get("permalink_url") or "")},
            }
        )
    except (ValidationError, ValueError) as exc:
        raise DeliveryError(
            f"tagged post not understood: {_why(exc)}", permanent=True, code="tagged"
        ) from exc
