"""Dead letters: authentic payloads that could not be understood, for an admin to inspect,
correct and replay. Replaying parses the (possibly corrected) body again with the
channel's connector; the signature was checked when the payload first arrived.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels import repository
from socialdesk.channels.accounts import credentials_of
from socialdesk.channels.base import Connector, DeliveryError, MalformedPayload
from socialdesk.channels.events import InboundEvent
from socialdesk.channels.intake import accept_events
from socialdesk.channels.models import ChannelAccount, DeadLetter, DeadLetterStatus
from socialdesk.channels.sink import EventSink
from socialdesk.channels.webhooks import account_ref
from socialdesk.core.clock import Clock, utcnow
from socialdesk.core.db import unit_of_work
from socialdesk.core.errors import Conflict, InvalidInput, NotFound


@dataclass
class ReplayOutcome:
    letter_id: int
    accepted: int
    error: str | None = None


def list_letters(
    session: Session,
    workspace_id: int,
    status: str | None = DeadLetterStatus.NEW,
    *,
    limit: int = 100,
    before_id: int | None = None,
) -> Sequence[DeadLetter]:
    return repository.list_dead_letters(session, workspace_id, status, limit, before_id)


def get_letter(session: Session, workspace_id: int, letter_id: int) -> DeadLetter:
    letter = repository.get_dead_letter(session, workspace_id, letter_id)
    if letter is None:
        raise NotFound(f"dead letter {letter_id} not found")
    return letter


def replay(
    session_factory: sessionmaker[Session],
    pipeline: EventSink,
    connectors: Mapping[str, Connector],
    *,
    workspace_id: int,
    letter_id: int,
    corrected_body: str | None = None,
    secret_key: str | None = None,
    clock: Clock = utcnow,
) -> ReplayOutcome:
    """Parse and accept a dead letter again; a failure is kept on the letter, not raised."""
    raw_ids: list[int] = []
    with unit_of_work(session_factory) as session:
        letter = get_letter(session, workspace_id, letter_id)
        if letter.status == DeadLetterStatus.REPLAYED:
            raise Conflict(f"dead letter {letter_id} was already replayed")
        if corrected_body is not None:
            letter.body = corrected_body
        connector = connectors.get(letter.channel)
        account = (
            repository.get_account(session, workspace_id, letter.channel_account_id)
            if letter.channel_account_id is not None
            else None
        )
        if connector is None or account is None:
            raise InvalidInput(f"no connector or account left for channel {letter.channel}")
        letter.replay_count += 1
        try:
            events = connector.parse(letter.body.encode(), account_ref(account))
            events = _resolved(connector, events, account, secret_key)
        except (MalformedPayload, DeliveryError) as exc:
            letter.last_replay_error = str(exc)[:2000]
            return ReplayOutcome(letter_id, 0, str(exc))
        result = accept_events(session, pipeline, workspace_id, events, source=letter.source)
        raw_ids = result.accepted_raw_ids
        letter.status = DeadLetterStatus.REPLAYED
        letter.replayed_at = clock()
        letter.last_replay_error = None
    if raw_ids:
        pipeline.process_pending(workspace_id, raw_ids)
    return ReplayOutcome(letter_id, len(raw_ids))


def _resolved(
    connector: Connector,
    events: list[InboundEvent],
    account: ChannelAccount,
    secret_key: str | None,
) -> list[InboundEvent]:
    """Complete the stubs (Instagram mentions) of a replayed payload, as the webhook does."""
    stubs = [e for e in events if e.extra.get("unresolved")]
    if not stubs:
        return events
    resolve = getattr(connector, "resolve_mention", None)
    if resolve is None or secret_key is None:
        raise MalformedPayload("the payload names mentions that cannot be fetched here")
    credentials = credentials_of(account, secret_key)
    ref = account_ref(account)
    done = [resolve(stub, ref, credentials) for stub in stubs]
    return [e for e in events if not e.extra.get("unresolved")] + done


def discard(session: Session, workspace_id: int, letter_id: int) -> DeadLetter:
    letter = get_letter(session, workspace_id, letter_id)
    letter.status = DeadLetterStatus.DISCARDED
    session.flush()
    return letter
