"""The open work list kept in memory, indexed so a decision does not scan every task.

Tasks that ask for the same thing (queue or team, channel, language, topic, tier) share a
bucket: whoever may take one may take them all. Each bucket is a heap ordered by
``selection.order_key`` (effective priority: value plus time pressure). Because time
pressure grows while tasks wait, a bucket's keys are recomputed when they are older than
``rekey_every``; between two rekeys the order inside a bucket may lag by the pressure
gained in that interval (with the defaults, well under one priority point), while the
comparison between buckets always uses the exact priority at the decision time.

Overflow is handled by moving a task, once it has waited long enough, into the bucket
with the widened requirements (no topic or tier, and no language once that widens too).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from socialdesk.core.clock import as_utc
from socialdesk.priority.sla import RESCUE_LEVEL, TOP_LEVEL
from socialdesk.routing.selection import (
    RoutingPolicy,
    TaskView,
    Widening,
    order_key_ts,
    widening,
)

EPOCH_VIEW_TIME = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class BucketKey:
    queue: str
    team_id: int | None
    channel: str
    language: str | None
    topic: str | None
    tier: str | None
    avoid: int | None = None  # rare: tasks taken back on breach wait in a bucket of their own

    def representative(self) -> TaskView:
        """A task with exactly this bucket's requirements, to test agents against."""
        return TaskView(
            id=0,
            channel=self.channel,
            waiting_since=EPOCH_VIEW_TIME,
            queue=self.queue,
            team_id=self.team_id,
            language=self.language,
            topic=self.topic,
            customer_tier=self.tier,
            avoid_agent_id=self.avoid,
        )


def bucket_key(task: TaskView, widen: Widening) -> BucketKey:
    return BucketKey(
        queue=task.queue,
        team_id=task.team_id,
        channel=task.channel,
        language=None if widen.language else task.language,
        topic=None if widen.skills else task.topic,
        tier=None if widen.skills else task.customer_tier,
        avoid=task.avoid_agent_id,
    )


_Entry = tuple[tuple[float, float, int], int, int]  # (order key, token, task id)


@dataclass
class Bucket:
    key: BucketKey
    keyed_at: datetime
    members: set[int] = field(default_factory=set)
    heap: list[_Entry] = field(default_factory=list)
    # Each bucket rekeys on its own period (between 1/2 and 1 x rekey_every), so buckets
    # created together do not all rekey in the same decision.
    period: timedelta = timedelta(seconds=15)


# Entries in the widening heap per waiting task before stale ones are dropped.
OVERFLOW_SLACK = 2


class WorkList:
    def __init__(
        self, policy: RoutingPolicy, rekey_every: timedelta = timedelta(seconds=15)
    ) -> None:
        self.policy = policy
        self.rekey_every = rekey_every
        self.tasks: dict[int, TaskView] = {}
        self.buckets: dict[BucketKey, Bucket] = {}
        self._where: dict[int, BucketKey] = {}
        self._token: dict[int, int] = {}
        # (priority, waiting since, due) as timestamps: ordering many tasks stays cheap.
        self._num: dict[int, tuple[float, float, float | None]] = {}
        self._tokens = itertools.count(1)
        # (moment a task's requirements widen next, task id)
        self._overflow: list[tuple[float, int]] = []
        self._overflow_kept = 0  # entries left by the last rebuild of the heap

    def __len__(self) -> int:
        return len(self.tasks)

    def __contains__(self, task_id: int) -> bool:
        return task_id in self.tasks

    def upsert(self, task: TaskView, now: datetime) -> None:
        self.remove(task.id)
        widen = widening(task, now, self.policy)
        key = bucket_key(task, widen)
        bucket = self.buckets.get(key)
        if bucket is None:
            spread = 0.5 + (hash(key) % 1000) / 2000
            bucket = self.buckets[key] = Bucket(key, as_utc(now), period=self.rekey_every * spread)
        token = next(self._tokens)
        self.tasks[task.id] = task
        self._where[task.id] = key
        self._token[task.id] = token
        self._num[task.id] = (
            task.priority,
            as_utc(task.waiting_since).timestamp(),
            None if task.due_at is None else as_utc(task.due_at).timestamp(),
        )
        bucket.members.add(task.id)
        heapq.heappush(
            bucket.heap, (self._key(task.id, bucket.keyed_at.timestamp()), token, task.id)
        )
        moment = self._next_widening(task, widen)
        if moment is not None:
            heapq.heappush(self._overflow, (moment, task.id))
            if len(self._overflow) > OVERFLOW_SLACK * (len(self.tasks) + self._overflow_kept) + 64:
                self._compact_overflow()

    def overflow_entries(self) -> int:
        """Entries in the heap of widening moments (live and stale)."""
        return len(self._overflow)

    def _compact_overflow(self) -> None:
        """Drop the widening moments of tasks no longer waiting (or re-queued since).

        A task leaves the list (assigned, closed) without its moment being taken out of the
        heap; that entry would otherwise stay until the moment passes, ``overflow_after``
        later (10 minutes by default). Under steady traffic that is every task of the last
        ten minutes, so the heap is rebuilt from the waiting tasks once stale entries
        outnumber them: memory follows the open work, not the traffic.
        """
        # Every distinct moment of a waiting task stays (a re-queued task may have a later
        # one besides); repeats of the same moment, from re-scoring, go.
        self._overflow = list({e for e in self._overflow if e[1] in self.tasks})
        heapq.heapify(self._overflow)
        # The next rebuild waits for as many new entries again: amortised O(1) per upsert.
        self._overflow_kept = len(self._overflow)

    def _next_widening(self, task: TaskView, widen: Widening) -> float | None:
        start = as_utc(task.waiting_since)
        moments = []
        if not widen.skills and self.policy.overflow_after is not None:
            moments.append(start + self.policy.overflow_after)
        if not widen.language and self.policy.overflow_languages_after is not None:
            moments.append(start + self.policy.overflow_languages_after)
        return min(moments).timestamp() if moments else None

    def remove(self, task_id: int) -> TaskView | None:
        task = self.tasks.pop(task_id, None)
        if task is None:
            return None
        key = self._where.pop(task_id)
        self._token.pop(task_id, None)
        self._num.pop(task_id, None)
        bucket = self.buckets[key]
        bucket.members.discard(task_id)
        if not bucket.members:
            del self.buckets[key]
        return task

    def promote_overflowed(self, now: datetime) -> int:
        """Move tasks whose wait passed an overflow threshold to their widened bucket."""
        moved = 0
        limit = as_utc(now).timestamp()
        while self._overflow and self._overflow[0][0] <= limit:
            _, task_id = heapq.heappop(self._overflow)
            task = self.tasks.get(task_id)
            if task is None:
                continue
            if bucket_key(task, widening(task, now, self.policy)) != self._where[task_id]:
                self.upsert(task, now)
                moved += 1
        return moved

    def _key(self, task_id: int, at: float) -> tuple[float, float, int]:
        priority, since, due = self._num[task_id]
        return order_key_ts(
            priority,
            since,
            due,
            task_id,
            at,
            self.policy.pressure_weight,
            self.policy.rescue_after_seconds,
            self.policy.top_class_from,
        )

    def _rekey(self, bucket: Bucket, now: datetime) -> None:
        bucket.keyed_at = as_utc(now)
        at = bucket.keyed_at.timestamp()
        weight = self.policy.pressure_weight
        rescue_after = self.policy.rescue_after_seconds
        top_from = self.policy.top_class_from
        num, token = self._num, self._token
        heap: list[_Entry] = []
        # order_key_ts written out: this loop runs over whole buckets, and the result is
        # checked against order_key in the tests.
        for i in bucket.members:
            priority, since, due = num[i]
            if top_from is not None and priority >= top_from:
                heap.append(((-TOP_LEVEL, since, i), token[i], i))
                continue
            if due is None:
                heap.append(((-priority, since, i), token[i], i))
                continue
            if rescue_after is not None and at >= due + rescue_after:
                level = RESCUE_LEVEL + (at - due - rescue_after) / 60.0
                heap.append(((-level, since, i), token[i], i))
                continue
            total, spent = due - since, max(at - since, 0.0)
            fraction = 1.0 if total <= 0 else min(spent / total, 1.0)
            heap.append(((-(priority + weight * fraction * fraction), since, i), token[i], i))
        heapq.heapify(heap)
        bucket.heap = heap

    def top(self, key: BucketKey, now: datetime) -> TaskView | None:
        """The first task of a bucket (by effective priority), or None if it is empty."""
        bucket = self.buckets.get(key)
        if bucket is None:
            return None
        if as_utc(now) - bucket.keyed_at >= bucket.period:
            self._rekey(bucket, now)
        heap = bucket.heap
        while heap:
            _, token, task_id = heap[0]
            if self._token.get(task_id) == token:
                return self.tasks[task_id]
            heapq.heappop(heap)
        return None

    def key_of(self, task_id: int, now: datetime) -> tuple[float, float, int]:
        """The task's exact order key at ``now`` (``selection.order_key``)."""
        return self._key(task_id, as_utc(now).timestamp())

    def bucket_keys(self) -> Iterator[BucketKey]:
        return iter(list(self.buckets))
