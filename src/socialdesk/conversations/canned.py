"""A canned reply filled in for one case: the customer's name and handle, the agent's name,
the case id and its channel (the console's composer and the API take this one path)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from socialdesk.conversations import repository
from socialdesk.core.errors import NotFound
from socialdesk.customers import repository as customers_repo
from socialdesk.knowledge import service as knowledge


def fill_canned_reply(
    session: Session, *, workspace_id: int, conversation_id: int, reply_id: int, agent_name: str
) -> str:
    conversation = repository.get_conversation(session, workspace_id, conversation_id)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id} in this workspace")
    author = repository.last_inbound_author(session, workspace_id, conversation_id)
    customer = (
        None
        if conversation.customer_id is None
        else customers_repo.get_customer(session, workspace_id, conversation.customer_id)
    )
    customer_name = ""
    if customer is not None and customer.display_name:
        customer_name = customer.display_name
    elif author is not None:
        customer_name = author.display_name or author.handle or ""
    values = {
        "customer_name": customer_name,
        "customer_handle": (author.handle or "") if author else "",
        "agent_name": agent_name,
        "case_id": str(conversation_id),
        "channel": conversation.channel,
    }
    return knowledge.render_canned_reply(
        session, workspace_id=workspace_id, reply_id=reply_id, values=values
    )
