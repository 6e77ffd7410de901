"""The event bus between pipeline stages.

Embedded mode calls the next stage in-process (``ProcessingDispatcher``); scale mode puts
work on Redis Streams, read by `socialdesk worker` processes on any number of hosts through
a consumer group. Delivery
is at least once: a worker acknowledges an entry only after its handler committed, and
entries left unacknowledged by a worker that died are claimed by another after an idle
time. Handlers are safe to repeat (processing an event twice changes nothing).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[list[dict[str, Any]]], None]

STREAM_PREFIX = "socialdesk:"
INGEST_STREAM = "ingest"
# Fan-out, not a work queue: every routing engine reads every entry (no consumer group).
ROUTING_STREAM = "routing"
ROUTING_MAXLEN = 10_000


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{threading.get_ident()}"


class RedisStreamsBus:
    """Scale mode: one Redis Stream per stage, one consumer group of workers per stream."""

    def __init__(
        self,
        url: str,
        *,
        group: str = "workers",
        maxlen: int = 1_000_000,
        claim_idle_ms: int = 60_000,
        prefix: str = STREAM_PREFIX,
    ) -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        self.group = group
        self.maxlen = maxlen
        self.claim_idle_ms = claim_idle_ms
        self.prefix = prefix

    def key(self, stream: str) -> str:
        return self.prefix + stream

    def announce(self, stream: str, payload: dict[str, Any], maxlen: int = ROUTING_MAXLEN) -> None:
        """Append one entry for every reader of a fan-out stream (kept to about ``maxlen``)."""
        self.client.xadd(
            self.key(stream), {"data": json.dumps(payload)}, maxlen=maxlen, approximate=True
        )

    def now_id(self) -> str:
        """A stream id for "from this moment", by the Redis server's clock (ids are times)."""
        seconds, micros = self.client.time()
        return f"{int(seconds) * 1000 + int(micros) // 1000}-0"

    def read_new(
        self, stream: str, after: str, *, count: int = 200, block_ms: int = 1000
    ) -> tuple[str, list[dict[str, Any]]]:
        """Entries after the id ``after`` (see ``now_id``); returns the last id read."""
        response: Any = self.client.xread({self.key(stream): after}, count=count, block=block_ms)
        payloads: list[dict[str, Any]] = []
        for _stream, items in response or []:
            for entry_id, fields in items:
                after = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
                payloads.append(json.loads(fields[b"data"]))
        return after, payloads

    def publish(self, stream: str, payloads: Sequence[dict[str, Any]]) -> None:
        if not payloads:
            return
        pipe = self.client.pipeline(transaction=False)
        for payload in payloads:
            pipe.xadd(
                self.key(stream),
                {"data": json.dumps(payload)},
                maxlen=self.maxlen,
                approximate=True,
            )
        pipe.execute()

    def ensure_group(self, stream: str) -> None:
        import redis

        try:
            self.client.xgroup_create(self.key(stream), self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def consume_once(
        self,
        stream: str,
        consumer: str,
        handler: Handler,
        *,
        count: int = 500,
        block_ms: int = 1000,
    ) -> int:
        """Handle one batch: entries abandoned by dead workers first, then new ones.

        Returns how many entries were handled. An entry whose handler raised stays pending
        and is retried after the idle time (by this or another worker).
        """
        import redis

        key = self.key(stream)
        try:
            claimed: Any = self.client.xautoclaim(
                key,
                self.group,
                consumer,
                min_idle_time=self.claim_idle_ms,
                start_id="0-0",
                count=count,
            )
            entries: list[tuple[bytes, dict[bytes, bytes]]] = [e for e in claimed[1] if e and e[1]]
            if not entries:
                response: Any = self.client.xreadgroup(
                    self.group, consumer, {key: ">"}, count=count, block=block_ms
                )
                for _stream, items in response or []:
                    entries.extend(items)
        except redis.ResponseError as exc:
            # Redis restarted empty (or the stream was deleted): the group is gone. Make it
            # again; what was announced before is found by the workers' sweep of the database.
            if "NOGROUP" not in str(exc):
                raise
            log.warning("consumer group of %s missing; creating it again", key)
            self.ensure_group(stream)
            return 0
        if not entries:
            return 0
        payloads = [json.loads(fields[b"data"]) for _id, fields in entries]
        handler(payloads)
        self.client.xack(key, self.group, *[entry_id for entry_id, _ in entries])
        return len(entries)

    def pending(self, stream: str) -> int:
        info: Any = self.client.xpending(self.key(stream), self.group)
        return int(info["pending"])

    def close(self) -> None:
        self.client.close()
