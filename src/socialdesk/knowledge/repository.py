"""All SQL of canned replies and knowledge base articles."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.knowledge.models import CannedReply, KbArticle


def canned_replies(session: Session, workspace_id: int) -> list[CannedReply]:
    return list(
        session.scalars(
            select(CannedReply)
            .where(CannedReply.workspace_id == workspace_id)
            .order_by(CannedReply.shortcut)
        )
    )


def canned_reply(session: Session, workspace_id: int, reply_id: int) -> CannedReply | None:
    return session.scalars(
        select(CannedReply).where(
            CannedReply.workspace_id == workspace_id, CannedReply.id == reply_id
        )
    ).first()


def canned_by_shortcut(session: Session, workspace_id: int, shortcut: str) -> CannedReply | None:
    return session.scalars(
        select(CannedReply).where(
            CannedReply.workspace_id == workspace_id, CannedReply.shortcut == shortcut
        )
    ).first()


def articles(
    session: Session, workspace_id: int, *, published_only: bool = False
) -> list[KbArticle]:
    query = select(KbArticle).where(KbArticle.workspace_id == workspace_id)
    if published_only:
        query = query.where(KbArticle.published.is_(True))
    return list(session.scalars(query.order_by(KbArticle.title)))


def article(session: Session, workspace_id: int, article_id: int) -> KbArticle | None:
    return session.scalars(
        select(KbArticle).where(KbArticle.workspace_id == workspace_id, KbArticle.id == article_id)
    ).first()


def add(session: Session, row: CannedReply | KbArticle) -> None:
    session.add(row)
    session.flush()


def delete(session: Session, row: CannedReply | KbArticle) -> None:
    session.delete(row)
    session.flush()
