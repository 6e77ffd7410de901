"""Sending alerts out: e-mail through the workspace's mailbox, and a Slack-compatible webhook.

Deliveries are rows queued with the alert (same transaction); this module sends them after
the commit, never inside the pipeline's transaction, and retries with exponential backoff
(30 s doubling, at most ``MAX_ATTEMPTS``). Each attempt is claimed by compare-and-set on its
attempt count, so two processes never send the same attempt. The e-mail keeps one
Message-ID across retries (receiving systems de-duplicate a resend); the webhook body is
``{"text": ...}``, which Slack's incoming webhooks and Mattermost, Rocket.Chat and Microsoft
Teams' Slack-compatible endpoints all accept
(https://api.slack.com/messaging/webhooks#posting_with_webhooks).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.accounts import credentials_of
from socialdesk.channels.actions import Action
from socialdesk.channels.base import AccountRef, DeliveryError, OutboundRequest
from socialdesk.channels.mail import EmailConnector
from socialdesk.core.clock import Clock, utcnow
from socialdesk.core.db import unit_of_work
from socialdesk.core.models import Workspace
from socialdesk.listening import repository as repo
from socialdesk.listening.models import Alert

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
LEASE = timedelta(minutes=2)
WEBHOOK_TIMEOUT = 10.0

WebhookPoster = Callable[[str, dict[str, str]], None]


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Job:
    delivery_id: int
    workspace_id: int
    channel: str
    target: str
    attempts: int
    subject: str
    text: str
    message_id: str


def alert_text(alert: Alert, base_url: str = "") -> str:
    """The alert in one line, with a link to its incident when the console's URL is known."""
    evidence = ""
    if alert.kind in ("spike", "negative") and alert.expected > 0:
        evidence = f" ({alert.observed:g} against {alert.expected:.2g} expected)"
    elif alert.kind in ("spike", "negative"):
        evidence = f" ({alert.observed:g})"
    link = ""
    if base_url and alert.incident_id:
        link = f" {base_url.rstrip('/')}/console/incidents/{alert.incident_id}"
    return f"socialdesk alert: {alert.title}{evidence}{link}"


def post_webhook(url: str, body: dict[str, str]) -> None:
    try:
        response = httpx.post(url, json=body, timeout=WEBHOOK_TIMEOUT, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"webhook unreachable: {type(exc).__name__}", permanent=False) from exc
    if 200 <= response.status_code < 300:
        return
    permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 429)
    raise DeliveryError(
        f"webhook answered {response.status_code}: {response.text[:200]}",
        permanent=permanent,
        code=str(response.status_code),
    )


class Deliverer:
    """Sends due deliveries; ``run_once`` is one round (the listening watcher calls it)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        secret_key: str,
        clock: Clock = utcnow,
        webhook: WebhookPoster = post_webhook,
        email_connector: EmailConnector | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.secret_key = secret_key
        self.clock = clock
        self.webhook = webhook
        self.email = email_connector or EmailConnector()

    def run_once(self, limit: int = 20) -> DeliveryReport:
        report = DeliveryReport()
        for job in self._claim(limit):
            try:
                self._send(job)
            except DeliveryError as error:
                self._failed(job, error, report)
            except Exception as exc:  # a bug must not stop the other deliveries
                log.exception("alert delivery %s failed", job.delivery_id)
                self._failed(job, DeliveryError(str(exc)[:300], permanent=False), report)
            else:
                self._sent(job, report)
        return report

    def _claim(self, limit: int) -> list[_Job]:
        now = self.clock()
        jobs: list[_Job] = []
        with unit_of_work(self.session_factory) as session:
            for d in repo.due_deliveries(session, now, limit):
                attempt = d.attempts + 1
                if not repo.claim_delivery(session, d.id, d.attempts, now + LEASE):
                    continue
                alert = session.get(Alert, d.alert_id)
                if alert is None:
                    continue
                workspace = session.get(Workspace, d.workspace_id)
                base = str((workspace.settings or {}).get("link_base_url", "")) if workspace else ""
                text = alert_text(alert, base)
                jobs.append(
                    _Job(
                        delivery_id=d.id,
                        workspace_id=d.workspace_id,
                        channel=d.channel,
                        target=d.target,
                        attempts=attempt,
                        subject=f"[socialdesk] {alert.title}"[:200],
                        text=text,
                        message_id=f"<alert-{d.id}@socialdesk>",
                    )
                )
        return jobs

    def _send(self, job: _Job) -> None:
        if job.channel == "webhook":
            self.webhook(job.target, {"text": job.text})
            return
        if job.channel != "email":
            raise DeliveryError(f"unknown delivery channel {job.channel}", permanent=True)
        with self.session_factory() as session:
            account = repo.email_account(session, job.workspace_id)
            if account is None:
                raise DeliveryError(
                    "no active email account: connect a mailbox to send alerts by e-mail",
                    permanent=False,
                )
            ref = AccountRef(
                id=account.id,
                workspace_id=account.workspace_id,
                channel="email",
                external_id=account.external_id,
                handle=account.handle,
                settings=dict(account.settings or {}),
            )
            credentials = credentials_of(account, self.secret_key)
        if ref.settings.get("sandbox"):
            return  # the demo's mailbox reaches nobody
        self.email.send(
            OutboundRequest(
                action=Action.EMAIL_SEND,
                text=job.text,
                target={
                    "to": job.target,
                    "from": ref.external_id,
                    "subject": job.subject,
                    "message_id": job.message_id,
                },
                idempotency_key=job.message_id,
                queued_at=self.clock(),
            ),
            ref,
            credentials,
        )

    def _sent(self, job: _Job, report: DeliveryReport) -> None:
        with unit_of_work(self.session_factory) as session:
            d = repo.delivery(session, job.delivery_id)
            if d is not None:
                d.status = "sent"
                d.sent_at = self.clock()
                d.last_error = None
        report.sent.append(job.delivery_id)

    def _failed(self, job: _Job, error: DeliveryError, report: DeliveryReport) -> None:
        with unit_of_work(self.session_factory) as session:
            d = repo.delivery(session, job.delivery_id)
            if d is None:
                return
            d.last_error = str(error)[:1000]
            if error.permanent or job.attempts >= MAX_ATTEMPTS:
                d.status = "failed"
                report.failed.append(job.delivery_id)
            else:
                wait = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (job.attempts - 1))
                d.next_attempt_at = self.clock() + wait
                report.retried.append(job.delivery_id)


class DeliveryLoop:
    """The deliverer as a background thread of the web process: a round every few seconds."""

    def __init__(self, deliverer: Deliverer, interval: float = 5.0) -> None:
        self.deliverer = deliverer
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.deliverer.run_once()
            except Exception:  # the rows stay pending; the next round tries again
                log.exception("alert deliveries failed")
            self._stop.wait(self.interval)

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="alert-deliveries", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
