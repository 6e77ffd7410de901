"""Hands stored events to processing: in this process (embedded) or to workers (scale)."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from socialdesk.core.bus import INGEST_STREAM, RedisStreamsBus, consumer_name
from socialdesk.core.db import unit_of_work
from socialdesk.ingest.batch_state import ProcessResult
from socialdesk.ingest.drain import EmbeddedDrain
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.ingest.repository import orphaned_pending, take_leased_payloads, take_leases

log = logging.getLogger(__name__)


class ProcessingDispatcher:
    """Scale mode announces stored events to the workers; embedded mode processes them in
    this process: through ``drain`` (one thread, adaptive rounds) when given, else at once in
    the caller's thread."""

    def __init__(
        self,
        pipeline: Pipeline,
        bus: RedisStreamsBus | None = None,
        drain: EmbeddedDrain | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.bus = bus
        self.drain = drain

    @property
    def scale_mode(self) -> bool:
        return self.bus is not None

    def dispatch(self, workspace_id: int, raw_ids: Sequence[int]) -> None:
        """Called after the accepting transaction committed."""
        if not raw_ids:
            return
        if self.bus is not None:
            self.bus.publish(
                INGEST_STREAM, [{"workspace_id": workspace_id, "raw_ids": list(raw_ids)}]
            )
        elif self.drain is not None:
            self.drain.put(workspace_id, raw_ids)
        else:
            self.pipeline.process_pending(workspace_id, raw_ids)


def handle_ingest_entries(
    pipeline: Pipeline, payloads: list[dict[str, Any]], leases: Leases | None = None
) -> None:
    by_workspace: dict[int, list[int]] = defaultdict(list)
    for payload in payloads:
        by_workspace[int(payload["workspace_id"])].extend(int(i) for i in payload["raw_ids"])
    for workspace_id, raw_ids in by_workspace.items():
        if leases is None:
            pipeline.process_pending(workspace_id, raw_ids)
        else:
            leases.process(workspace_id, raw_ids)


class Leases:
    """Processing under leases: a worker marks the pending events it is about to process as
    its own until a time, renews the mark chunk by chunk, and leaves alone the events another
    live worker holds. When a holder dies, its leases run out and a sweep takes the events."""

    def __init__(self, pipeline: Pipeline, holder: str, seconds: float) -> None:
        self.pipeline = pipeline
        self.holder = holder
        self.seconds = seconds

    def take(self, raw_ids: Sequence[int]) -> list[int]:
        with unit_of_work(self.pipeline.session_factory) as session:
            return take_leases(session, raw_ids, self.holder, *self._term())

    def _term(self) -> tuple[datetime, datetime]:
        now = self.pipeline.clock()
        return now, now + timedelta(seconds=self.seconds)

    def process(self, workspace_id: int, raw_ids: Sequence[int]) -> ProcessResult:
        total = ProcessResult()
        # Leased at once, so that no sweep takes what waits its turn; the payloads come back
        # from the same statement (no second round of reads for the batch).
        with unit_of_work(self.pipeline.session_factory) as session:
            held = take_leased_payloads(session, raw_ids, self.holder, *self._term())
        size = self.pipeline.batch_size
        for start in range(0, len(held), size):
            chunk = held[start : start + size]
            if start:  # a long batch: renew what is left (and lose what ran out meanwhile)
                still = set(self.take([raw_id for raw_id, _ in held[start:]]))
                chunk = [(raw_id, payload) for raw_id, payload in chunk if raw_id in still]
            if chunk:
                done = self.pipeline.process_stored(workspace_id, chunk)
                total.processed += done.processed
                total.skipped += done.skipped
                total.failed += done.failed
        return total


def next_read_count(got: int, floor: int, ceiling: int) -> int:
    """How many stream entries a worker asks for next, after a read that got ``got``: twice
    that, within [floor, ceiling].

    A short stream gives small batches, each committed (and its tasks handed out) soon, and a
    backlog that appears is shared among the workers instead of going whole to the first that
    reads; a read that got all it asked for doubles the next, so a long backlog soon goes in
    large batches, which cost the least per event."""
    return max(floor, min(ceiling, 2 * got))


class Worker:
    """A `socialdesk worker`: processes the ingest stream; now and then it also sweeps up
    events that were stored but never announced (a crash between commit and publish), or
    whose announcement Redis lost (a restart without persistence).

    The sweep takes only orphans: events still pending ``orphan_after`` seconds after they
    were stored that no live worker holds. Every worker leases the events it is about to
    process (``raw_events.claimed_by`` / ``lease_until``, renewed chunk by chunk), so an event
    another worker has in hand is never taken, however long its batch runs; the lease of a
    worker that died runs out, and then the sweep (or a claim from the stream) takes it.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        bus: RedisStreamsBus,
        *,
        sweep_every: float = 30.0,
        batch: int = 500,
        orphan_after: float | None = None,
        lease_seconds: float | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.bus = bus
        self.sweep_every = sweep_every
        self.batch = batch
        self.orphan_after = (
            orphan_after if orphan_after is not None else 2 * bus.claim_idle_ms / 1000
        )
        self.stop_event = threading.Event()
        self.handled = 0
        # Entries asked for at a time: adapts to the stream's length (next_read_count).
        self.min_batch = max(1, batch // 16)
        self.read_count = self.min_batch
        # Held as long as the sweep waits for an orphan: a lease outlives any batch in hand.
        self.leases = Leases(
            pipeline,
            f"{consumer_name()}-{uuid.uuid4().hex[:8]}",
            lease_seconds if lease_seconds is not None else self.orphan_after,
        )

    def sweep(self) -> int:
        swept = 0
        now = self.pipeline.clock()
        before = now - timedelta(seconds=self.orphan_after)
        while True:
            with self.pipeline.session_factory() as session:
                orphans = orphaned_pending(session, before, now, self.pipeline.batch_size)
            if not orphans:
                return swept
            by_workspace: dict[int, list[int]] = defaultdict(list)
            for workspace_id, raw_id in orphans:
                by_workspace[workspace_id].append(raw_id)
            for workspace_id, raw_ids in by_workspace.items():
                # Leased first: another worker's sweep may have found the same orphans.
                result = self.leases.process(workspace_id, raw_ids)
                swept += result.processed + result.skipped + result.failed
            if len(orphans) < self.pipeline.batch_size:
                return swept

    def handle(self, payloads: list[dict[str, Any]]) -> None:
        handle_ingest_entries(self.pipeline, payloads, self.leases)

    def run(self, *, max_seconds: float | None = None, block_ms: int = 1000) -> None:
        consumer = consumer_name()
        # Made in the loop, so that a worker started while Redis is away waits for it (and
        # sweeps the database meanwhile) instead of dying. A group that goes missing later
        # (Redis restarted empty) is made again by consume_once.
        group_ready = False
        started = time.monotonic()
        # The first sweep waits a period: at start the stream has the work, and workers that
        # start together would all sweep the same events.
        last_sweep = started
        while not self.stop_event.is_set():
            now = time.monotonic()
            if max_seconds is not None and now - started >= max_seconds:
                break
            try:
                if now - last_sweep >= self.sweep_every:
                    last_sweep = now
                    self.sweep()
                if not group_ready:
                    self.bus.ensure_group(INGEST_STREAM)
                    group_ready = True
                got = self.bus.consume_once(
                    INGEST_STREAM, consumer, self.handle, count=self.read_count, block_ms=block_ms
                )
                self.handled += got
                self.read_count = next_read_count(got, self.min_batch, self.batch)
            except Exception:  # Redis or the database away, a batch failed: it stays pending
                log.exception("ingest round failed; it will be retried")
                self.stop_event.wait(1.0)
