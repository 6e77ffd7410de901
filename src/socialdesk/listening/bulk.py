"""One answer to everyone an incident touched, and a public status post from the brand.

``bulk_reply`` fills one template per customer (``knowledge.placeholders``) and sends it
to every grouped conversation, or to a chosen subset, as an ordinary reply through the
outbox (``conversations.replies.send_reply``): channel limits, delivery, retries, rate
limits and at-most-once posting are the outbox's. A conversation gets an incident's answer
once: the ``incident_replies`` row (unique per incident and conversation) is written with
the reply, so a second click, a retried request or a concurrent supervisor skips it.
Each conversation is its own savepoint: one that cannot be answered (no account, an
unknown address) is reported with its reason and the others still go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from socialdesk.channels import outbox
from socialdesk.channels import repository as channel_repo
from socialdesk.channels.actions import Action
from socialdesk.channels.limits import check_outbound
from socialdesk.conversations.models import Conversation, Direction, Message, Thread
from socialdesk.conversations.replies import send_reply
from socialdesk.core.errors import InvalidInput, NotFound, SocialdeskError
from socialdesk.core.models import Workspace
from socialdesk.knowledge.placeholders import fill
from socialdesk.listening import repository as repo
from socialdesk.listening.incidents import record
from socialdesk.listening.models import IncidentReply, IncidentStatus
from socialdesk.people.models import User

# Spacing between two posts of one account, so a burst of answers stays inside the
# platform's posting limits instead of running into them and waiting out 429s:
# X allows 100 posts per 15 minutes per user on POST /2/tweets
# (https://docs.x.com/x-api/fundamentals/rate-limits); Meta's Pages and Messenger limits
# scale with the audience and answer throttling with codes 4/17/32/613, which the sender
# waits out. A sandbox account (training, the demo) reaches no platform and is not spaced.
PACING = {
    "x": timedelta(seconds=9),
    "facebook": timedelta(seconds=1),
    "instagram": timedelta(seconds=1),
}
PUBLIC_POST_ACTIONS = {"x": Action.X_POST, "facebook": Action.FACEBOOK_POST}


@dataclass
class BulkResult:
    sent: list[int] = field(default_factory=list)  # conversation ids queued now
    skipped: list[int] = field(default_factory=list)  # already answered for this incident
    failed: list[tuple[int, str]] = field(default_factory=list)  # (conversation id, reason)


def bulk_reply(
    session: Session,
    workspace_id: int,
    incident_id: int,
    *,
    user: User,
    template: str,
    now: datetime,
    conversation_ids: Sequence[int] | None = None,
    visibility: str = "public",
) -> BulkResult:
    incident = repo.lock_incident(session, workspace_id, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    if incident.status != IncidentStatus.OPEN:
        raise InvalidInput("the incident is resolved; reopen work case by case")
    if not template.strip():
        raise InvalidInput("the reply template is empty")
    members = repo.incident_members(session, incident.id)
    grouped = list(dict.fromkeys(m.conversation_id for m in members))
    if conversation_ids is None:
        chosen = grouped
    else:
        outside = sorted(set(conversation_ids) - set(grouped))
        if outside:
            raise InvalidInput(f"conversations {outside} are not part of incident {incident.id}")
        chosen = [c for c in grouped if c in set(conversation_ids)]
    done = repo.replied_conversations(session, incident.id)
    convs = repo.conversations(session, workspace_id, chosen)
    identities = repo.identities_of_conversations(session, chosen)
    customers = repo.customers(session, [c.customer_id for c in convs.values()])
    workspace = session.get(Workspace, workspace_id)
    brand = workspace.name if workspace else ""
    result = BulkResult()
    pace: dict[int | None, datetime] = {}
    for conv_id in chosen:
        if conv_id in done:
            result.skipped.append(conv_id)
            continue
        conv = convs.get(conv_id)
        if conv is None:
            result.failed.append((conv_id, "conversation not found"))
            continue
        identity = identities.get(conv_id)
        customer = customers.get(conv.customer_id or 0)
        text = fill(
            template,
            {
                "customer_name": (customer.display_name if customer else "")
                or (identity.display_name if identity else ""),
                "customer_handle": identity.handle if identity else "",
                "agent_name": user.name,
                "brand": brand,
                "case_id": str(conv.id),
                "channel": conv.channel,
            },
        )
        try:
            with session.begin_nested():
                message = send_reply(
                    session,
                    workspace_id=workspace_id,
                    conversation_id=conv_id,
                    author_user_id=user.id,
                    text=text,
                    visibility=visibility,
                    clock=lambda: now,
                )
                _pace(session, message, pace, now)
                repo.add(
                    session,
                    IncidentReply(
                        workspace_id=workspace_id,
                        incident_id=incident.id,
                        conversation_id=conv_id,
                        message_id=message.id,
                        kind="reply",
                        user_id=user.id,
                        created_at=now,
                    ),
                )
        except IntegrityError:
            result.skipped.append(conv_id)  # answered concurrently
            continue
        except SocialdeskError as exc:
            result.failed.append((conv_id, str(exc)))
            continue
        result.sent.append(conv_id)
    record(
        session,
        incident,
        "bulk_reply",
        user.id,
        now,
        template=template[:2000],
        sent=len(result.sent),
        skipped=len(result.skipped),
        failed=[{"conversation_id": c, "reason": r} for c, r in result.failed],
    )
    session.flush()
    return result


def _pace(
    session: Session, message: Message, pace: dict[int | None, datetime], now: datetime
) -> None:
    """Spread one account's answers over time (see ``PACING``)."""
    gap = PACING.get(message.channel)
    if gap is None:
        return
    account = (
        channel_repo.get_account(session, message.workspace_id, message.channel_account_id)
        if message.channel_account_id is not None
        else None
    )
    if account is not None and (account.settings or {}).get("sandbox"):
        return
    key = message.channel_account_id
    at = pace.get(key, now - gap) + gap
    at = max(at, now)
    pace[key] = at
    item = repo.outbox_item_of_message(session, message.id)
    if item is not None:
        item.next_attempt_at = at


def public_post(
    session: Session,
    workspace_id: int,
    incident_id: int,
    *,
    user: User,
    text: str,
    channel: str,
    now: datetime,
) -> Message:
    """A status post from the brand's own account, linked to the incident.

    It is stored as the brand's message in a case of its own (so customers' replies to it
    thread there) and leaves through the outbox like every answer.
    """
    incident = repo.lock_incident(session, workspace_id, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    action = PUBLIC_POST_ACTIONS.get(channel)
    if action is None:
        raise InvalidInput(
            f"a public post goes out on {' or '.join(sorted(PUBLIC_POST_ACTIONS))}, not {channel!r}"
        )
    body = text.strip()
    if not body:
        raise InvalidInput("the post is empty")
    check_outbound(channel, "public", body)
    account = channel_repo.first_active_account(session, workspace_id, channel)
    if account is None:
        raise InvalidInput(f"no active {channel} account is connected to post from")
    key = outbox.new_idempotency_key()
    conv = repo.add(
        session,
        Conversation(
            workspace_id=workspace_id,
            customer_id=None,
            channel=channel,
            status="pending",
            subject=f"Incident {incident.id}: {incident.title}"[:200],
            message_count=1,
            first_message_at=now,
            last_message_at=now,
            last_outbound_at=now,
        ),
    )
    thread = repo.add(
        session,
        Thread(
            workspace_id=workspace_id,
            conversation_id=conv.id,
            channel=channel,
            key=f"post:{key}",
            visibility="public",
        ),
    )
    message = repo.add(
        session,
        Message(
            workspace_id=workspace_id,
            conversation_id=conv.id,
            thread_id=thread.id,
            channel=channel,
            channel_account_id=account.id,
            direction=Direction.OUTBOUND,
            visibility="public",
            external_id=f"outbox:{key}",
            text=body,
            metrics={},
            created_at=now,
            received_at=now,
        ),
    )
    target = {"page_id": account.external_id} if channel == "facebook" else {}
    outbox.enqueue(
        session,
        workspace_id=workspace_id,
        conversation_id=conv.id,
        message_id=message.id,
        channel=channel,
        action=action,
        text=body,
        target=target,
        now=now,
        idempotency_key=key,
        channel_account_id=account.id,
        author_user_id=user.id,
    )
    repo.add(
        session,
        IncidentReply(
            workspace_id=workspace_id,
            incident_id=incident.id,
            conversation_id=conv.id,
            message_id=message.id,
            kind="public_post",
            user_id=user.id,
            created_at=now,
        ),
    )
    record(
        session,
        incident,
        "public_post",
        user.id,
        now,
        channel=channel,
        text=body[:2000],
        conversation_id=conv.id,
    )
    session.flush()
    return message
