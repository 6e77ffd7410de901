"""SQL for customers and their identities."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from socialdesk.conversations.models import Conversation, Direction, Message
from socialdesk.customers.models import Customer, Identity


def get_customer(session: Session, workspace_id: int, customer_id: int) -> Customer | None:
    return session.scalars(
        select(Customer).where(Customer.workspace_id == workspace_id, Customer.id == customer_id)
    ).one_or_none()


def identities_of(session: Session, customer_id: int) -> Sequence[Identity]:
    return session.scalars(
        select(Identity).where(Identity.customer_id == customer_id).order_by(Identity.id)
    ).all()


def list_customers(
    session: Session,
    workspace_id: int,
    *,
    query: str | None = None,
    tier: str | None = None,
    limit: int = 50,
    offset: int = 0,
    after_id: int | None = None,
) -> tuple[list[Customer], int]:
    """A page in id order: after the customer ``after_id`` (a cursor), else past ``offset``."""
    stmt = select(Customer).where(
        Customer.workspace_id == workspace_id, Customer.merged_into_id.is_(None)
    )
    if tier:
        stmt = stmt.where(Customer.tier == tier)
    if query:
        like = f"%{query.strip().lstrip('@').casefold()}%"
        handles = select(Identity.customer_id).where(
            Identity.workspace_id == workspace_id, Identity.handle.like(like)
        )
        stmt = stmt.where(
            or_(
                func.lower(Customer.display_name).like(like),
                func.lower(Customer.email).like(like),
                Customer.id.in_(handles),
            )
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    if after_id is not None:
        stmt = stmt.where(Customer.id > after_id)
    rows = session.scalars(stmt.order_by(Customer.id).limit(limit).offset(offset)).all()
    return list(rows), total


def get_identity(session: Session, workspace_id: int, identity_id: int) -> Identity | None:
    return session.scalars(
        select(Identity).where(Identity.workspace_id == workspace_id, Identity.id == identity_id)
    ).one_or_none()


def conversations_only_by(
    session: Session, workspace_id: int, customer_id: int, identity_id: int
) -> list[int]:
    """The customer's cases in which every inbound message came from this one identity."""
    others = (
        select(Message.id)
        .where(
            Message.conversation_id == Conversation.id,
            Message.direction == Direction.INBOUND,
            Message.author_identity_id.is_distinct_from(identity_id),
        )
        .correlate(Conversation)
        .exists()
    )
    return list(
        session.scalars(
            select(Conversation.id).where(
                Conversation.workspace_id == workspace_id,
                Conversation.customer_id == customer_id,
                ~others,
            )
        )
    )


def move_conversations(session: Session, conversation_ids: Sequence[int], customer_id: int) -> None:
    if conversation_ids:
        session.execute(
            update(Conversation)
            .where(Conversation.id.in_(list(conversation_ids)))
            .values(customer_id=customer_id)
        )
