"""Channel shift: moving a customer from a public post to a DM, to email or to a phone call.

Every shift records the agent's reason and is counted for analytics. The new thread joins
the same case: a DM thread is created under the conversation before the customer writes,
so threading files their DM there; an email thread starts with our own message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from socialdesk.channels import outbox
from socialdesk.channels import repository as channel_repo
from socialdesk.channels.actions import Action
from socialdesk.channels.limits import check_outbound
from socialdesk.channels.models import CallbackRequest, CallbackStatus, ChannelShift, ShiftKind
from socialdesk.conversations import actions, repository
from socialdesk.conversations.models import (
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    Thread,
)
from socialdesk.conversations.replies import ensure_dm_thread, send_reply
from socialdesk.core.clock import Clock, utcnow
from socialdesk.core.errors import InvalidInput, NotFound
from socialdesk.customers import repository as customers_repo
from socialdesk.customers.models import Customer
from socialdesk.people.models import User

DEFAULT_DM_INVITE = (
    "We'd like to help with this privately. Please send us a direct message "
    "so we can look into your account."
)
MAX_REASON = 500
MAX_CALLBACK_WINDOW = timedelta(days=7)
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{4,30}$")


def _reason(reason: str) -> str:
    cleaned = " ".join(reason.split())
    if not cleaned:
        raise InvalidInput("a channel shift needs a reason")
    if len(cleaned) > MAX_REASON:
        raise InvalidInput(f"the reason is longer than {MAX_REASON} characters")
    return cleaned


def _conversation(session: Session, workspace_id: int, conversation_id: int) -> Conversation:
    conversation = repository.get_conversation(session, workspace_id, conversation_id)
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return conversation


def _customer(session: Session, conversation: Conversation) -> Customer | None:
    if conversation.customer_id is None:
        return None
    return customers_repo.get_customer(session, conversation.workspace_id, conversation.customer_id)


def invite_to_dm(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: int,
    author_user_id: int,
    reason: str,
    text: str | None = None,
    reply_to_message_id: int | None = None,
    clock: Clock = utcnow,
) -> ChannelShift:
    """Answer publicly with an invitation to write privately; the DM will join this case."""
    why = _reason(reason)
    conversation = _conversation(session, workspace_id, conversation_id)
    reply = send_reply(
        session,
        workspace_id=workspace_id,
        conversation_id=conversation.id,
        author_user_id=author_user_id,
        text=text or DEFAULT_DM_INVITE,
        visibility="public",
        reply_to_message_id=reply_to_message_id,
        clock=clock,
    )
    if reply.visibility != "public":
        raise InvalidInput("the customer already writes privately; no DM invitation is needed")
    target = repository.latest_inbound_message(
        session, workspace_id, conversation.id, reply.channel
    )
    customer = repository.get_identity(session, target.author_identity_id if target else None)
    account = (
        channel_repo.get_account(session, workspace_id, reply.channel_account_id)
        if reply.channel_account_id
        else None
    )
    thread = ensure_dm_thread(
        session,
        conversation,
        channel=reply.channel,
        brand_id=account.external_id if account else "brand",
        customer_id=customer.external_id if customer else f"conversation-{conversation.id}",
    )
    return channel_repo.add_shift(
        session,
        ChannelShift(
            workspace_id=workspace_id,
            conversation_id=conversation.id,
            kind=ShiftKind.DM,
            from_channel=reply.channel,
            to_channel=reply.channel,
            reason=why,
            created_by_user_id=author_user_id,
            message_id=reply.id,
            thread_id=thread.id,
            created_at=clock(),
        ),
    )


def move_to_email(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: int,
    author_user_id: int,
    reason: str,
    email: str,
    text: str,
    subject: str | None = None,
    notice: str | None = None,
    clock: Clock = utcnow,
) -> ChannelShift:
    """Write to the customer by email in a new thread of this case.

    ``notice`` optionally tells the customer on the original channel to look at their inbox.
    """
    why = _reason(reason)
    now = clock()
    address = email.strip()
    if not _EMAIL.match(address) or len(address) > 320:
        raise InvalidInput(f"{address!r} is not an email address")
    conversation = _conversation(session, workspace_id, conversation_id)
    body = text.strip()
    check_outbound("email", "private", body)
    account = channel_repo.first_active_account(session, workspace_id, "email")
    mailbox = account.external_id if account else "care@localhost"
    domain = mailbox.rsplit("@", 1)[-1] if "@" in mailbox else "localhost"
    key = outbox.new_idempotency_key()
    message_id = f"<{key}@{domain}>"
    thread = repository.add_thread(
        session,
        Thread(
            workspace_id=workspace_id,
            conversation_id=conversation.id,
            channel="email",
            key=message_id,
            visibility="private",
            created_at=now,
        ),
    )
    message = repository.add_message(
        session,
        Message(
            workspace_id=workspace_id,
            conversation_id=conversation.id,
            thread_id=thread.id,
            channel="email",
            channel_account_id=account.id if account else None,
            direction=Direction.OUTBOUND,
            visibility="private",
            external_id=message_id,
            text=body,
            metrics={},
            created_at=now,
            received_at=now,
        ),
    )
    outbox.enqueue(
        session,
        workspace_id=workspace_id,
        conversation_id=conversation.id,
        message_id=message.id,
        channel="email",
        action=Action.EMAIL_SEND,
        text=body,
        target={
            "to": address,
            "from": mailbox,
            "subject": (subject or conversation.subject or "Your request")[:998],
            "message_id": message_id,
            "in_reply_to": None,
            "references": [],
        },
        now=now,
        idempotency_key=key,
        channel_account_id=account.id if account else None,
        author_user_id=author_user_id,
    )
    # Knowing the address lets the customer's answer join this case from the inbox.
    customer = _customer(session, conversation)
    if customer is not None and not customer.email:
        customer.email = address.lower()
    if notice:
        send_reply(
            session,
            workspace_id=workspace_id,
            conversation_id=conversation.id,
            author_user_id=author_user_id,
            text=notice,
            channel=conversation.channel,
            clock=clock,
        )
    conversation.status = ConversationStatus.PENDING
    conversation.last_outbound_at = now
    conversation.updated_at = now
    return channel_repo.add_shift(
        session,
        ChannelShift(
            workspace_id=workspace_id,
            conversation_id=conversation.id,
            kind=ShiftKind.EMAIL,
            from_channel=conversation.channel,
            to_channel="email",
            reason=why,
            created_by_user_id=author_user_id,
            message_id=message.id,
            thread_id=thread.id,
            created_at=now,
        ),
    )


def schedule_callback(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: int,
    author_user_id: int,
    reason: str,
    phone: str,
    window_start: datetime,
    window_end: datetime,
    notice: str | None = None,
    clock: Clock = utcnow,
) -> CallbackRequest:
    """Promise a phone call: a callback task with the number and the time window."""
    why = _reason(reason)
    now = clock()
    number = phone.strip()
    if not _PHONE.match(number) or sum(c.isdigit() for c in number) < 5:
        raise InvalidInput(f"{number!r} is not a phone number")
    if window_start.tzinfo is None or window_end.tzinfo is None:
        raise InvalidInput("the callback window needs timezone-aware times")
    if window_end <= window_start:
        raise InvalidInput("the callback window ends before it starts")
    if window_end <= now:
        raise InvalidInput("the callback window is already over")
    if window_end - window_start > MAX_CALLBACK_WINDOW:
        raise InvalidInput("the callback window is longer than 7 days")
    conversation = _conversation(session, workspace_id, conversation_id)
    message_id = None
    if notice:
        message_id = send_reply(
            session,
            workspace_id=workspace_id,
            conversation_id=conversation.id,
            author_user_id=author_user_id,
            text=notice,
            visibility="private",
            clock=clock,
        ).id
    shift = channel_repo.add_shift(
        session,
        ChannelShift(
            workspace_id=workspace_id,
            conversation_id=conversation.id,
            kind=ShiftKind.PHONE,
            from_channel=conversation.channel,
            to_channel="phone",
            reason=why,
            created_by_user_id=author_user_id,
            message_id=message_id,
            created_at=now,
        ),
    )
    customer = _customer(session, conversation)
    if customer is not None and not customer.phone:
        customer.phone = number
    return channel_repo.add_callback(
        session,
        CallbackRequest(
            workspace_id=workspace_id,
            conversation_id=conversation.id,
            shift_id=shift.id,
            phone=number,
            window_start=window_start,
            window_end=window_end,
            reason=why,
            status=CallbackStatus.OPEN,
            created_at=now,
        ),
    )


def shifts_of(session: Session, workspace_id: int, conversation_id: int) -> Sequence[ChannelShift]:
    return channel_repo.shifts_for_conversation(session, workspace_id, conversation_id)


def complete_shifts(session: Session, workspace_id: int, task_ids: Sequence[int]) -> None:
    """A pipeline ``on_tasks_changed`` hook: a shift is complete once the customer writes in
    the new thread (the DM or email answer that was asked for)."""
    conversation_ids = repository.conversations_of_tasks(session, task_ids)
    for shift in channel_repo.open_shifts_of_conversations(session, conversation_ids):
        if shift.workspace_id != workspace_id or shift.thread_id is None:
            continue
        if repository.inbound_in_thread_since(session, shift.thread_id, shift.created_at):
            shift.completed_at = utcnow()
    session.flush()


def shift_counts(
    session: Session, workspace_id: int, since: datetime, until: datetime
) -> dict[tuple[str, str], int]:
    """Shifts by (kind, reason) in a period, for analytics."""
    return channel_repo.count_shifts(session, workspace_id, since, until)


def deflection_counts(
    session: Session, workspace_id: int, since: datetime, until: datetime
) -> tuple[int, int]:
    """(replies carrying a knowledge-base link, links the customer opened) in a period."""
    return channel_repo.kb_link_counts(session, workspace_id, since, until)


def record_kb_click(session: Session, token: str, now: datetime) -> str:
    """The customer opened a knowledge-base link; returns where to send them."""
    link = channel_repo.get_kb_link_by_token(session, token)
    if link is None:
        raise NotFound("unknown link")
    link.click_count += 1
    if link.first_clicked_at is None:
        link.first_clicked_at = now
    session.flush()
    return link.url


SHIFT_ACTIONS = ("dm", "email", "callback")


def shift_channel(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: int,
    actor: User,
    action: str,
    reason: str,
    detail: str = "",
    message: str = "",
    callback_at: datetime | None = None,
    clock: Clock = utcnow,
) -> None:
    """An agent moves the customer to a better channel, with the reason: a DM invitation, an
    e-mail to ``detail`` (the address) or a phone callback to ``detail`` (the number) at
    ``callback_at`` (in an hour by default). The case's history records it."""
    common: dict[str, Any] = {
        "workspace_id": workspace_id,
        "conversation_id": conversation_id,
        "author_user_id": actor.id,
        "reason": reason,
        "clock": clock,
    }
    if action == "dm":
        invite_to_dm(session, text=message or None, **common)
    elif action == "email":
        if not detail.strip():
            raise InvalidInput("give the customer's e-mail address")
        move_to_email(
            session,
            email=detail.strip(),
            text=message or "Hello, we continue here by e-mail as promised.",
            **common,
        )
    elif action == "callback":
        start = callback_at or clock() + timedelta(hours=1)
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        schedule_callback(
            session,
            phone=detail,
            window_start=start,
            window_end=start + timedelta(hours=2),
            notice=message or None,
            **common,
        )
    else:
        raise InvalidInput("choose DM, e-mail or callback")
    actions.record_event(
        session,
        workspace_id=workspace_id,
        conversation_id=conversation_id,
        actor=actor,
        event=f"shift to {action}",
        clock=clock,
        reason=reason,
    )
