"""Managing canned replies and articles, and preparing them for an agent's reply."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from socialdesk.core.errors import Conflict, InvalidInput, NotFound
from socialdesk.knowledge import placeholders
from socialdesk.knowledge import repository as repo
from socialdesk.knowledge.models import CannedReply, KbArticle
from socialdesk.knowledge.suggest import ArticleText, Suggestion, suggest

_SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    # Only web links: a javascript: or data: URL in an article would run in the agent's browser.
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput("the article link must be an http(s) URL")
    return url


def save_canned_reply(
    session: Session,
    *,
    workspace_id: int,
    shortcut: str,
    title: str,
    body: str,
    channel: str | None = None,
    reply_id: int | None = None,
) -> CannedReply:
    shortcut = shortcut.strip().lower()
    if not _SHORTCUT.match(shortcut):
        raise InvalidInput("a shortcut is 1-64 lower-case letters, digits, - or _")
    if not title.strip() or not body.strip():
        raise InvalidInput("a canned reply needs a title and a body")
    clash = repo.canned_by_shortcut(session, workspace_id, shortcut)
    if clash is not None and clash.id != reply_id:
        raise Conflict(f"the shortcut {shortcut!r} is already used")
    if reply_id is None:
        row = CannedReply(workspace_id=workspace_id, shortcut=shortcut, title="", body="")
        repo.add(session, row)
    else:
        found = repo.canned_reply(session, workspace_id, reply_id)
        if found is None:
            raise NotFound("no such canned reply")
        row = found
    row.shortcut = shortcut
    row.title = title.strip()
    row.body = body.strip()
    row.channel = channel or None
    session.flush()
    return row


def save_article(
    session: Session,
    *,
    workspace_id: int,
    title: str,
    url: str,
    body: str = "",
    tags: list[str] | None = None,
    published: bool = True,
    article_id: int | None = None,
) -> KbArticle:
    if not title.strip():
        raise InvalidInput("an article needs a title")
    checked = _check_url(url)
    if article_id is None:
        row = KbArticle(workspace_id=workspace_id, title="", url="")
        repo.add(session, row)
    else:
        found = repo.article(session, workspace_id, article_id)
        if found is None:
            raise NotFound("no such article")
        row = found
    row.title = title.strip()
    row.url = checked
    row.body = body.strip()
    row.tags = sorted({t.strip().lower() for t in (tags or []) if t.strip()})
    row.published = published
    session.flush()
    return row


def delete_canned_reply(session: Session, *, workspace_id: int, reply_id: int) -> None:
    row = repo.canned_reply(session, workspace_id, reply_id)
    if row is None:
        raise NotFound("no such canned reply")
    repo.delete(session, row)


def delete_article(session: Session, *, workspace_id: int, article_id: int) -> None:
    row = repo.article(session, workspace_id, article_id)
    if row is None:
        raise NotFound("no such article")
    repo.delete(session, row)


def render_canned_reply(
    session: Session, *, workspace_id: int, reply_id: int, values: Mapping[str, str]
) -> str:
    row = repo.canned_reply(session, workspace_id, reply_id)
    if row is None:
        raise NotFound("no such canned reply")
    return placeholders.fill(row.body, values)


def suggestions_for(
    session: Session, *, workspace_id: int, message: str, limit: int = 3
) -> list[tuple[KbArticle, Suggestion]]:
    rows = repo.articles(session, workspace_id, published_only=True)
    by_id = {a.id: a for a in rows}
    ranked = suggest(
        message, [ArticleText(a.id, a.title, a.body, tuple(a.tags)) for a in rows], limit
    )
    return [(by_id[s.article_id], s) for s in ranked]
