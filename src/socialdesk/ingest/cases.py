"""Thread: file each message into a thread and its thread into a case (a conversation)."""

from __future__ import annotations

from datetime import datetime

from socialdesk.channels.events import InboundEvent
from socialdesk.conversations.models import ConversationStatus, Direction
from socialdesk.core.clock import as_utc
from socialdesk.ingest import repository as repo
from socialdesk.ingest.batch_state import BatchState, ConvState, MsgState, PartyState, ThreadState
from socialdesk.ingest.threading import starts_new_case, thread_key


class ThreadStage(BatchState):
    """Reply chains, private messages and email references make threads; a customer's open
    case within the join window takes their next thread."""

    def _thread(
        self, items: list[tuple[int, InboundEvent]], parties: dict[tuple[str, str], PartyState]
    ) -> list[MsgState]:
        # Thread keys known on each channel: stored messages, then this batch's as it goes.
        thread_of = self.known
        provisional: dict[str, dict[str, str]] = {}
        for _, e in items:
            channel = e.channel
            provisional.setdefault(channel, {})[e.external_id] = thread_key(
                e, thread_of.get(channel, {})
            )
        found_threads = repo.threads_by_key(
            self.session,
            self.ws,
            {channel: set(keys.values()) | set(keys) for channel, keys in provisional.items()},
        )
        # A customer created by this batch has no conversation yet.
        customers = {
            party.customer_id
            for party in parties.values()
            if party.customer_id is not None and party.customer_id not in self.new_customer_ids
        }
        open_cases = repo.open_conversations_of_customers(self.session, self.ws, customers)
        self._load_convs(
            {known.conversation_id for rows in found_threads.values() for known in rows.values()}
            | {case.id for case in open_cases.values()}
        )
        self.threads: dict[tuple[str, str], ThreadState] = {
            (channel, key): ThreadState(
                known.id, key, channel, "", self.convs[known.conversation_id]
            )
            for channel, rows in found_threads.items()
            for key, known in rows.items()
        }
        self.open_case_of: dict[int, ConvState] = {
            customer_id: self.convs[case.id] for customer_id, case in open_cases.items()
        }
        self.merges: list[tuple[ConvState, ConvState]] = []
        # Made by this batch, in the order of their first message: written with new ids.
        self.new_convs: list[ConvState] = []
        self.new_threads: list[ThreadState] = []

        messages: list[MsgState] = []
        threads = self.threads
        for raw_id, event in items:
            # Read once: a field of a pydantic model costs several times a plain attribute.
            channel, external_id = event.channel, event.external_id
            at = as_utc(event.created_at)
            author = parties[(channel, event.author.id)]
            outbound = event.direction == Direction.OUTBOUND or author.is_brand
            customer_id = author.customer_id
            if outbound:
                customer_id = None
                if event.recipient is not None:
                    customer_id = parties[(channel, event.recipient.id)].customer_id
            known = thread_of.setdefault(channel, {})
            # Only a reply can find its parent among this batch's messages; any other message
            # keeps the key it was given above.
            key = (
                thread_key(event, known)
                if event.reply_to or event.references
                else provisional[channel][external_id]
            )
            thread = threads.get((channel, key))
            if thread is None:
                thread = ThreadState(
                    None,
                    key,
                    channel,
                    event.visibility,
                    self._case_for(event, at, customer_id),
                )
                threads[(channel, key)] = thread
                self.new_threads.append(thread)
            # A reply that arrived before this message started a thread named after it.
            orphan = threads.get((channel, external_id))
            if orphan is not None and orphan is not thread and orphan.conv is not thread.conv:
                self.merges.append((orphan.conv, thread.conv))
            known[external_id] = key
            conv = thread.conv
            if conv.customer_id is None and customer_id is not None:
                conv.customer_id = customer_id
                conv.dirty = True
            self._count(conv, event, at, outbound)
            if conv.customer_id is not None:
                self.open_case_of[conv.customer_id] = conv
            messages.append(
                MsgState(
                    raw_id,
                    event,
                    Direction.OUTBOUND if outbound else Direction.INBOUND,
                    author.identity_id,
                    customer_id,
                    thread,
                    at,
                )
            )
        return messages

    def _load_convs(self, ids: set[int]) -> None:
        missing = ids - set(self.convs)
        for conv_id, state in repo.conversations_by_id(self.session, missing).items():
            self.convs[conv_id] = ConvState(**state)

    def _case_for(self, event: InboundEvent, at: datetime, customer_id: int | None) -> ConvState:
        # A ConvState's times are UTC-aware, loaded or made here, so they compare as they are.
        if not starts_new_case(event) and customer_id is not None:
            case = self.open_case_of.get(customer_id)
            if case is not None and case.last_message_at >= at - self.p.case_join_window:
                return case
        conv = ConvState(
            None,
            customer_id,
            event.channel,
            ConversationStatus.OPEN,
            0,
            at,
            at,
            None,
            None,
            None,
            (event.subject or event.text)[:200],
            dirty=True,
        )
        self.new_convs.append(conv)
        return conv

    @staticmethod
    def _count(conv: ConvState, event: InboundEvent, at: datetime, outbound: bool) -> None:
        conv.dirty = True
        conv.message_count += 1
        if at < conv.first_message_at:
            conv.first_message_at = at
        latest = at >= conv.last_message_at
        if latest:
            conv.last_message_at = at
        if outbound:
            if conv.last_outbound_at is None or at > conv.last_outbound_at:
                conv.last_outbound_at = at
            if latest and conv.status == ConversationStatus.OPEN:
                conv.status = ConversationStatus.PENDING
        else:
            if conv.last_inbound_at is None or at > conv.last_inbound_at:
                conv.last_inbound_at = at
            if latest and not event.is_repost:
                conv.status = ConversationStatus.OPEN
                conv.resolved_at = None
