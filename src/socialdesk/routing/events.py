"""Routing events between processes: work opened, slots freed, presence changed, SLA warned.

In scale mode, workers open tasks and web processes change agents, while every web process
runs a routing engine. Each change is announced after its commit on the Redis Stream
``socialdesk:routing``; every engine reads the whole stream (a fan-out, no consumer group)
and distributes at once. An event lost with a Redis outage costs only time: each engine's
catch-up sweep compares its view with the database's state every few seconds.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from socialdesk.core.bus import ROUTING_STREAM, RedisStreamsBus

log = logging.getLogger(__name__)


class RoutingAnnouncer:
    """Announces routing events; ``origin`` lets an engine skip what it announced itself."""

    def __init__(self, bus: RedisStreamsBus, origin: str | None = None) -> None:
        self.bus = bus
        self.origin = origin or uuid.uuid4().hex

    def announce(
        self, workspace_id: int, *, tasks: Sequence[int] = (), agents: Sequence[int] = ()
    ) -> None:
        if not tasks and not agents:
            return
        payload: dict[str, Any] = {"origin": self.origin, "workspace_id": workspace_id}
        if tasks:
            payload["tasks"] = list(tasks)
        if agents:
            payload["agents"] = list(agents)
        try:
            self.bus.announce(ROUTING_STREAM, payload)
        except Exception:  # committed work is found by the engines' sweeps all the same
            log.exception("could not announce a routing event; the sweep will find it")

    def tasks_changed(self, workspace_id: int, task_ids: Sequence[int]) -> None:
        """The pipeline's after-commit hook in a worker: new or reopened tasks."""
        self.announce(workspace_id, tasks=task_ids)
