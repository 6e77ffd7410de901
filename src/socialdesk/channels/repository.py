"""All SQL of the channels domain: accounts, outbox, dead letters, shifts, callbacks, links,
and what a connector noted on a stored event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from socialdesk.channels.inbox import RawEvent
from socialdesk.channels.models import (
    CallbackRequest,
    ChannelAccount,
    ChannelShift,
    DeadLetter,
    DeadLetterStatus,
    KbLink,
    OutboxItem,
    OutboxStatus,
)
from socialdesk.core.models import Workspace
from socialdesk.core.pagination import after_key

# -- workspaces and accounts -------------------------------------------------------------


def get_workspace(session: Session, workspace_id: int) -> Workspace | None:
    return session.get(Workspace, workspace_id)


def get_workspace_by_slug(session: Session, slug: str) -> Workspace | None:
    return session.scalars(select(Workspace).where(Workspace.slug == slug)).first()


def get_account(session: Session, workspace_id: int, account_id: int) -> ChannelAccount | None:
    account = session.get(ChannelAccount, account_id)
    if account is None or account.workspace_id != workspace_id:
        return None
    return account


def get_account_by_external_id(
    session: Session, workspace_id: int, channel: str, external_id: str
) -> ChannelAccount | None:
    return session.scalars(
        select(ChannelAccount).where(
            ChannelAccount.workspace_id == workspace_id,
            ChannelAccount.channel == channel,
            ChannelAccount.external_id == external_id,
        )
    ).first()


def first_active_account(
    session: Session, workspace_id: int, channel: str
) -> ChannelAccount | None:
    return session.scalars(
        select(ChannelAccount)
        .where(
            ChannelAccount.workspace_id == workspace_id,
            ChannelAccount.channel == channel,
            ChannelAccount.active.is_(True),
        )
        .order_by(ChannelAccount.id)
    ).first()


def list_accounts(session: Session, workspace_id: int) -> Sequence[ChannelAccount]:
    return session.scalars(
        select(ChannelAccount)
        .where(ChannelAccount.workspace_id == workspace_id)
        .order_by(ChannelAccount.channel, ChannelAccount.id)
    ).all()


def active_accounts(session: Session, channel: str | None = None) -> Sequence[ChannelAccount]:
    query = select(ChannelAccount).where(ChannelAccount.active.is_(True))
    if channel is not None:
        query = query.where(ChannelAccount.channel == channel)
    return session.scalars(query.order_by(ChannelAccount.id)).all()


def brand_external_ids(session: Session, workspace_id: int, channel: str) -> set[str]:
    ids = session.scalars(
        select(ChannelAccount.external_id).where(
            ChannelAccount.workspace_id == workspace_id, ChannelAccount.channel == channel
        )
    ).all()
    return set(ids)


# -- outbox -------------------------------------------------------------------------------


def add_outbox_item(session: Session, item: OutboxItem) -> OutboxItem:
    session.add(item)
    session.flush()
    return item


def get_outbox_item(session: Session, item_id: int) -> OutboxItem | None:
    return session.get(OutboxItem, item_id)


def outbox_for_conversation(
    session: Session, workspace_id: int, conversation_id: int
) -> Sequence[OutboxItem]:
    return session.scalars(
        select(OutboxItem)
        .where(
            OutboxItem.workspace_id == workspace_id,
            OutboxItem.conversation_id == conversation_id,
        )
        .order_by(OutboxItem.id)
    ).all()


def outbox_for_message(session: Session, message_id: int) -> OutboxItem | None:
    return session.scalars(select(OutboxItem).where(OutboxItem.message_id == message_id)).first()


def sent_outbox_external_ids(
    session: Session, workspace_id: int, channel: str, external_ids: Sequence[str]
) -> set[str]:
    if not external_ids:
        return set()
    found = session.scalars(
        select(OutboxItem.external_id).where(
            OutboxItem.workspace_id == workspace_id,
            OutboxItem.channel == channel,
            OutboxItem.external_id.in_(list(external_ids)),
        )
    ).all()
    return {value for value in found if value is not None}


def claim_due_outbox_items(session: Session, now: datetime, limit: int) -> Sequence[OutboxItem]:
    """Lock due items; SKIP LOCKED keeps concurrent senders from taking the same row."""
    query = (
        select(OutboxItem)
        .where(
            or_(
                (OutboxItem.status == OutboxStatus.PENDING) & (OutboxItem.next_attempt_at <= now),
                # A sender died while this item was in flight: its lease ran out.
                (OutboxItem.status == OutboxStatus.SENDING) & (OutboxItem.lease_until <= now),
            )
        )
        .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query).all()


def count_outbox(session: Session, status: str) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.status == status)
        )
        or 0
    )


# -- dead letters ---------------------------------------------------------------------------


def add_dead_letter(session: Session, letter: DeadLetter) -> DeadLetter:
    session.add(letter)
    session.flush()
    return letter


def get_dead_letter(session: Session, workspace_id: int, letter_id: int) -> DeadLetter | None:
    letter = session.get(DeadLetter, letter_id)
    if letter is None or letter.workspace_id != workspace_id:
        return None
    return letter


def list_dead_letters(
    session: Session,
    workspace_id: int,
    status: str | None = DeadLetterStatus.NEW,
    limit: int = 100,
    before_id: int | None = None,
) -> Sequence[DeadLetter]:
    """Newest first; ``before_id``: the page after the letter with that id."""
    query = select(DeadLetter).where(DeadLetter.workspace_id == workspace_id)
    if status is not None:
        query = query.where(DeadLetter.status == status)
    if before_id is not None:
        query = query.where(DeadLetter.id < before_id)
    return session.scalars(query.order_by(DeadLetter.id.desc()).limit(limit)).all()


# -- shifts, callbacks, deflection links ----------------------------------------------------


def add_shift(session: Session, shift: ChannelShift) -> ChannelShift:
    session.add(shift)
    session.flush()
    return shift


def shifts_for_conversation(
    session: Session, workspace_id: int, conversation_id: int
) -> Sequence[ChannelShift]:
    return session.scalars(
        select(ChannelShift)
        .where(
            ChannelShift.workspace_id == workspace_id,
            ChannelShift.conversation_id == conversation_id,
        )
        .order_by(ChannelShift.id)
    ).all()


def open_shifts_for_thread(session: Session, thread_id: int) -> Sequence[ChannelShift]:
    return session.scalars(
        select(ChannelShift).where(
            ChannelShift.thread_id == thread_id, ChannelShift.completed_at.is_(None)
        )
    ).all()


def count_shifts(
    session: Session, workspace_id: int, since: datetime, until: datetime
) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(ChannelShift.kind, ChannelShift.reason, func.count())
        .where(
            ChannelShift.workspace_id == workspace_id,
            ChannelShift.created_at >= since,
            ChannelShift.created_at < until,
        )
        .group_by(ChannelShift.kind, ChannelShift.reason)
    ).all()
    return {(kind, reason): int(n) for kind, reason, n in rows}


def add_callback(session: Session, callback: CallbackRequest) -> CallbackRequest:
    session.add(callback)
    session.flush()
    return callback


def open_callbacks(
    session: Session,
    workspace_id: int,
    *,
    limit: int | None = None,
    after: Sequence[Any] | None = None,
) -> Sequence[CallbackRequest]:
    """Earliest window first; ``after`` is the (window_start, id) of the one a page follows."""
    order = (CallbackRequest.window_start, CallbackRequest.id)
    query = select(CallbackRequest).where(
        CallbackRequest.workspace_id == workspace_id, CallbackRequest.status == "open"
    )
    if after is not None:
        query = query.where(after_key(order, after, descending=False))
    return session.scalars(query.order_by(*order).limit(limit)).all()


def add_kb_link(session: Session, link: KbLink) -> KbLink:
    session.add(link)
    session.flush()
    return link


def get_kb_link_by_token(session: Session, token: str) -> KbLink | None:
    return session.scalars(select(KbLink).where(KbLink.token == token)).first()


def kb_link_counts(
    session: Session, workspace_id: int, since: datetime, until: datetime
) -> tuple[int, int]:
    sent, used = session.execute(
        select(func.count(), func.count(KbLink.first_clicked_at)).where(
            KbLink.workspace_id == workspace_id,
            KbLink.created_at >= since,
            KbLink.created_at < until,
        )
    ).one()
    return int(sent), int(used)


def open_shifts_of_conversations(
    session: Session, conversation_ids: Sequence[int]
) -> Sequence[ChannelShift]:
    if not conversation_ids:
        return []
    return session.scalars(
        select(ChannelShift).where(
            ChannelShift.conversation_id.in_(list(conversation_ids)),
            ChannelShift.completed_at.is_(None),
            ChannelShift.thread_id.is_not(None),
        )
    ).all()


def take_outbox_item(
    session: Session,
    item: OutboxItem,
    *,
    now: datetime,
    lease_until: datetime,
    outcome_unknown: bool,
) -> bool:
    """Compare-and-set the item to ``sending``: only one sender wins, on every backend."""
    result = session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.id == item.id,
            OutboxItem.status == item.status,
            OutboxItem.attempts == item.attempts,
        )
        .values(
            status=OutboxStatus.SENDING,
            attempts=item.attempts + 1,
            lease_until=lease_until,
            last_attempt_at=now,
            outcome_unknown=outcome_unknown,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def raw_event_payload(session: Session, raw_event_id: int | None) -> dict[str, Any]:
    """The event as the connector gave it (headers such as an email's References)."""
    if raw_event_id is None:
        return {}
    raw = session.get(RawEvent, raw_event_id)
    if raw is None or not isinstance(raw.payload, dict):
        return {}
    return raw.payload


def raw_event_extra(session: Session, raw_event_id: int | None) -> dict[str, Any]:
    """What a connector noted on the stored event (e.g. that it is an Instagram mention)."""
    extra = raw_event_payload(session, raw_event_id).get("extra")
    return extra if isinstance(extra, dict) else {}


def in_flight_texts(session: Session, workspace_id: int, channel: str) -> set[str]:
    """Texts of replies being sent right now: their echo may overtake the sender's record."""
    texts = session.scalars(
        select(OutboxItem.text).where(
            OutboxItem.workspace_id == workspace_id,
            OutboxItem.channel == channel,
            OutboxItem.status == OutboxStatus.SENDING,
        )
    ).all()
    return set(texts)


def outbox_counts(session: Session) -> dict[tuple[str, str], int]:
    """Outbox items still to send or given up, by (channel, status), over every workspace."""
    rows = session.execute(
        select(OutboxItem.channel, OutboxItem.status, func.count())
        .where(OutboxItem.status.in_((*OutboxStatus.OPEN, OutboxStatus.FAILED)))
        .group_by(OutboxItem.channel, OutboxItem.status)
    )
    return {(channel, status): int(n) for channel, status, n in rows}
