"""Store first, process second (DESIGN.md rule 5).

``accept`` stores raw events once, keyed by (workspace, channel, external id), and does
nothing else, so that a webhook can answer at once. ``process`` turns stored events into
messages: it threads them into conversations, resolves their authors to customers across
channels, hands inbound messages to triage, and opens or reopens the conversations' tasks.
Processing works on batches with a handful of bulk statements per batch; processing an event
that was already processed changes nothing.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.events import InboundEvent, Metrics, Party
from socialdesk.channels.inbox import RawEventStatus
from socialdesk.channels.sink import AcceptResult
from socialdesk.conversations.models import ConversationStatus, Direction
from socialdesk.core.bulk import allocate_ids, datetime_converter, insert_prepared
from socialdesk.core.clock import Clock, as_utc, utcnow
from socialdesk.core.db import unit_of_work
from socialdesk.core.processing import PipelineHooks, ProcessedMessage, TriageVerdict
from socialdesk.core.work import TaskStatus
from socialdesk.customers.identity import contact_email, normalize_handle, normalize_phone
from socialdesk.ingest import repository as repo
from socialdesk.ingest.threading import starts_new_case, thread_key

log = logging.getLogger(__name__)

DEFAULT_VERDICT = TriageVerdict(needs_response=True, route_to="care")
RETRIES = 3
# Events per transaction of a file import or the ingest benchmark (--batch-size). Larger
# transactions store faster, since each commit rewrites the pages of every index the batch
# touched (5,000: 10-15% more messages/s without triage), but triage and scoring hold a
# whole batch in memory and gain no speed from it (README, Benchmarks).
BULK_BATCH_SIZE = 2000


@dataclass
class ProcessResult:
    processed: int = 0
    skipped: int = 0
    failed: int = 0
    tasks_changed: list[int] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


@dataclass(slots=True)
class _Conv:
    """A conversation as the batch sees it, new or loaded, written back in bulk."""

    id: int | None
    customer_id: int | None
    channel: str
    status: str
    message_count: int
    first_message_at: datetime
    last_message_at: datetime
    last_inbound_at: datetime | None
    last_outbound_at: datetime | None
    resolved_at: datetime | None
    subject: str = ""
    dirty: bool = False


@dataclass(slots=True)
class _Thread:
    id: int | None
    key: str
    channel: str
    visibility: str
    conv: _Conv


@dataclass(slots=True)
class _Msg:
    raw_id: int
    event: InboundEvent
    direction: str
    author_identity_id: int
    customer_id: int | None
    thread: _Thread
    at: datetime  # event.created_at in UTC
    id: int | None = None


@dataclass(slots=True)
class _Party:
    identity_id: int
    customer_id: int | None
    is_brand: bool


class Pipeline:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        hooks: PipelineHooks | None = None,
        *,
        clock: Clock = utcnow,
        case_join_window: timedelta = timedelta(hours=72),
        batch_size: int = BULK_BATCH_SIZE,
    ) -> None:
        self.session_factory = session_factory
        self.hooks = hooks or PipelineHooks()
        self.clock = clock
        self.case_join_window = case_join_window
        self.batch_size = batch_size

    # -- accept ---------------------------------------------------------------------------

    def accept(
        self, workspace_id: int, events: Sequence[InboundEvent], source: str = ""
    ) -> AcceptResult:
        """Store events that are new; return the raw ids of those stored (in input order)."""
        with unit_of_work(self.session_factory) as session:
            return self.accept_in(session, workspace_id, events, source)

    def accept_in(
        self,
        session: Session,
        workspace_id: int,
        events: Sequence[InboundEvent],
        source: str,
        *,
        processed_in_same_transaction: bool = False,
    ) -> AcceptResult:
        """Store new events in the caller's transaction. When the caller processes them in
        that same transaction, they are stored as processed: a failure rolls both back."""
        now = self.clock()
        # In input order, each event once (by channel and external id, as stored).
        fresh: dict[tuple[str, str], InboundEvent] = {}
        for event in events:
            fresh.setdefault((event.channel, event.external_id), event)
        serialize = InboundEvent.__pydantic_serializer__.to_json
        raw_ids = repo.insert_raw_events_ignoring_duplicates(
            session,
            workspace_id,
            [
                (channel, external_id, serialize(e, exclude_defaults=True).decode())
                for (channel, external_id), e in fresh.items()
            ],
            source=source,
            status=(
                RawEventStatus.PROCESSED
                if processed_in_same_transaction
                else RawEventStatus.PENDING
            ),
            received_at=now,
            processed_at=now if processed_in_same_transaction else None,
        )
        stored = [
            (raw_id, event)
            for raw_id, event in zip(raw_ids, fresh.values(), strict=True)
            if raw_id is not None
        ]
        return AcceptResult(
            accepted=[raw_id for raw_id, _ in stored],
            duplicates=len(events) - len(stored),
            stored=stored,
        )

    # -- process --------------------------------------------------------------------------

    def process_pending(
        self, workspace_id: int, raw_ids: Sequence[int] | None = None
    ) -> ProcessResult:
        """Process stored events that are still pending (all of them, or those given)."""
        total = ProcessResult()
        remaining = list(raw_ids) if raw_ids is not None else None
        while True:
            if remaining is not None:
                if not remaining:
                    break
                wanted, remaining = remaining[: self.batch_size], remaining[self.batch_size :]
            else:
                wanted = None
            with self.session_factory() as session:
                rows = repo.pending_raw_events(session, workspace_id, wanted, self.batch_size)
            if not rows:
                if remaining is None:
                    break
                continue
            items: list[tuple[int, InboundEvent]] = []
            bad: list[tuple[int, str]] = []
            for row in rows:
                try:
                    items.append((row.id, InboundEvent.model_validate(row.payload)))
                except ValidationError as exc:
                    bad.append((row.id, f"invalid stored event: {exc.errors()[0]['msg']}"))
            self._record_failures(bad, total)
            self._merge(total, self.process_events(workspace_id, items))
        return total

    def ingest(
        self,
        workspace_id: int,
        events: Sequence[InboundEvent],
        source: str = "",
        *,
        batch_size: int | None = None,
    ) -> tuple[AcceptResult, ProcessResult]:
        """Accept, then process what was new: the embedded mode's whole path.

        Each batch (``batch_size`` events, the pipeline's own batch size unless given) is
        stored and processed in one transaction. Should processing fail, that transaction is
        rolled back and the batch takes the long way: stored on its own, then processed
        event by event, so a bad event is marked failed and nothing is lost.
        """
        size = batch_size or self.batch_size
        accepted_total = AcceptResult()
        processed_total = ProcessResult()
        for start in range(0, len(events), size):
            batch = events[start : start + size]
            accepted, processed = self._ingest_batch(workspace_id, batch, source)
            accepted_total.accepted.extend(accepted.accepted)
            accepted_total.duplicates += accepted.duplicates
            accepted_total.stored.extend(accepted.stored)
            self._merge(processed_total, processed)
        return accepted_total, processed_total

    def _ingest_batch(
        self, workspace_id: int, events: Sequence[InboundEvent], source: str
    ) -> tuple[AcceptResult, ProcessResult]:
        try:
            with gc_paused(), unit_of_work(self.session_factory) as session:
                accepted = self.accept_in(
                    session, workspace_id, events, source, processed_in_same_transaction=True
                )
                processed = self.process_in(
                    session, workspace_id, accepted.stored, mark_processed=False
                )
        except Exception:
            log.exception(
                "batch of %d events failed; storing, then processing one by one", len(events)
            )
            accepted = self.accept(workspace_id, events, source)
            return accepted, self.process_events(workspace_id, accepted.stored)
        self._after_commit(workspace_id, processed.tasks_changed)
        return accepted, processed

    def process_events(
        self, workspace_id: int, items: Sequence[tuple[int, InboundEvent]]
    ) -> ProcessResult:
        """Process (raw id, event) pairs; a batch that fails is retried event by event, so one
        bad event is marked failed with its reason and the others still go through."""
        result = ProcessResult()
        for start in range(0, len(items), self.batch_size):
            batch = list(items[start : start + self.batch_size])
            try:
                self._merge(result, self._process_committed(workspace_id, batch))
            except Exception:
                log.exception("batch of %d events failed; retrying one by one", len(batch))
                for item in batch:
                    self._process_alone(workspace_id, item, result)
        return result

    def _process_alone(
        self, workspace_id: int, item: tuple[int, InboundEvent], result: ProcessResult
    ) -> None:
        """One event on its own; a conflict with a concurrent writer (a lock, a row another
        process created first) is retried, since the retry sees the other's work."""
        for attempt in range(1, RETRIES + 1):
            try:
                self._merge(result, self._process_committed(workspace_id, [item]))
                return
            except (OperationalError, IntegrityError) as exc:
                if attempt == RETRIES:
                    self._record_failures([(item[0], _reason(exc))], result)
                    return
                time.sleep(0.05 * attempt)
            except Exception as exc:
                self._record_failures([(item[0], _reason(exc))], result)
                return

    def _process_committed(
        self, workspace_id: int, items: list[tuple[int, InboundEvent]]
    ) -> ProcessResult:
        with unit_of_work(self.session_factory) as session:
            result = self.process_in(session, workspace_id, items)
        self._after_commit(workspace_id, result.tasks_changed)
        return result

    def _after_commit(self, workspace_id: int, task_ids: list[int]) -> None:
        """Side effects of work already committed: one that fails is logged, never taken for
        a failure of the events (they are stored and processed)."""
        for hook in self.hooks.after_commit:
            try:
                hook(workspace_id, task_ids)
            except Exception:
                log.exception("after-commit hook %r failed", hook)

    def _record_failures(self, failures: list[tuple[int, str]], result: ProcessResult) -> None:
        if not failures:
            return
        with unit_of_work(self.session_factory) as session:
            for raw_id, reason in failures:
                repo.mark_raw_events(session, [raw_id], RawEventStatus.FAILED, self.clock(), reason)
        result.failed += len(failures)
        result.errors.extend(failures)

    @staticmethod
    def _merge(total: ProcessResult, part: ProcessResult) -> None:
        total.processed += part.processed
        total.skipped += part.skipped
        total.failed += part.failed
        total.tasks_changed.extend(part.tasks_changed)
        total.errors.extend(part.errors)

    def process_in(
        self,
        session: Session,
        workspace_id: int,
        items: list[tuple[int, InboundEvent]],
        *,
        mark_processed: bool = True,
    ) -> ProcessResult:
        """Process one batch inside the caller's transaction (it flushes, the caller commits)."""
        return _BatchProcessor(self, session, workspace_id).run(items, mark_processed)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch allocates its many small objects.

    A batch creates tens of thousands of short-lived objects and no reference cycles that
    matter; collections triggered in the middle of it scan every live object of the process
    again and again. Collection resumes (and catches up) as soon as the batch is done.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _BatchProcessor:
    """The state of processing one batch; every lookup is one bulk query per batch."""

    def __init__(self, pipeline: Pipeline, session: Session, workspace_id: int) -> None:
        self.p = pipeline
        self.session = session
        self.ws = workspace_id
        self.now = pipeline.clock()
        self.to_db = datetime_converter(session)
        self.now_db = self.to_db(self.now)
        self.convs: dict[int, _Conv] = {}
        self.new_customer_ids: set[int] = set()

    def run(self, items: list[tuple[int, InboundEvent]], mark_processed: bool) -> ProcessResult:
        result = ProcessResult()
        if not items:
            return result
        items = sorted(items, key=lambda item: as_utc(item[1].created_at))
        items, revisions = self._split_revisions(items)
        items = self._drop_already_processed(items, result)
        parties = self._resolve_parties([event for _, event in items])
        messages = self._thread(items, parties)
        self._write_conversations_and_threads()
        self._write_messages(messages)
        verdicts = self._triage(messages)
        result.tasks_changed = self._open_tasks(messages, verdicts)
        self._apply_merges()
        for hook in self.p.hooks.on_tasks_changed:
            hook(self.session, self.ws, result.tasks_changed)
        self._apply_revisions(revisions)
        if mark_processed:
            repo.mark_raw_events(
                self.session,
                [m.raw_id for m in messages] + [raw for raw, _ in revisions],
                RawEventStatus.PROCESSED,
                self.now,
            )
        result.processed = len(messages) + len(revisions)
        return result

    def _split_revisions(
        self, items: list[tuple[int, InboundEvent]]
    ) -> tuple[list[tuple[int, InboundEvent]], list[tuple[int, InboundEvent]]]:
        """Edits and removals of stored messages apart from new messages. An edit of a
        message never seen (it predates the connection) is that message, as edited."""
        revisions = [(raw, e) for raw, e in items if e.extra.get("revision")]
        if not revisions:
            return items, []
        rest = [(raw, e) for raw, e in items if not e.extra.get("revision")]
        batch = {(e.channel, e.external_id) for _, e in rest}
        kept: list[tuple[int, InboundEvent]] = []
        for raw, event in revisions:
            original = str(event.extra.get("revision_of") or "")
            stored = repo.messages_by_external_id(self.session, self.ws, event.channel, {original})
            if original in stored or (event.channel, original) in batch:
                kept.append((raw, event))
            elif event.extra["revision"] == "edited":
                rest.append((raw, event.model_copy(update={"external_id": original, "extra": {}})))
            # A removal of a message never stored has nothing to mark.
        rest.sort(key=lambda item: as_utc(item[1].created_at))
        return rest, kept

    def _apply_revisions(self, revisions: list[tuple[int, InboundEvent]]) -> None:
        """The author changed or removed a post: show the change, keep the original."""
        for _, event in revisions:
            original = str(event.extra.get("revision_of"))
            found = repo.messages_by_external_id(
                self.session, self.ws, event.channel, {original}
            ).get(original)
            if found is None:
                continue
            if event.extra["revision"] == "removed":
                found.removed_at = found.removed_at or event.created_at
            elif event.text != found.text:
                if found.original_text is None:
                    found.original_text = found.text
                found.text = event.text
                found.edited_at = event.created_at
        self.session.flush()

    # -- steps ----------------------------------------------------------------------------

    def _drop_already_processed(
        self, items: list[tuple[int, InboundEvent]], result: ProcessResult
    ) -> list[tuple[int, InboundEvent]]:
        by_channel: dict[str, set[str]] = {}
        wanted: dict[str, set[str]] = {}
        for _, event in items:
            channel: str = event.channel
            external_id, reply_to = event.external_id, event.reply_to
            by_channel.setdefault(channel, set()).add(external_id)
            refs = wanted.setdefault(channel, set())
            refs.add(external_id)
            if reply_to:
                refs.add(reply_to)
            if event.references:
                refs.update(event.references)
        # Thread key of stored messages by external id, per channel; threading adds the batch.
        self.known: dict[str, dict[str, str]] = {}
        done: set[tuple[str, str]] = set()
        for channel, ids in by_channel.items():
            known = repo.thread_keys_of_messages(self.session, self.ws, channel, wanted[channel])
            self.known[channel] = known
            done.update((channel, ext) for ext in ids if ext in known)
        if not done:  # the common case: every event is new
            return items
        kept = [(raw, e) for raw, e in items if (e.channel, e.external_id) not in done]
        already = [raw for raw, e in items if (e.channel, e.external_id) in done]
        repo.mark_raw_events(self.session, already, RawEventStatus.PROCESSED, self.now)
        result.skipped = len(already)
        return kept

    def _resolve_parties(self, events: list[InboundEvent]) -> dict[tuple[str, str], _Party]:
        wanted: dict[tuple[str, str], Party] = {}
        for event in events:
            # The latest profile wins.
            channel, author, recipient = event.channel, event.author, event.recipient
            wanted[(channel, author.id)] = author
            if recipient is not None:
                wanted[(channel, recipient.id)] = recipient
        existing = repo.identities_by_external_id(self.session, self.ws, set(wanted))
        resolved: dict[tuple[str, str], _Party] = {}
        influence: list[dict[str, Any]] = []
        for key, row in existing.items():
            resolved[key] = _Party(row.id, row.customer_id, row.is_brand)
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
        now = self.now_db
        customer_ids = allocate_ids(self.session, repo.CUSTOMERS, len(new_customers))
        self.new_customer_ids.update(customer_ids)
        insert_prepared(
            self.session,
            repo.CUSTOMERS,
            repo.CUSTOMER_COLUMNS,
            [
                (customer_id, self.ws, name, email, phone, "{}", now, now)
                for customer_id, (name, email, phone) in zip(
                    customer_ids, new_customers, strict=True
                )
            ],
        )

        def customer_of(key: tuple[str, str]) -> int | None:
            slot = new_customer_slot.get(key)
            return stored_customer.get(key) if slot is None else customer_ids[slot]

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
            resolved[key] = _Party(identity_id, customer_id, party.is_brand)
        insert_prepared(self.session, repo.IDENTITIES, repo.IDENTITY_COLUMNS, identity_rows)
        return resolved

    def _thread(
        self, items: list[tuple[int, InboundEvent]], parties: dict[tuple[str, str], _Party]
    ) -> list[_Msg]:
        # Thread keys known on each channel: stored messages, then this batch's as it goes.
        thread_of = self.known
        provisional: dict[str, dict[str, str]] = {}
        for _, e in items:
            channel = e.channel
            provisional.setdefault(channel, {})[e.external_id] = thread_key(
                e, thread_of.get(channel, {})
            )
        found_threads = {
            channel: repo.threads_by_key(
                self.session, self.ws, channel, set(keys.values()) | set(keys)
            )
            for channel, keys in provisional.items()
        }
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
        self.threads: dict[tuple[str, str], _Thread] = {
            (channel, key): _Thread(known.id, key, channel, "", self.convs[known.conversation_id])
            for channel, rows in found_threads.items()
            for key, known in rows.items()
        }
        self.open_case_of: dict[int, _Conv] = {
            customer_id: self.convs[case.id] for customer_id, case in open_cases.items()
        }
        self.merges: list[tuple[_Conv, _Conv]] = []
        # Made by this batch, in the order of their first message: written with new ids.
        self.new_convs: list[_Conv] = []
        self.new_threads: list[_Thread] = []

        messages: list[_Msg] = []
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
                thread = _Thread(
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
                _Msg(
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
            self.convs[conv_id] = _Conv(**state)

    def _case_for(self, event: InboundEvent, at: datetime, customer_id: int | None) -> _Conv:
        # A _Conv's times are UTC-aware, loaded or made here, so they compare as they are.
        if not starts_new_case(event) and customer_id is not None:
            case = self.open_case_of.get(customer_id)
            if case is not None and case.last_message_at >= at - self.p.case_join_window:
                return case
        conv = _Conv(
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
    def _count(conv: _Conv, event: InboundEvent, at: datetime, outbound: bool) -> None:
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

    def _write_conversations_and_threads(self) -> None:
        new = self.new_convs
        to_db, now = self.to_db, self.now_db
        rows: list[tuple[Any, ...]] = []
        for conv, conv_id in zip(
            new, allocate_ids(self.session, repo.CONVERSATIONS, len(new)), strict=True
        ):
            conv.id = conv_id
            conv.dirty = False
            rows.append(
                (
                    conv_id,
                    self.ws,
                    conv.customer_id,
                    conv.status,
                    conv.channel,
                    conv.subject,
                    conv.message_count,
                    to_db(conv.first_message_at),
                    to_db(conv.last_message_at),
                    to_db(conv.last_inbound_at),
                    to_db(conv.last_outbound_at),
                    to_db(conv.resolved_at),
                    now,
                    now,
                )
            )
        insert_prepared(self.session, repo.CONVERSATIONS, repo.CONVERSATION_COLUMNS, rows)
        repo.update_conversations(
            self.session,
            [
                {
                    "id": c.id,
                    "status": c.status,
                    "customer_id": c.customer_id,
                    "message_count": c.message_count,
                    "first_message_at": c.first_message_at,
                    "last_message_at": c.last_message_at,
                    "last_inbound_at": c.last_inbound_at,
                    "last_outbound_at": c.last_outbound_at,
                    "resolved_at": c.resolved_at,
                    "updated_at": self.now,
                }
                for c in self.convs.values()  # the stored ones this batch changed
                if c.dirty
            ],
        )
        threads = self.new_threads
        thread_rows: list[tuple[Any, ...]] = []
        for thread, thread_id in zip(
            threads, allocate_ids(self.session, repo.THREADS, len(threads)), strict=True
        ):
            thread.id = thread_id
            thread_rows.append(
                (
                    thread_id,
                    self.ws,
                    thread.conv.id,
                    thread.channel,
                    thread.key,
                    thread.visibility,
                    now,
                )
            )
        insert_prepared(self.session, repo.THREADS, repo.THREAD_COLUMNS, thread_rows)

    def _write_messages(self, messages: list[_Msg]) -> None:
        account_of = [m.event.account for m in messages]
        accounts = repo.channel_account_ids(
            self.session,
            self.ws,
            {
                (m.thread.channel, account)
                for m, account in zip(messages, account_of, strict=True)
                if account
            },
        )
        to_db, now = self.to_db, self.now_db
        metrics_json = _MetricsJson()
        rows: list[tuple[Any, ...]] = []
        for m, account, message_id in zip(
            messages,
            account_of,
            allocate_ids(self.session, repo.MESSAGES, len(messages)),
            strict=True,
        ):
            m.id = message_id
            event, thread = m.event, m.thread
            rows.append(
                (
                    message_id,
                    self.ws,
                    thread.conv.id,
                    thread.id,
                    m.raw_id,
                    thread.channel,
                    accounts.get((thread.channel, account)) if account else None,
                    m.direction,
                    event.visibility,
                    m.author_identity_id,
                    event.external_id,
                    event.reply_to,
                    event.text,
                    metrics_json(event.metrics),
                    to_db(m.at),
                    now,
                )
            )
        insert_prepared(self.session, repo.MESSAGES, repo.MESSAGE_COLUMNS, rows)

    def _triage(self, messages: list[_Msg]) -> dict[int, TriageVerdict]:
        inbound = [
            m for m in messages if m.direction == Direction.INBOUND and not m.event.is_repost
        ]
        if self.p.hooks.triage is None or not inbound:
            return {}
        views = [
            ProcessedMessage(
                message_id=_id(m.id),
                conversation_id=_id(m.thread.conv.id),
                customer_id=m.customer_id,
                channel=m.event.channel,
                visibility=m.event.visibility,
                text=m.event.text,
                created_at=m.at,
                author_followers=m.event.author.followers,
                author_verified=m.event.author.verified,
            )
            for m in inbound
        ]
        return dict(self.p.hooks.triage(self.session, self.ws, views))

    def _open_tasks(self, messages: list[_Msg], verdicts: dict[int, TriageVerdict]) -> list[int]:
        # Only a stored conversation can have a task already; this batch's new ones cannot.
        tasks = repo.tasks_of_conversations(
            self.session, {_id(m.thread.conv.id) for m in messages} & self.convs.keys()
        )
        changed: set[int] = set()  # conversation ids whose task opened or reopened
        touched: set[int] = set()
        for m in messages:
            conv_id = _id(m.thread.conv.id)
            at = m.at
            task = tasks.get(conv_id)
            if m.direction == Direction.OUTBOUND:
                if (
                    task is not None
                    and task["status"] in TaskStatus.ACTIVE
                    and task["waiting_since"] <= at
                ):
                    task["status"] = TaskStatus.PENDING
                    if task["first_response_at"] is None:
                        task["first_response_at"] = at
                    touched.add(conv_id)
                continue
            if m.event.is_repost:
                continue
            verdict = verdicts.get(_id(m.id), DEFAULT_VERDICT) if verdicts else DEFAULT_VERDICT
            if not verdict.needs_response or verdict.route_to == "none":
                continue
            if task is None:
                tasks[conv_id] = {
                    "id": None,
                    "status": TaskStatus.OPEN,
                    "channel": m.thread.channel,
                    "queue": verdict.route_to,
                    "waiting_since": at,
                    "first_response_at": None,
                    "reopen_count": 0,
                }
                changed.add(conv_id)
            elif task["status"] not in TaskStatus.ACTIVE:
                task["status"] = TaskStatus.OPEN
                task["queue"] = verdict.route_to
                task["waiting_since"] = at
                task["reopen_count"] += 1
                changed.add(conv_id)
                touched.add(conv_id)
        new = [cid for cid, task in tasks.items() if task["id"] is None]
        to_db, now = self.to_db, self.now_db
        task_rows: list[tuple[Any, ...]] = []
        for conv_id, task_id in zip(
            new, allocate_ids(self.session, repo.TASKS, len(new)), strict=True
        ):
            task = tasks[conv_id]
            task["id"] = task_id
            task_rows.append(
                (
                    task_id,
                    self.ws,
                    conv_id,
                    task["status"],
                    task["channel"],
                    task["queue"],
                    0.0,
                    0.0,
                    "{}",
                    to_db(task["waiting_since"]),
                    to_db(task["first_response_at"]),
                    task["reopen_count"],
                    now,
                    now,
                )
            )
        insert_prepared(self.session, repo.TASKS, repo.NEW_TASK_COLUMNS, task_rows)
        repo.update_tasks(
            self.session,
            [
                {
                    "id": tasks[c]["id"],
                    "status": tasks[c]["status"],
                    "queue": tasks[c]["queue"],
                    "waiting_since": tasks[c]["waiting_since"],
                    "first_response_at": tasks[c]["first_response_at"],
                    "reopen_count": tasks[c]["reopen_count"],
                    "updated_at": self.now,
                }
                for c in touched
                if c not in new
            ],
        )
        return sorted(tasks[c]["id"] for c in changed if tasks[c]["status"] in TaskStatus.ACTIVE)

    def _apply_merges(self) -> None:
        from socialdesk.conversations.repository import merge_conversations

        for source, target in self.merges:
            if source.id is not None and target.id is not None and source.id != target.id:
                merge_conversations(self.session, _id(source.id), _id(target.id))


class _MetricsJson:
    """Messages' engagement counts as JSON, serialized once per distinct set of counts (most
    messages of a batch share a handful)."""

    def __init__(self) -> None:
        self.known: dict[Metrics, str] = {}  # metrics hash and compare by their counts

    def __call__(self, metrics: Metrics) -> str:
        text = self.known.get(metrics)
        if text is None:
            text = self.known[metrics] = metrics.model_dump_json()
        return text


def _reason(exc: Exception) -> str:
    """A short reason for an admin: the database's own message, not the whole statement."""
    detail = getattr(exc, "orig", None) or exc
    return f"{type(detail).__name__}: {str(detail).splitlines()[0][:500]}"


def _id(value: int | None) -> int:
    if value is None:
        raise RuntimeError("row used before it was written")
    return value
