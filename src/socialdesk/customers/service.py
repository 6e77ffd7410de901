"""Customer operations: explicit merge of two records that are the same person."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from socialdesk.conversations.models import Conversation
from socialdesk.core.errors import InvalidInput, NotFound
from socialdesk.customers.models import Customer, Identity
from socialdesk.customers.repository import get_customer


def merge_customers(
    session: Session, workspace_id: int, source_id: int, target_id: int
) -> Customer:
    """Fold ``source`` into ``target``: identities and cases move; CRM gaps are filled."""
    if source_id == target_id:
        raise InvalidInput("a customer cannot be merged into itself")
    source = get_customer(session, workspace_id, source_id)
    target = get_customer(session, workspace_id, target_id)
    if source is None or target is None:
        raise NotFound(f"no customer {source_id if source is None else target_id}")
    if source.merged_into_id is not None:
        raise InvalidInput(f"customer {source_id} was already merged into {source.merged_into_id}")
    session.execute(
        update(Identity).where(Identity.customer_id == source_id).values(customer_id=target_id)
    )
    session.execute(
        update(Conversation)
        .where(Conversation.customer_id == source_id)
        .values(customer_id=target_id)
    )
    for attr in ("email", "phone", "tier", "lifetime_value"):
        if getattr(target, attr) is None and getattr(source, attr) is not None:
            setattr(target, attr, getattr(source, attr))
    target.crm_fields = {**source.crm_fields, **target.crm_fields}
    source.merged_into_id = target_id
    session.flush()
    return target
