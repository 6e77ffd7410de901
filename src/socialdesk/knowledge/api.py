"""Canned replies and knowledge-base articles: agents read them, admins manage them (the
console's admin screens call the same services)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from socialdesk.core.http import ERROR_RESPONSES, Principal, db_session, require_role
from socialdesk.core.limits import MAX_DB_INT
from socialdesk.core.pagination import CursorParam, Page, examples, page_by_id
from socialdesk.core.roles import AccessRole as Role
from socialdesk.knowledge import repository as repo
from socialdesk.knowledge import service
from socialdesk.knowledge.models import CannedReply, KbArticle

router = APIRouter(prefix="/api/v1", tags=["knowledge"], responses=ERROR_RESPONSES)
Agent = Annotated[Principal, Depends(require_role(Role.AGENT))]
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
Id = Annotated[int, Path(ge=1, le=MAX_DB_INT)]
Limit = Annotated[int, Query(ge=1, le=500)]


class CannedReplyIn(BaseModel):
    model_config = examples(
        {
            "shortcut": "refund",
            "title": "Refund on its way",
            "body": "Hi {customer_name}, your refund is on its way. {agent_name}",
        },
        {"shortcut": "dm", "title": "Move to DM", "body": "Please DM us.", "channel": "x"},
    )

    shortcut: str = Field(min_length=1, max_length=64, description="a-z, 0-9, - and _")
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(
        min_length=1,
        max_length=10_000,
        description="Placeholders: {customer_name}, {customer_handle}, {agent_name}, {case_id}, "
        "{channel}",
    )
    channel: str | None = Field(default=None, max_length=32, description="Only for this channel")


class CannedReplyOut(BaseModel):
    model_config = examples(
        {
            "id": 4,
            "shortcut": "refund",
            "title": "Refund on its way",
            "body": "Hi {customer_name}, your refund is on its way. {agent_name}",
            "channel": None,
            "updated_at": "2026-12-07T10:00:00Z",
        }
    )

    id: int
    shortcut: str
    title: str
    body: str
    channel: str | None
    updated_at: datetime


class ArticleIn(BaseModel):
    model_config = examples(
        {
            "title": "Reset your router",
            "url": "https://help.acme.example/router-reset",
            "body": "Unplug it for 30 seconds, then ...",
            "tags": ["internet", "router"],
        }
    )

    title: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=1000, description="An http(s) link")
    body: str = Field(default="", max_length=50_000)
    tags: list[Annotated[str, Field(max_length=64)]] = Field(default=[], max_length=50)
    published: bool = True


class ArticleOut(BaseModel):
    model_config = examples(
        {
            "id": 5,
            "title": "Reset your router",
            "url": "https://help.acme.example/router-reset",
            "body": "Unplug it for 30 seconds, then ...",
            "tags": ["internet", "router"],
            "published": True,
            "updated_at": "2026-12-07T10:00:00Z",
        }
    )

    id: int
    title: str
    url: str
    body: str
    tags: list[str]
    published: bool
    updated_at: datetime


def _canned(row: CannedReply) -> CannedReplyOut:
    return CannedReplyOut.model_validate(row, from_attributes=True)


def _article(row: KbArticle) -> ArticleOut:
    return ArticleOut.model_validate(row, from_attributes=True)


def _save_canned(
    session: Session, principal: Principal, body: CannedReplyIn, reply_id: int | None
) -> CannedReplyOut:
    row = service.save_canned_reply(
        session,
        workspace_id=principal.workspace_id,
        shortcut=body.shortcut,
        title=body.title,
        body=body.body,
        channel=body.channel,
        reply_id=reply_id,
    )
    session.commit()
    return _canned(row)


def _save_article(
    session: Session, principal: Principal, body: ArticleIn, article_id: int | None
) -> ArticleOut:
    row = service.save_article(
        session,
        workspace_id=principal.workspace_id,
        title=body.title,
        url=body.url,
        body=body.body,
        tags=body.tags,
        published=body.published,
        article_id=article_id,
    )
    session.commit()
    return _article(row)


@router.get("/canned-replies", response_model=Page[CannedReplyOut], summary="Canned replies")
def list_canned_replies(
    principal: Agent,
    session: Session = Depends(db_session),
    limit: Limit = 100,
    cursor: CursorParam = None,
) -> Page[CannedReplyOut]:
    rows = repo.canned_replies(session, principal.workspace_id)
    return page_by_id(rows, cursor=cursor, limit=limit, id_of=lambda r: r.id, out=_canned)


@router.post(
    "/canned-replies",
    response_model=CannedReplyOut,
    status_code=201,
    summary="Add a canned reply (admins)",
)
def add_canned_reply(
    body: CannedReplyIn, principal: Admin, session: Session = Depends(db_session)
) -> CannedReplyOut:
    return _save_canned(session, principal, body, None)


@router.put(
    "/canned-replies/{reply_id}",
    response_model=CannedReplyOut,
    summary="Change a canned reply (admins)",
)
def change_canned_reply(
    reply_id: Id, body: CannedReplyIn, principal: Admin, session: Session = Depends(db_session)
) -> CannedReplyOut:
    return _save_canned(session, principal, body, reply_id)


@router.delete(
    "/canned-replies/{reply_id}", status_code=204, summary="Delete a canned reply (admins)"
)
def delete_canned_reply(
    reply_id: Id, principal: Admin, session: Session = Depends(db_session)
) -> None:
    service.delete_canned_reply(session, workspace_id=principal.workspace_id, reply_id=reply_id)
    session.commit()


@router.get("/kb-articles", response_model=Page[ArticleOut], summary="Knowledge-base articles")
def list_articles(
    principal: Agent,
    session: Session = Depends(db_session),
    limit: Limit = 100,
    cursor: CursorParam = None,
) -> Page[ArticleOut]:
    rows = repo.articles(session, principal.workspace_id)
    return page_by_id(rows, cursor=cursor, limit=limit, id_of=lambda r: r.id, out=_article)


@router.post(
    "/kb-articles", response_model=ArticleOut, status_code=201, summary="Add an article (admins)"
)
def add_article(
    body: ArticleIn, principal: Admin, session: Session = Depends(db_session)
) -> ArticleOut:
    return _save_article(session, principal, body, None)


@router.put(
    "/kb-articles/{article_id}", response_model=ArticleOut, summary="Change an article (admins)"
)
def change_article(
    article_id: Id, body: ArticleIn, principal: Admin, session: Session = Depends(db_session)
) -> ArticleOut:
    return _save_article(session, principal, body, article_id)


@router.delete("/kb-articles/{article_id}", status_code=204, summary="Delete an article (admins)")
def delete_article(
    article_id: Id, principal: Admin, session: Session = Depends(db_session)
) -> None:
    service.delete_article(session, workspace_id=principal.workspace_id, article_id=article_id)
    session.commit()
