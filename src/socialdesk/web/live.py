"""Live updates to browsers over server-sent events.

The stream tells the page *that* something changed; the page then fetches the fresh,
server-rendered fragment. Changes are noticed two ways: actions in this process poke the
hub at once, and a cheap fingerprint query catches what other processes (workers, other web
processes) committed, so the same code works embedded and at scale.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence

from fastapi import Request

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
# A stream ends after this long and the browser reconnects by itself (``retry``): a server
# that stops never waits long on open streams, and a reconnect costs one small request.
STREAM_SECONDS = 30.0


class LiveHub:
    """A version counter per workspace, safe to bump from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._versions: dict[int, int] = {}
        self._markers: dict[int, tuple[float, object]] = {}

    def notify(self, workspace_id: int) -> None:
        with self._lock:
            self._versions[workspace_id] = self._versions.get(workspace_id, 0) + 1

    def version(self, workspace_id: int) -> int:
        with self._lock:
            return self._versions.get(workspace_id, 0)

    def marker(
        self, workspace_id: int, compute: Callable[[], object], max_age: float = POLL_SECONDS
    ) -> object:
        """The workspace's change fingerprint, computed at most once a second per process
        however many browsers listen (500 agents must not mean 500 queries a second)."""
        now = time.monotonic()
        with self._lock:
            cached = self._markers.get(workspace_id)
        if cached is not None and now - cached[0] < max_age:
            return cached[1]
        value = compute()
        with self._lock:
            self._markers[workspace_id] = (now, value)
        return value

    def after_commit_hook(self, workspace_id: int, task_ids: Sequence[int]) -> None:
        """Fits the pipeline's after-commit seam: new or reopened work wakes the screens."""
        self.notify(workspace_id)


def sse_frame(event: str, data: dict[str, object]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def stream(
    request: Request,
    hub: LiveHub,
    workspace_id: int,
    fingerprint: Callable[[], object],
    *,
    poll_seconds: float = POLL_SECONDS,
    max_seconds: float | None = None,
) -> AsyncIterator[str]:
    """Yield ``changed`` events while the browser listens; comments keep proxies from idling."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    last_marker = await asyncio.to_thread(fingerprint)
    last_version = hub.version(workspace_id)
    last_beat = started
    yield "retry: 2000\n\n"
    yield sse_frame("hello", {"version": last_version})
    while True:
        if await request.is_disconnected():
            return
        now = loop.time()
        if max_seconds is not None and now - started > max_seconds:
            return
        version = hub.version(workspace_id)
        marker = await asyncio.to_thread(fingerprint)
        if version != last_version or marker != last_marker:
            last_version, last_marker = version, marker
            yield sse_frame("changed", {"version": version})
        elif now - last_beat > HEARTBEAT_SECONDS:
            last_beat = now
            yield ": keep-alive\n\n"
        await asyncio.sleep(poll_seconds)


def routing_engine(state: object) -> object | None:
    """The process's routing engine when the app runs one (``app.state.routing_engine``)."""
    return getattr(state, "routing_engine", None)


def tell_routing(state: object, event: str, workspace_id: int, ids: Sequence[int] = ()) -> None:
    """After a commit, let distribution react at once: a freed slot, an agent coming online,
    work handed back to a list, new policies. Without an engine nothing needs telling."""
    engine = routing_engine(state)
    if engine is None:
        return
    if event == "agents":
        engine.on_agents(workspace_id, list(ids))  # type: ignore[attr-defined]
    elif event == "tasks":
        engine.on_tasks(workspace_id, list(ids))  # type: ignore[attr-defined]
    elif event == "policies":
        engine.policies_changed(workspace_id)  # type: ignore[attr-defined]
