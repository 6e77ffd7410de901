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
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.events import InboundEvent
from socialdesk.channels.inbox import RawEventStatus
from socialdesk.channels.sink import AcceptResult
from socialdesk.core.clock import Clock, utcnow
from socialdesk.core.db import unit_of_work
from socialdesk.core.heap import trim_heap_now_and_then
from socialdesk.core.limits import storable
from socialdesk.core.logs import log_fields
from socialdesk.core.metrics import EVENTS_ACCEPTED, EVENTS_FAILED, EVENTS_PROCESSED
from socialdesk.core.processing import PipelineHooks
from socialdesk.ingest import repository as repo
from socialdesk.ingest.batch import BatchProcessor
from socialdesk.ingest.batch_state import ProcessResult

log = logging.getLogger(__name__)

RETRIES = 3
# Events per transaction of a file import or the ingest benchmark (--batch-size). Larger
# transactions store faster, since each commit rewrites the pages of every index the batch
# touched (5,000: 10-15% more messages/s without triage), but triage and scoring hold a
# whole batch in memory and gain no speed from it (README, Benchmarks).
BULK_BATCH_SIZE = 2000


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
        rows = []
        for key, e in fresh.items():
            payload = serialize(e, exclude_defaults=True)
            if b"\\u0000" in payload:  # PostgreSQL cannot store NUL: drop it, keep the rest
                e = fresh[key] = without_nul(e)
                payload = serialize(e, exclude_defaults=True)
            rows.append((e.channel, e.external_id, payload.decode()))
        raw_ids = repo.insert_raw_events_ignoring_duplicates(
            session,
            workspace_id,
            rows,
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
        if not processed_in_same_transaction:  # else counted once the batch committed
            EVENTS_ACCEPTED.labels(source or "unknown").inc(len(stored))
        if stored:
            log.info(
                "stored %d events",
                len(stored),
                extra=log_fields(
                    "event.accepted",
                    workspace_id=workspace_id,
                    source=source,
                    raw_event_ids=[raw_id for raw_id, _ in stored],
                ),
            )
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
            self._merge(total, self.process_stored(workspace_id, [(r.id, r.payload) for r in rows]))
        return total

    def process_stored(self, workspace_id: int, rows: Sequence[tuple[int, Any]]) -> ProcessResult:
        """Process stored events already read, as (raw id, stored payload): one that no longer
        reads as an event is marked failed with its reason."""
        total = ProcessResult()
        items: list[tuple[int, InboundEvent]] = []
        bad: list[tuple[int, str]] = []
        for raw_id, payload in rows:
            try:
                items.append((raw_id, InboundEvent.model_validate(payload)))
            except ValidationError as exc:
                bad.append((raw_id, f"invalid stored event: {exc.errors()[0]['msg']}"))
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
                self._read_ahead(session, workspace_id, events)
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
        EVENTS_ACCEPTED.labels(source or "unknown").inc(len(accepted.accepted))
        EVENTS_PROCESSED.inc(processed.processed)
        self._after_commit(
            workspace_id, processed.tasks_changed, [raw_id for raw_id, _ in accepted.stored]
        )
        return accepted, processed

    def process_events(
        self, workspace_id: int, items: Sequence[tuple[int, InboundEvent]]
    ) -> ProcessResult:
        """Process (raw id, event) pairs; a batch that fails is retried event by event, so one
        bad event is marked failed with its reason and the others still go through.

        A batch that met a concurrent writer (a deadlock with another worker's batch, a row
        it created first) is first tried again whole: the other has committed by then, and
        one by one would cost a transaction per event (seconds for a few hundred)."""
        result = ProcessResult()
        for start in range(0, len(items), self.batch_size):
            batch = list(items[start : start + self.batch_size])
            try:
                self._merge(result, self._process_committed(workspace_id, batch))
                continue
            except (OperationalError, IntegrityError) as exc:
                log.warning(
                    "batch of %d events met a concurrent writer (%s); trying it again whole",
                    len(batch),
                    _reason(exc),
                )
            except Exception:
                log.exception("batch of %d events failed; retrying one by one", len(batch))
                self._one_by_one(workspace_id, batch, result)
                continue
            try:
                self._merge(result, self._process_committed(workspace_id, batch))
            except Exception:
                log.exception("batch of %d events failed again; retrying one by one", len(batch))
                self._one_by_one(workspace_id, batch, result)
        return result

    def _one_by_one(
        self, workspace_id: int, batch: list[tuple[int, InboundEvent]], result: ProcessResult
    ) -> None:
        for item in batch:
            self._process_alone(workspace_id, item, result)

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
        # No collection inside the transaction: one that scans the whole heap would hold the
        # batch's locks, leases and tasks that much longer.
        with gc_paused(), unit_of_work(self.session_factory) as session:
            self._read_ahead(session, workspace_id, [event for _, event in items])
            result = self.process_in(session, workspace_id, items)
        EVENTS_PROCESSED.inc(result.processed)
        self._after_commit(workspace_id, result.tasks_changed, [raw_id for raw_id, _ in items])
        return result

    def _read_ahead(
        self, session: Session, workspace_id: int, events: Sequence[InboundEvent]
    ) -> None:
        """The hooks' work that needs no lock (triage's reading of the texts), done first in
        the batch's transaction, which has then only read: it holds no row, key or advisory
        lock that another worker's batch could wait for."""
        if not self.hooks.read_ahead:
            return
        # The texts triage will read: inbound messages that are not reposts (an author known
        # as one of the brand's accounts only to the database costs a text read for nothing).
        texts = [
            e.text
            for e in events
            if e.direction == "inbound" and not e.is_repost and not e.author.is_brand
        ]
        if not texts:
            return
        for hook in self.hooks.read_ahead:
            hook(session, workspace_id, texts)

    def _after_commit(
        self, workspace_id: int, task_ids: list[int], raw_ids: Sequence[int] = ()
    ) -> None:
        """Side effects of work already committed: one that fails is logged, never taken for
        a failure of the events (they are stored and processed)."""
        log.info(
            "processed %d events",
            len(raw_ids),
            extra=log_fields(
                "event.processed",
                workspace_id=workspace_id,
                raw_event_ids=list(raw_ids),
                task_ids=task_ids,
            ),
        )
        for hook in self.hooks.after_commit:
            try:
                hook(workspace_id, task_ids)
            except Exception:
                log.exception("after-commit hook %r failed", hook)
        # What the batch freed stays in the C heap unless handed back (core/heap.py).
        trim_heap_now_and_then()

    def _record_failures(self, failures: list[tuple[int, str]], result: ProcessResult) -> None:
        if not failures:
            return
        with unit_of_work(self.session_factory) as session:
            for raw_id, reason in failures:
                repo.mark_raw_events(session, [raw_id], RawEventStatus.FAILED, self.clock(), reason)
        result.failed += len(failures)
        EVENTS_FAILED.inc(len(failures))
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
        return BatchProcessor(self, session, workspace_id).run(items, mark_processed)


def without_nul(event: InboundEvent) -> InboundEvent:
    return InboundEvent.model_validate(storable(event.model_dump()))


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


def freeze_heap() -> None:
    """Take every object alive now (modules, the loaded triage models and vocabularies) out of
    the cyclic garbage collector's scans, for a long-running process once it is warmed up.

    Without it every full collection walks these hundreds of thousands of objects again (263 ms
    in a warmed-up worker at a load average of 10 on 2 cores), and one that falls inside a
    batch delays every task of the batch by as much. They live as long as the process anyway."""
    gc.collect()
    gc.freeze()


def _reason(exc: Exception) -> str:
    """A short reason for an admin: the database's own message, not the whole statement."""
    detail = getattr(exc, "orig", None) or exc
    return f"{type(detail).__name__}: {str(detail).splitlines()[0][:500]}"
