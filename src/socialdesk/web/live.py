"""Live updates to browsers over server-sent events.

The stream tells the page *that* something changed; the page then fetches the fresh,
server-rendered fragment. Changes are noticed three ways: actions in this process poke the
hub, which wakes its streams at once; in scale mode, the hub also hears every other process's
changes (web processes, workers) through Redis pub/sub (``core.live_channel``), at once too;
and a cheap fingerprint query, once a second, catches whatever a lost notice missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence

from fastapi import Request

from socialdesk.core.live_channel import LiveChannel

POLL_SECONDS = 1.0
# Changes in a burst reach a browser at most this often (it fetches fragments on each).
MIN_GAP_SECONDS = 0.5
HEARTBEAT_SECONDS = 15.0
# A stream ends after this long and the browser reconnects by itself (``retry``): a server
# that stops never waits long on open streams, and a reconnect costs one small request.
STREAM_SECONDS = 30.0


class LiveHub:
    """A version counter per workspace, safe to bump from any thread; streams waiting on a
    workspace wake as soon as its counter moves."""

    def __init__(self, poll_seconds: float = POLL_SECONDS) -> None:
        self.poll_seconds = poll_seconds  # how often streams compare the database fingerprint
        self._lock = threading.Lock()
        self._versions: dict[int, int] = {}
        self._markers: dict[int, tuple[float, object]] = {}
        self._waiters: dict[int, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self.channel: LiveChannel | None = None

    def connect(self, channel: LiveChannel) -> None:
        """Share changes with the other processes through ``channel`` (scale mode)."""
        self.channel = channel

    def start(self) -> None:
        if self.channel is not None:
            self.channel.start(self.changed_elsewhere)

    def stop(self) -> None:
        if self.channel is not None:
            self.channel.stop()

    def notify(self, workspace_id: int) -> None:
        """A change committed in this process: wake its streams, and tell the others."""
        self.changed_elsewhere(workspace_id)
        if self.channel is not None:
            self.channel.publish(workspace_id)

    def changed_elsewhere(self, workspace_id: int) -> None:
        """A change this process only hears of: wake its streams without telling anyone."""
        with self._lock:
            self._versions[workspace_id] = self._versions.get(workspace_id, 0) + 1
            waiters = list(self._waiters.get(workspace_id, ()))
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # that stream's event loop has closed
                loop.call_soon_threadsafe(event.set)

    async def wait_change(self, workspace_id: int, seen: int, timeout: float) -> None:
        """Return once the workspace's version is past ``seen``, or after ``timeout``."""
        event = asyncio.Event()
        waiter = (asyncio.get_running_loop(), event)
        with self._lock:
            if self._versions.get(workspace_id, 0) != seen:
                return
            self._waiters.setdefault(workspace_id, set()).add(waiter)
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                waiting = self._waiters.get(workspace_id)
                if waiting is not None:
                    waiting.discard(waiter)
                    if not waiting:
                        del self._waiters[workspace_id]

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
    poll_seconds: float | None = None,
    max_seconds: float | None = None,
    min_gap: float = MIN_GAP_SECONDS,
    still_allowed: Callable[[], bool] | None = None,
) -> AsyncIterator[str]:
    """Yield ``changed`` events while the browser listens; comments keep proxies from idling.

    The stream sleeps until the hub's version moves (a change in this process, or one heard
    from another) or ``poll_seconds`` (the hub's) pass, when the database fingerprint is
    compared. Before each change is told, ``still_allowed`` is asked again (the listener's
    session and membership): a session that ended, or a membership removed, ends the stream."""
    poll = hub.poll_seconds if poll_seconds is None else poll_seconds
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
        if max_seconds is not None and now - started >= max_seconds:
            return
        version = hub.version(workspace_id)
        marker = await asyncio.to_thread(fingerprint)
        if version != last_version or marker != last_marker:
            if still_allowed is not None and not await asyncio.to_thread(still_allowed):
                return
            last_version, last_marker = version, marker
            yield sse_frame("changed", {"version": version})
            await asyncio.sleep(min_gap)  # a burst of changes becomes one refresh
        elif now - last_beat > HEARTBEAT_SECONDS:
            last_beat = now
            yield ": keep-alive\n\n"
        wait = poll
        if max_seconds is not None:
            wait = max(0.0, min(wait, started + max_seconds - loop.time()))
        await hub.wait_change(workspace_id, last_version, wait)


def routing_engine(state: object) -> object | None:
    """The process's routing engine when the app runs one (``app.state.routing``)."""
    for name in ("routing", "routing_engine"):
        engine: object | None = getattr(state, name, None)
        if engine is not None and hasattr(engine, "on_agents"):
            return engine
    return None


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
