"""Hands stored events to processing: in this process (embedded) or to workers (scale)."""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from socialdesk.core.bus import INGEST_STREAM, RedisStreamsBus, consumer_name
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.ingest.repository import workspaces_with_pending

log = logging.getLogger(__name__)


class ProcessingDispatcher:
    def __init__(self, pipeline: Pipeline, bus: RedisStreamsBus | None = None) -> None:
        self.pipeline = pipeline
        self.bus = bus

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
        else:
            self.pipeline.process_pending(workspace_id, raw_ids)


def handle_ingest_entries(pipeline: Pipeline, payloads: list[dict[str, Any]]) -> None:
    by_workspace: dict[int, list[int]] = defaultdict(list)
    for payload in payloads:
        by_workspace[int(payload["workspace_id"])].extend(int(i) for i in payload["raw_ids"])
    for workspace_id, raw_ids in by_workspace.items():
        pipeline.process_pending(workspace_id, raw_ids)


class Worker:
    """A `socialdesk worker`: processes the ingest stream; now and then it also sweeps up
    events that were stored but never announced (a crash between commit and publish)."""

    def __init__(
        self,
        pipeline: Pipeline,
        bus: RedisStreamsBus,
        *,
        sweep_every: float = 30.0,
        batch: int = 500,
    ) -> None:
        self.pipeline = pipeline
        self.bus = bus
        self.sweep_every = sweep_every
        self.batch = batch
        self.stop_event = threading.Event()
        self.handled = 0

    def sweep(self) -> int:
        swept = 0
        with self.pipeline.session_factory() as session:
            workspaces = workspaces_with_pending(session)
        for workspace_id in workspaces:
            swept += self.pipeline.process_pending(workspace_id).processed
        return swept

    def run(self, *, max_seconds: float | None = None, block_ms: int = 1000) -> None:
        self.bus.ensure_group(INGEST_STREAM)
        consumer = consumer_name()
        started = time.monotonic()
        last_sweep = 0.0
        while not self.stop_event.is_set():
            now = time.monotonic()
            if max_seconds is not None and now - started >= max_seconds:
                break
            if now - last_sweep >= self.sweep_every:
                self.sweep()
                last_sweep = now
            try:
                self.handled += self.bus.consume_once(
                    INGEST_STREAM,
                    consumer,
                    lambda payloads: handle_ingest_entries(self.pipeline, payloads),
                    count=self.batch,
                    block_ms=block_ms,
                )
            except Exception:  # the entry stays pending and is retried; the worker goes on
                log.exception("ingest batch failed; it will be retried")
                self.stop_event.wait(1.0)
