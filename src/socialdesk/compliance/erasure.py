"""Erasing one customer's personal data on request (GDPR art. 17, the right to erasure).

Rows are anonymised rather than deleted, so the reports' counts, service levels and response
times stay true while nothing is left that names the person or repeats their words: the
texts they wrote and that were written to them, their handles, ids on the platforms, email,
phone, CRM fields, the raw payloads the platforms sent, and the triage explanations that
quote them. The customers merged into them are the same person and go with them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from socialdesk.compliance import repository as repo
from socialdesk.core import audit
from socialdesk.core.errors import NotFound
from socialdesk.eventhooks.repository import erase_payloads_of_cases


@dataclass(frozen=True, slots=True)
class ErasureReport:
    customer_ids: list[int]
    identities: int
    conversations: int
    messages: int
    raw_events: int
    dead_letters: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _mentions_any(text: str, needles: set[str]) -> bool:
    return any(needle and needle in text for needle in needles)


def erase_customer(
    session: Session,
    workspace_id: int,
    customer_id: int,
    actor: audit.Actor,
    now: datetime,
    *,
    reason: str = "",
) -> ErasureReport:
    """Anonymise the customer everywhere and record it in the audit log (flushes only)."""
    customer = repo.customer_in_workspace(session, workspace_id, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    customer_ids = repo.merged_customer_ids(session, workspace_id, customer_id)
    customers = repo.customers_by_id(session, customer_ids)
    identities = repo.identities_of(session, customer_ids)
    identity_ids = [i.id for i in identities]
    conversation_ids = [c.id for c in repo.conversations_of(session, workspace_id, customer_ids)]
    message_ids = repo.message_ids_of(session, conversation_ids, identity_ids)

    # What identifies them, to find the payloads that no message points to.
    external_ids = {(i.channel, i.external_id) for i in identities}
    needles = {i.external_id for i in identities} | {i.handle for i in identities if i.handle}
    needles |= {c.email for c in customers if c.email} | {c.phone for c in customers if c.phone}

    raw_ids = repo.raw_event_ids_of_messages(session, message_ids)
    repo.erase_message_texts(session, workspace_id, message_ids)
    repo.erase_raw_payloads(session, raw_ids, now)
    unlinked = 0
    for raw in repo.unprocessed_raw_events(session, workspace_id):
        author = raw.payload.get("author") if isinstance(raw.payload, dict) else None
        author_id = str(author.get("id", "")) if isinstance(author, dict) else ""
        if (raw.channel, author_id) in external_ids:
            repo.clear_raw_event(raw, now)
            unlinked += 1
    dead = 0
    for letter in repo.dead_letters_of_workspace(session, workspace_id):
        if _mentions_any(letter.body, needles):
            repo.clear_dead_letter(letter)
            dead += 1
    repo.erase_case_texts(session, conversation_ids)
    # Copies of their messages on their way to other systems (the webhook delivery log).
    erase_payloads_of_cases(session, conversation_ids)
    repo.release_handle_claims(session, workspace_id, (i.handle for i in identities))
    repo.anonymise_identities(session, identity_ids)
    repo.anonymise_customers(session, customer_ids, now)
    report = ErasureReport(
        customer_ids=customer_ids,
        identities=len(identity_ids),
        conversations=len(conversation_ids),
        messages=len(message_ids),
        raw_events=len(raw_ids) + unlinked,
        dead_letters=dead,
    )
    # The record says that and how much was erased, never what.
    audit.record(
        session,
        workspace_id,
        actor,
        "customer.erased",
        "customer",
        customer_id,
        after=report.as_dict() | {"reason": reason[:500]},
        now=now,
    )
    session.flush()
    session.expire_all()
    return report
