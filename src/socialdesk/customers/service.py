"""Customer operations: explicit merge of two records that are the same person, and the
undo of a wrong one (an identity split off into a customer of its own)."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from socialdesk.conversations.models import Conversation
from socialdesk.core.errors import InvalidInput, NotFound
from socialdesk.customers import repository as repo
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


def unmerge_identity(
    session: Session, workspace_id: int, customer_id: int, identity_id: int
) -> Customer:
    """A wrong merge undone (a supervisor's, from the customer's page or the API): the
    customer's identity becomes a customer of its own."""
    identity = repo.get_identity(session, workspace_id, identity_id)
    if identity is None or identity.customer_id != customer_id:
        raise NotFound(f"customer {customer_id} has no identity {identity_id}")
    return split_identity(session, workspace_id, identity_id)


def split_identity(session: Session, workspace_id: int, identity_id: int) -> Customer:
    """Unmerge: the identity becomes a customer of its own, taking the cases that only it
    wrote in. CRM fields stay with the customer it leaves (they cannot be told apart)."""
    identity = repo.get_identity(session, workspace_id, identity_id)
    if identity is None:
        raise NotFound(f"no identity {identity_id}")
    if identity.customer_id is None:
        raise InvalidInput("this identity belongs to no customer")
    former = identity.customer_id
    if len(repo.identities_of(session, former)) < 2:
        raise InvalidInput("the customer's only identity cannot be split off")
    fresh = Customer(
        workspace_id=workspace_id,
        display_name=identity.display_name or identity.handle,
        crm_fields={},
    )
    session.add(fresh)
    session.flush()
    cases = repo.conversations_only_by(session, workspace_id, former, identity.id)
    identity.customer_id = fresh.id
    repo.move_conversations(session, cases, fresh.id)
    session.flush()
    return fresh
