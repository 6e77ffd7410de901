"""Embedded mode's processing after the answer: one thread takes what waits, in chunks.

Every accepting call (an API push, a benchmark's offered chunk) stores its events and
commits before it answers; it then hands the raw ids here and returns. One thread per
process processes them: each round takes all that waits, up to a cap (``chunk_size``), in
one transaction followed by one distribution round. At a low rate a round takes what one
request brought, at once, so latency stays low; when traffic builds, what arrives during a
round waits for the next, which takes it whole, so the fixed cost of a round (the commit,
the distribution, the lookups of the batch) is shared by more events the busier it gets.

The events stay stored as pending until their round commits, so nothing stored is lost
when the process dies in between: the next start hands every event still pending to the
drain (``resume_pending``) before the server takes requests. The thread is the only one
processing them in this process, and processing reads only events still pending, so each
is processed once, even when an id is handed over twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from socialdesk.ingest.pipeline import Pipeline
from socialdesk.ingest.repository import pending_after

log = logging.getLogger(__name__)

# The most events a round takes: a backlog goes in transactions of this size, long enough
# to share a round's fixed cost, short enough that the accepting calls (SQLite has one
# writer) and the first tasks of the round do not wait long for its commit.
DRAIN_CAP = 500
RESUME_PAGE = 10_000  # pending ids read at a time when a start resumes what was left
RETRY_AFTER = 1.0  # seconds before a round that failed whole (the database away) is retried


def chunk_size(waiting: int, cap: int) -> int:
    """Events the next round takes: all that wait, up to ``cap``.

    Taking all that waits is what adapts: a round's duration grows with its size, and what
    arrives meanwhile is the next round, so at a steady rate the rounds settle where one
    round's events arrive in one round's time. A fixed size smaller than that falls behind
    without end; a larger one would make a quiet system wait to fill it."""
    if cap < 1:
        raise ValueError("cap must be at least 1")
    return max(0, min(waiting, cap))


@dataclass
class DrainStats:
    """Rounds so far and their events (the adaptive sizes show in mean and largest)."""

    rounds: int = 0
    events: int = 0
    largest: int = 0
    processed: int = 0
    failed: int = 0
    errors: int = 0  # rounds that failed whole and were retried

    @property
    def mean(self) -> float | None:
        return round(self.events / self.rounds, 1) if self.rounds else None


class EmbeddedDrain:
    def __init__(self, pipeline: Pipeline, *, cap: int = DRAIN_CAP) -> None:
        chunk_size(0, cap)  # refuses a cap below 1 here, not in the thread
        self.pipeline = pipeline
        self.cap = cap
        self.stats = DrainStats()
        self._waiting: dict[int, deque[int]] = {}
        self._changed = threading.Condition()
        self._busy = False
        self._stopping = False
        self._thread: threading.Thread | None = None

    def put(self, workspace_id: int, raw_ids: Sequence[int]) -> None:
        """Hand over stored (committed) events; returns at once."""
        if not raw_ids:
            return
        with self._changed:
            self._waiting.setdefault(workspace_id, deque()).extend(raw_ids)
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(
                    target=self._run, name="socialdesk-embedded-drain", daemon=True
                )
                self._thread.start()
            self._changed.notify_all()

    def resume_pending(self, page: int = RESUME_PAGE) -> int:
        """Hand over every event left pending (by a process that stopped before its round
        committed); returns how many. Read by id in pages, so a large backlog is not held
        twice in memory while it is handed over."""
        handed, after = 0, 0
        while True:
            with self.pipeline.session_factory() as session:
                rows = pending_after(session, after, page)
            if not rows:
                return handed
            by_workspace: dict[int, list[int]] = {}
            for workspace_id, raw_id in rows:
                by_workspace.setdefault(workspace_id, []).append(raw_id)
            for workspace_id, raw_ids in by_workspace.items():
                self.put(workspace_id, raw_ids)
            handed += len(rows)
            after = rows[-1][1]

    def waiting(self) -> int:
        with self._changed:
            return sum(len(ids) for ids in self._waiting.values())

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every event handed over so far was processed; False on timeout."""
        with self._changed:
            return self._changed.wait_for(
                lambda: not self._busy and not any(self._waiting.values()), timeout
            )

    def stop(self, timeout: float = 10.0, *, finish: bool = True) -> None:
        """End the thread once what waits is processed (``finish``) or once the round in
        hand is done (what waits stays stored as pending)."""
        if finish:
            self.wait_idle(timeout)
        with self._changed:
            if not finish:
                self._waiting.clear()
            self._stopping = True
            self._changed.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _take(self) -> tuple[int, list[int]] | None:
        """The next round (under the lock): the workspace that waits longest goes first."""
        for workspace_id, ids in self._waiting.items():
            if ids:
                size = chunk_size(len(ids), self.cap)
                taken = [ids.popleft() for _ in range(size)]
                # Moved to the end, so that a busy workspace does not starve the others.
                del self._waiting[workspace_id]
                if ids:
                    self._waiting[workspace_id] = ids
                return workspace_id, taken
        return None

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._stopping or any(self._waiting.values()))
                round_ = self._take()
                if round_ is None:  # stopping, and nothing waits
                    return
                self._busy = True
            workspace_id, raw_ids = round_
            try:
                result = self.pipeline.process_pending(workspace_id, raw_ids)
            except Exception:  # the database away: the events are stored, still pending
                log.exception("embedded processing of %d events failed; retrying", len(raw_ids))
                self.stats.errors += 1
                with self._changed:
                    self._waiting.setdefault(workspace_id, deque()).extendleft(reversed(raw_ids))
                    self._busy = False
                    self._changed.notify_all()
                    if self._stopping:  # left pending for the next start
                        return
                time.sleep(RETRY_AFTER)
                continue
            with self._changed:
                self.stats.rounds += 1
                self.stats.events += len(raw_ids)
                self.stats.largest = max(self.stats.largest, len(raw_ids))
                self.stats.processed += result.processed + result.skipped
                self.stats.failed += result.failed
                self._busy = False
                self._changed.notify_all()
