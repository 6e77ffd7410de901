"""Identify: resolve each author and recipient to an identity and a customer, across channels."""

from __future__ import annotations

from typing import Any

from socialdesk.channels.events import InboundEvent, Party
from socialdesk.core.bulk import allocate_ids, insert_prepared
from socialdesk.customers.identity import contact_email, normalize_handle, normalize_phone
from socialdesk.ingest import repository as repo
from socialdesk.ingest.batch_state import BatchState, PartyState

# Lock names of the match keys, beside the (channel, platform id) of identities: no channel
# is named so.
MATCH_KINDS = ("@email", "@phone")


class IdentifyStage(BatchState):
    """Known parties by channel and platform id; new ones matched by email, phone or handle."""

    def _resolve_parties(self, events: list[InboundEvent]) -> dict[tuple[str, str], PartyState]:
        wanted: dict[tuple[str, str], Party] = {}
        for event in events:
            # The latest profile wins.
            channel, author, recipient = event.channel, event.author, event.recipient
            wanted[(channel, author.id)] = author
            if recipient is not None:
                wanted[(channel, recipient.id)] = recipient
        existing = repo.identities_by_external_id(self.session, self.ws, set(wanted))
        resolved: dict[tuple[str, str], PartyState] = {}
        influence: list[dict[str, Any]] = []
        for key, row in existing.items():
            resolved[key] = PartyState(row.id, row.customer_id, row.is_brand)
            party = wanted[key]
            if (party.followers and party.followers != row.followers) or (
                party.verified != row.verified
            ):
                influence.append(
                    {
                        "id": row.id,
                        "followers": party.followers or row.followers,
                        "verified": party.verified,
                        "updated_at": self.now,
                    }
                )
        repo.update_identity_influence(self.session, influence)

        missing = {key: party for key, party in wanted.items() if key not in existing}
        if not missing:
            return resolved
        # Each new party's match keys, normalized once: email, phone, handle.
        contacts = {
            (channel, pid): (
                contact_email(party, channel),
                normalize_phone(party.phone),
                normalize_handle(party.handle),
            )
            for (channel, pid), party in missing.items()
        }
        # Another worker may be creating the same new authors, or a customer for the same
        # address or phone number, now: wait for it, then take what it committed as known
        # (each statement sees the latest commits). Handles are claimed further down, by a
        # unique key rather than a lock: every social author has one, and twice the locks
        # would overrun PostgreSQL's lock table with batches of thousands of new authors.
        contact_locks = {
            (kind, value)
            for key, party in missing.items()
            if not party.is_brand
            for kind, value in zip(MATCH_KINDS, contacts[key][:2], strict=True)
            if value
        }
        if repo.lock_new_identities(self.session, self.ws, set(missing) | contact_locks):
            for key, row in repo.identities_by_external_id(
                self.session, self.ws, set(missing)
            ).items():
                resolved[key] = PartyState(row.id, row.customer_id, row.is_brand)
                del missing[key]
            if not missing:
                return resolved
        by_email, by_phone = repo.customers_by_contact(
            self.session,
            self.ws,
            {email for email, _, _ in contacts.values() if email},
            {phone for _, phone, _ in contacts.values() if phone},
        )
        by_handle = repo.customers_by_handle(
            self.session, self.ws, {handle for _, _, handle in contacts.values() if handle}
        )

        # Customers to create (name, email, phone), deduplicated inside the batch by the
        # same keys.
        new_customers: list[tuple[str, str | None, str | None]] = []
        stored_customer: dict[tuple[str, str], int] = {}  # party -> existing customer id
        new_customer_slot: dict[tuple[str, str], int] = {}  # party -> index in new_customers
        batch_keys: dict[tuple[str, str], int] = {}  # ("e"|"p"|"h", value) -> slot
        for key, party in missing.items():
            if party.is_brand:
                continue
            email, phone, handle = contacts[key]
            found = (
                (email and by_email.get(email))
                or (phone and by_phone.get(phone))
                or (handle and by_handle.get(handle))
            )
            if found:
                stored_customer[key] = found
                continue
            match_keys = []
            if email:
                match_keys.append(("e", email))
            if phone:
                match_keys.append(("p", phone))
            if handle:
                match_keys.append(("h", handle))
            slot = None
            for match in match_keys:
                slot = batch_keys.get(match)
                if slot is not None:
                    break
            if slot is None:
                slot = len(new_customers)
                new_customers.append(((party.name or party.handle or party.id)[:200], email, phone))
            for match in match_keys:
                batch_keys.setdefault(match, slot)
            new_customer_slot[key] = slot
        # Another worker may have created a customer for one of these handles since the
        # lookup above: the claims wait for it and name what it took, which is then found.
        taken = repo.claim_handles(
            self.session, self.ws, {value for kind, value in batch_keys if kind == "h"}
        )
        slot_customer: dict[int, int] = {}  # slot -> another worker's customer
        if taken:
            found_now = repo.customers_by_handle(self.session, self.ws, taken)
            for (kind, value), slot in batch_keys.items():
                if kind == "h" and value in found_now:
                    slot_customer.setdefault(slot, found_now[value])
        kept = [slot for slot in range(len(new_customers)) if slot not in slot_customer]
        now = self.now_db
        customer_ids = allocate_ids(self.session, repo.CUSTOMERS, len(kept))
        self.new_customer_ids.update(customer_ids)
        slot_customer.update(zip(kept, customer_ids, strict=True))
        insert_prepared(
            self.session,
            repo.CUSTOMERS,
            repo.CUSTOMER_COLUMNS,
            [
                (customer_id, self.ws, *new_customers[slot], "{}", now, now)
                for slot, customer_id in zip(kept, customer_ids, strict=True)
            ],
        )

        def customer_of(key: tuple[str, str]) -> int | None:
            slot = new_customer_slot.get(key)
            return stored_customer.get(key) if slot is None else slot_customer[slot]

        identity_ids = allocate_ids(self.session, repo.IDENTITIES, len(missing))
        identity_rows: list[tuple[Any, ...]] = []
        for identity_id, (key, party) in zip(identity_ids, missing.items(), strict=True):
            customer_id = customer_of(key)
            identity_rows.append(
                (
                    identity_id,
                    self.ws,
                    customer_id,
                    key[0],
                    key[1],
                    contacts[key][2],
                    party.name[:200],
                    party.followers,
                    party.verified,
                    party.is_brand,
                    "{}",
                    now,
                    now,
                )
            )
            resolved[key] = PartyState(identity_id, customer_id, party.is_brand)
        insert_prepared(self.session, repo.IDENTITIES, repo.IDENTITY_COLUMNS, identity_rows)
        return resolved
