"""Sending deliveries: signed POSTs, retried with exponential backoff, logged with the answer.

A receiver that answers slowly, with errors, or never costs the product nothing else: the
sender runs on its own thread, each request has a short timeout, subscriptions are served
in parallel (one request at a time each), and a subscription that keeps failing is
disabled with a notice to the workspace's admins.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.credentials import decrypt_credentials
from socialdesk.conversations.action_models import Notification
from socialdesk.core.clock import Clock, utcnow
from socialdesk.core.db import unit_of_work
from socialdesk.eventhooks import repository as repo
from socialdesk.eventhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from socialdesk.eventhooks.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
)
from socialdesk.people.models import Role, User

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
DISABLE_AFTER = 20  # consecutive failed attempts
TIMEOUT = 5.0
PARALLEL = 4

Poster = Callable[[str, bytes, dict[str, str]], int]


def http_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    response = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT)
    return response.status_code


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min ... at most an hour."""
    delay: timedelta = FIRST_BACKOFF * (2 ** max(0, attempts - 1))
    return min(delay, MAX_BACKOFF)


@dataclass
class SendReport:
    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    disabled: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Job:
    delivery_id: int
    subscription_id: int
    attempts: int  # after this attempt
    url: str
    secret: str
    event_type: str
    body: bytes


def _claim(session: Session, now: datetime, secret_key: str, limit: int) -> list[list[_Job]]:
    """Due deliveries, claimed, grouped by subscription in the order they are due."""
    groups: dict[int, list[_Job]] = {}
    secrets: dict[int, tuple[str, str]] = {}
    for d in repo.due_deliveries(session, now, limit):
        attempt = d.attempts + 1  # read first: the claim's update refreshes the row
        if not repo.claim_attempt(session, d.id, d.attempts, now):
            continue  # another process took this attempt
        if d.subscription_id not in secrets:
            sub = session.get(WebhookSubscription, d.subscription_id)
            assert sub is not None
            secret = decrypt_credentials(sub.secret_encrypted, secret_key).get("secret", "")
            secrets[sub.id] = (sub.url, secret)
        url, secret = secrets[d.subscription_id]
        body = json.dumps(d.payload, ensure_ascii=False, separators=(",", ":")).encode()
        job = _Job(d.id, d.subscription_id, attempt, url, secret, d.event_type, body)
        groups.setdefault(d.subscription_id, []).append(job)
    return list(groups.values())


Result = tuple[_Job, int | None, str | None]


def _post(job: _Job, poster: Poster, now: datetime) -> Result:
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "socialdesk-webhooks",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(job.secret, timestamp, job.body),
        EVENT_HEADER: job.event_type,
        DELIVERY_HEADER: str(job.delivery_id),
    }
    try:
        return job, poster(job.url, job.body, headers), None
    except httpx.TimeoutException:
        return job, None, f"no answer within {TIMEOUT:g} s"
    except httpx.HTTPError as exc:
        return job, None, f"{exc.__class__.__name__}: {exc}"[:500]


def _post_in_order(
    jobs: list[_Job], poster: Poster, now: datetime
) -> tuple[list[Result], list[_Job]]:
    """One subscription's deliveries one after another; the first failure ends its round
    (the rest wait, unattempted), so a failing endpoint gets one request a round."""
    results: list[Result] = []
    for index, job in enumerate(jobs):
        result = _post(job, poster, now)
        results.append(result)
        code = result[1]
        if code is None or not 200 <= code < 300:
            return results, jobs[index + 1 :]
    return results, []


def _notify_admins(session: Session, sub: WebhookSubscription, reason: str) -> None:
    admins = session.scalars(
        select(User.id).where(User.workspace_id == sub.workspace_id, User.role == Role.ADMIN)
    )
    for admin_id in admins:
        session.add(
            Notification(
                workspace_id=sub.workspace_id,
                user_id=admin_id,
                kind="webhook_disabled",
                text=f"Webhook {sub.id} to {sub.url} was disabled: {reason}",
            )
        )


def _record(
    session: Session,
    job: _Job,
    code: int | None,
    error: str | None,
    now: datetime,
    report: SendReport,
) -> None:
    delivery = session.get(WebhookDelivery, job.delivery_id)
    sub = session.get(WebhookSubscription, job.subscription_id)
    assert delivery is not None and sub is not None
    delivery.response_code = code
    if code is not None and 200 <= code < 300:
        delivery.status, delivery.error, delivery.delivered_at = DeliveryStatus.SENT, None, now
        sub.consecutive_failures = 0
        report.sent.append(delivery.id)
        return
    delivery.error = error or f"HTTP {code}"
    sub.consecutive_failures += 1
    if job.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        report.failed.append(delivery.id)
    else:
        delivery.next_attempt_at = now + backoff(job.attempts)
        report.retried.append(delivery.id)
    if sub.active and sub.consecutive_failures >= DISABLE_AFTER:
        reason = f"{sub.consecutive_failures} failed attempts in a row (last: {delivery.error})"
        sub.active, sub.disabled_reason = False, reason[:500]
        repo.fail_pending_of(session, sub.id, "subscription disabled")
        _notify_admins(session, sub, reason)
        report.disabled.append(sub.id)


def send_due(
    factory: sessionmaker[Session],
    secret_key: str,
    *,
    poster: Poster = http_post,
    clock: Clock = utcnow,
    limit: int = 200,
) -> SendReport:
    """Send what is due: claim (commit), post outside any transaction, record (commit)."""
    now = clock()
    with unit_of_work(factory) as session:
        groups = _claim(session, now, secret_key, limit)
    report = SendReport()
    if not groups:
        return report
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        outcomes = list(pool.map(lambda jobs: _post_in_order(jobs, poster, now), groups))
    with unit_of_work(factory) as session:
        for results, unattempted in outcomes:
            for job, code, error in results:
                _record(session, job, code, error, clock(), report)
            for job in unattempted:
                repo.unclaim_attempt(session, job.delivery_id, job.attempts)
    return report
