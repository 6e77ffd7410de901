"""Change notices between processes: the live updates of scale mode, through Redis pub/sub.

Every web process keeps its browsers' event streams (``web.live``). A change committed in one
process (an agent's action, a batch a worker processed, an assignment) is published here as
"workspace N changed"; every other process subscribed to the channel wakes its own streams at
once. Pub/sub delivers at most once: a notice lost while Redis is away costs only time, since
each process still compares a cheap fingerprint of the database every second.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)

LIVE_CHANNEL = "socialdesk:live"


class LiveChannel:
    """Publishes this process's changes and hands the others' to ``on_change``."""

    def __init__(self, url: str, *, channel: str = LIVE_CHANNEL, origin: str | None = None) -> None:
        import redis

        # A Redis that hangs must not hold a request for long: a notice is only a hint.
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.channel = channel
        self.origin = origin or uuid.uuid4().hex
        self.listening = threading.Event()  # set while subscribed
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def publish(self, workspace_id: int) -> None:
        try:
            self.client.publish(
                self.channel, json.dumps({"origin": self.origin, "workspace_id": workspace_id})
            )
        except Exception as exc:  # the others' fingerprint poll sees the change a second later
            log.warning("could not publish a live notice: %s", exc)

    def after_commit_hook(self, workspace_id: int, task_ids: Sequence[int]) -> None:
        """The pipeline's after-commit seam in a worker: processed messages change screens."""
        self.publish(workspace_id)

    def start(self, on_change: Callable[[int], None]) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._listen, args=(on_change,), name="socialdesk-live", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None
        self.listening.clear()
        self.client.close()

    def _listen(self, on_change: Callable[[int], None]) -> None:
        while not self._stop.is_set():
            pubsub: Any = None
            try:
                pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                self.listening.set()
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is None:
                        continue
                    notice = json.loads(message["data"])
                    if notice.get("origin") != self.origin:
                        on_change(int(notice["workspace_id"]))
            except Exception as exc:  # Redis away: subscribe again in a moment
                self.listening.clear()
                log.warning("live notices unavailable (%s); retrying", exc)
                self._stop.wait(1.0)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:
                        log.debug("closing the live subscription failed", exc_info=True)
