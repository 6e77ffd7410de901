"""The web process's webhook thread: relay what was committed, then send what is due."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.clock import utcnow
from socialdesk.core.db import unit_of_work
from socialdesk.eventhooks.relay import relay
from socialdesk.eventhooks.sender import send_due

log = logging.getLogger(__name__)


class WebhookRunner:
    """Every ``interval`` seconds, off the request and pipeline paths; several processes may
    run one each (offers are keyed, attempts are claimed by compare-and-set)."""

    def __init__(
        self, factory: sessionmaker[Session], secret_key: str, interval: float = 1.0
    ) -> None:
        self.factory, self.secret_key, self.interval = factory, secret_key, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> None:
        with unit_of_work(self.factory) as session:
            relay(session, utcnow())
        send_due(self.factory, self.secret_key)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # a bad round must not end the thread; the next one retries
                log.exception("webhook round failed")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
