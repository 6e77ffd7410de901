"""The outbox sender: delivers committed outbox items, at most once each.

Each item is claimed in a short transaction (status ``sending``, a lease, attempts + 1)
before the platform is called, and the outcome is recorded in another. A sender that dies
in between leaves the item ``sending`` with a lease that runs out; the next sender then
treats the outcome as unknown and asks the platform whether the earlier attempt got
through before sending again, so a crash never posts twice.

It belongs to the conversations, above the connectors it calls: a sent reply's platform id
is recorded on the conversation's message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels import repository
from socialdesk.channels.accounts import credentials_of, save_rotated_credentials
from socialdesk.channels.backoff import MAX_ATTEMPTS, next_attempt
from socialdesk.channels.base import (
    AccountRef,
    Connector,
    DeliveryError,
    OutboundRequest,
    SendResult,
)
from socialdesk.channels.credentials import Credentials
from socialdesk.channels.models import OutboxItem, OutboxStatus
from socialdesk.conversations import repository as conversations_repo
from socialdesk.core.clock import Clock, utcnow
from socialdesk.core.db import unit_of_work
from socialdesk.core.errors import InvalidInput
from socialdesk.core.logs import log_fields

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    recovered: int = 0  # found already posted by an earlier, interrupted attempt
    sent_item_ids: list[int] = field(default_factory=list)
    # Whose deliveries changed state this round (screens showing them refresh).
    workspace_ids: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class _Claim:
    item_id: int
    workspace_id: int
    channel: str
    attempts: int
    check_first: bool
    request: OutboundRequest
    account: AccountRef | None
    credentials: Credentials | None


class OutboxSender:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        connectors: Mapping[str, Connector],
        *,
        secret_key: str,
        clock: Clock = utcnow,
        after_send: Callable[[int, int], None] | None = None,
        lease: timedelta = LEASE,
    ) -> None:
        self.session_factory = session_factory
        # How long an attempt holds its item: a sender that dies leaves it to another then.
        self.lease = lease
        self.connectors = connectors
        self.secret_key = secret_key
        self.clock = clock
        # Called after commit with (workspace id, outbox item id) for live updates.
        self.after_send = after_send

    def run_once(self, limit: int = 50) -> SendReport:
        report = SendReport()
        for claim in self._claim(limit):
            self._deliver(claim, report)
            report.workspace_ids.add(claim.workspace_id)
        return report

    def _claim(self, limit: int) -> list[_Claim]:
        now = self.clock()
        claims: list[_Claim] = []
        failures: list[tuple[int, str, str]] = []
        try:
            with unit_of_work(self.session_factory) as session:
                for item in repository.claim_due_outbox_items(session, now, limit):
                    check_first = item.outcome_unknown or item.status == OutboxStatus.SENDING
                    if not repository.take_outbox_item(
                        session,
                        item,
                        now=now,
                        lease_until=now + self.lease,
                        outcome_unknown=check_first,
                    ):
                        continue  # another sender took it first
                    try:
                        account, credentials = self._account(session, item)
                    except InvalidInput as exc:
                        failures.append((item.id, "account", str(exc)))
                        continue
                    claims.append(
                        _Claim(
                            item_id=item.id,
                            workspace_id=item.workspace_id,
                            channel=item.channel,
                            attempts=item.attempts + 1,
                            check_first=check_first,
                            request=OutboundRequest(
                                action=item.action,
                                text=item.text,
                                target=dict(item.target),
                                idempotency_key=item.idempotency_key,
                                queued_at=item.created_at,
                            ),
                            account=account,
                            credentials=credentials,
                        )
                    )
        except OperationalError:
            # SQLite: another sender is writing; its items are its own, try again later.
            log.info("outbox busy; claiming again on the next round")
            return []
        for item_id, code, reason in failures:
            self._record_failure(item_id, DeliveryError(reason, permanent=True, code=code))
        return claims

    def _account(self, session: Session, item: OutboxItem) -> tuple[AccountRef, Credentials]:
        account = (
            repository.get_account(session, item.workspace_id, item.channel_account_id)
            if item.channel_account_id is not None
            else None
        )
        if account is None or not account.active:
            raise InvalidInput(f"no active {item.channel} account is connected to send this")
        ref = AccountRef(
            id=account.id,
            workspace_id=account.workspace_id,
            channel=account.channel,
            external_id=account.external_id,
            handle=account.handle,
            settings=dict(account.settings or {}),
        )
        return ref, credentials_of(account, self.secret_key)

    def _deliver(self, claim: _Claim, report: SendReport) -> None:
        if claim.account is not None and claim.account.settings.get("sandbox"):
            # A sandbox account (agent training, the demo) takes the answer as sent without
            # reaching any platform; everything else about the reply is real.
            self._record_sent(claim, SendResult(external_id=f"sandbox-{claim.item_id}"))
            report.sent += 1
            report.sent_item_ids.append(claim.item_id)
            return
        connector = self.connectors.get(claim.channel)
        if connector is None or claim.account is None or claim.credentials is None:
            self._record_failure(
                claim.item_id,
                DeliveryError(f"no connector for {claim.channel}", permanent=True, code="config"),
            )
            report.failed += 1
            return
        try:
            if claim.check_first:
                try:
                    earlier = connector.find_sent(claim.request, claim.account, claim.credentials)
                except DeliveryError as error:
                    # Not knowing is not a verdict: the reply may be there. Never final;
                    # look again later rather than post twice or give up on it.
                    self._record_failure(claim.item_id, _lookup_failed(error), may_end=False)
                    report.retried += 1
                    return
                if earlier is not None:
                    self._record_sent(claim, SendResult(external_id=earlier))
                    report.recovered += 1
                    report.sent_item_ids.append(claim.item_id)
                    return
            result = connector.send(claim.request, claim.account, claim.credentials)
        except DeliveryError as error:
            if error.permanent and error.code == "401" and self._renewed_elsewhere(claim):
                # Another sender refreshed the token first and spent the refresh token we
                # held: the stored pair is newer, so this is no reason to give up.
                error = DeliveryError(
                    "the token was renewed by another sender meanwhile; trying again",
                    permanent=False,
                    code="401",
                    retry_after=timedelta(0),
                )
            if self._record_failure(claim.item_id, error):
                report.failed += 1
            else:
                report.retried += 1
            return
        except InvalidInput as exc:  # a credential is missing from the account
            self._record_failure(
                claim.item_id, DeliveryError(str(exc), permanent=True, code="credentials")
            )
            report.failed += 1
            return
        finally:
            self._keep_rotated_credentials(claim)
        self._record_sent(claim, result)
        report.sent += 1
        report.sent_item_ids.append(claim.item_id)

    def _record_sent(self, claim: _Claim, result: SendResult) -> None:
        now = self.clock()
        with unit_of_work(self.session_factory) as session:
            item = repository.get_outbox_item(session, claim.item_id)
            if item is None:
                return
            item.status = OutboxStatus.SENT
            item.external_id = result.external_id
            item.sent_at = now
            item.lease_until = None
            item.outcome_unknown = False
            item.error_code = None
            item.error_reason = None
            item.updated_at = now
            message_id = item.message_id
            channel = item.channel
        log.info(
            "reply sent",
            extra=log_fields(
                "reply.sent",
                workspace_id=claim.workspace_id,
                message_id=message_id,
                outbox_item_id=claim.item_id,
                channel=channel,
            ),
        )
        # The platform id on our message makes the webhook echo of this reply a duplicate.
        try:
            with unit_of_work(self.session_factory) as session:
                if not conversations_repo.message_exists(
                    session, claim.workspace_id, channel, result.external_id
                ):
                    conversations_repo.set_message_external_id(
                        session, message_id, result.external_id
                    )
        except IntegrityError:
            log.info("echo of outbox item %d arrived before it was recorded", claim.item_id)
        if self.after_send is not None:
            self.after_send(claim.workspace_id, claim.item_id)

    def _renewed_elsewhere(self, claim: _Claim) -> bool:
        if claim.account is None or claim.credentials is None:
            return False
        with self.session_factory() as session:
            account = repository.get_account(session, claim.account.workspace_id, claim.account.id)
            if account is None:
                return False
            stored = credentials_of(account, self.secret_key)
        return any(
            stored.get(name) != claim.credentials.get(name)
            for name in ("access_token", "refresh_token")
        )

    def _keep_rotated_credentials(self, claim: _Claim) -> None:
        """A connector that renewed a token (X's OAuth refresh) spent the old one: store the
        new pair now, whatever became of the send."""
        if claim.account is None or claim.credentials is None or not claim.credentials.rotated:
            return
        with unit_of_work(self.session_factory) as session:
            save_rotated_credentials(
                session, claim.account.id, claim.credentials, self.secret_key, self.clock()
            )
        log.info("channel account %d: access token renewed", claim.account.id)

    def _record_failure(self, item_id: int, error: DeliveryError, *, may_end: bool = True) -> bool:
        """Record a failed attempt; True when it is final (shown on the conversation)."""
        now = self.clock()
        with unit_of_work(self.session_factory) as session:
            item = repository.get_outbox_item(session, item_id)
            if item is None:
                return True
            final = may_end and (error.permanent or item.attempts >= MAX_ATTEMPTS)
            item.error_code = error.code
            item.error_reason = error.reason[:2000]
            item.lease_until = None
            item.outcome_unknown = error.outcome_unknown
            item.updated_at = now
            if final:
                item.status = OutboxStatus.FAILED
                if not error.permanent:
                    item.error_reason = f"gave up after {item.attempts} attempts: {error.reason}"
            else:
                item.status = OutboxStatus.PENDING
                retry_at = error.retry_at
                if error.retry_after is not None:
                    retry_at = now + error.retry_after
                item.next_attempt_at = next_attempt(now, item.attempts, retry_at)
        log.warning(
            "outbox item %d: %s (%s)", item_id, "failed" if final else "will retry", error.code
        )
        return final


def _lookup_failed(error: DeliveryError) -> DeliveryError:
    return DeliveryError(
        f"could not check whether an earlier attempt got through: {error.reason}",
        permanent=False,
        code=error.code,
        retry_at=error.retry_at,
        retry_after=error.retry_after,
        outcome_unknown=True,
    )
