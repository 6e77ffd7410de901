"""The outbox sender as a background thread of the web process (embedded mode).

In scale mode run ``socialdesk channels send --loop`` processes instead (any number: an
item is claimed by one sender only).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.base import Connector
from socialdesk.channels.registry import default_connectors
from socialdesk.conversations.outbox_sender import OutboxSender

log = logging.getLogger(__name__)


class OutboxThread:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        secret_key: str,
        interval: float = 2.0,
        connectors: Mapping[str, Connector] | None = None,
        on_change: Callable[[int], None] | None = None,
    ) -> None:
        self.sender = OutboxSender(
            session_factory, connectors or default_connectors(), secret_key=secret_key
        )
        # Called with a workspace id after its deliveries changed state (sent, failed, retried).
        self.on_change = on_change
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-sender", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """Send now rather than at the next round (call after committing a reply)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                report = self.sender.run_once()
                if self.on_change is not None:
                    for workspace_id in report.workspace_ids:
                        self.on_change(workspace_id)
            except Exception:  # the items stay queued; the next round tries again
                log.exception("outbox round failed")
            self._wake.wait(self.interval)
            self._wake.clear()


def start_outbox_thread(app: Any, interval: float = 2.0) -> Callable[[], None]:
    """Start sending for a web app made by ``create_app``; returns the stop function and
    puts ``wake`` on ``app.state.outbox_wake``."""
    hub = getattr(app.state, "live_hub", None)
    thread = OutboxThread(
        app.state.session_factory,
        app.state.settings.secret_key,
        interval=interval,
        connectors=getattr(app.state, "connectors", None),
        on_change=hub.notify if hub is not None else None,
    )
    thread.start()
    app.state.outbox_wake = thread.wake
    return thread.stop
