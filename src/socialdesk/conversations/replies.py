"""An agent's reply: stored as an outbound message and committed with its outbox row.

``send_reply`` validates the reply against the channel's limits, picks the platform action
(reply in thread, DM, private reply to a comment, email), stores the outbound message,
marks the task's first response, moves task and conversation to pending and queues the
delivery, all in the caller's transaction (it flushes; the caller commits). Delivery
happens after commit, by the outbox sender.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from socialdesk.channels import outbox
from socialdesk.channels import repository as channel_repo
from socialdesk.channels.actions import (
    ALWAYS_PRIVATE,
    Action,
    dm_thread_key,
    effective_visibility,
    plan_action,
)
from socialdesk.channels.limits import check_outbound
from socialdesk.channels.models import ChannelAccount, KbLink, OutboxStatus
from socialdesk.channels.policy import (
    OPEN,
    ReplyNotAllowed,
    ReplyWindow,
    messaging_window,
    private_reply_window,
    x_public_reply,
)
from socialdesk.conversations import repository
from socialdesk.conversations import repository as conversation_repository
from socialdesk.conversations.models import (
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    Thread,
)
from socialdesk.core.clock import Clock, utcnow
from socialdesk.core.errors import InvalidInput, NotFound
from socialdesk.core.work import TaskStatus
from socialdesk.knowledge import repository as knowledge_repo

MAX_KB_URL = 2000


def reply_to_case(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: int,
    author_user_id: int,
    text: str,
    visibility: str = "public",
    kb_article_id: int | None = None,
    clock: Clock = utcnow,
) -> Message:
    """An agent answers a case on its channel, publicly or privately (``quote`` for a quote
    post where the platform takes no reply), with a knowledge article's tracked link when
    ``kb_article_id`` names one of the workspace's articles."""
    if not text.strip():
        raise InvalidInput("the reply is empty")
    kb_url = None
    if kb_article_id is not None:
        article = knowledge_repo.article(session, workspace_id, kb_article_id)
        if article is None:
            raise NotFound(f"no knowledge article {kb_article_id} in this workspace")
        kb_url = article.url
    return send_reply(
        session,
        workspace_id=workspace_id,
        conversation_id=conversation_id,
        author_user_id=author_user_id,
        text=text,
        visibility=visibility,
        kb_article_url=kb_url,
        clock=clock,
    )


def send_reply(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: int,
    author_user_id: int,
    text: str,
    visibility: str = "public",
    channel: str | None = None,
    reply_to_message_id: int | None = None,
    kb_article_url: str | None = None,
    clock: Clock = utcnow,
) -> Message:
    now = clock()
    conversation = repository.get_conversation(session, workspace_id, conversation_id)
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} not found")
    target = _target_message(session, conversation, channel, reply_to_message_id)
    target_thread = repository.get_thread(session, target.thread_id)
    if target_thread is None:  # the foreign key makes this a broken database, not bad input
        raise NotFound(f"thread {target.thread_id} of message {target.id} not found")
    chosen_visibility = effective_visibility(target.channel, visibility, target.visibility)
    action = plan_action(
        target.channel, chosen_visibility, target.visibility, quote=visibility == "quote"
    )

    account = _account_for(session, workspace_id, target)
    window = answer_window(session, action, target, account, now)
    if not window.allowed:
        raise ReplyNotAllowed(window)
    key = outbox.new_idempotency_key()
    link: KbLink | None = None
    body = text.strip()
    if kb_article_url:
        link, body = _with_kb_link(session, workspace_id, body, kb_article_url)
    check_outbound(target.channel, chosen_visibility, body)

    customer = repository.get_identity(session, target.author_identity_id)
    thread = _reply_thread(
        session, conversation, target_thread, chosen_visibility, account, customer
    )
    delivery_target = _delivery_target(session, action, target, thread, conversation, account, key)
    if window.messaging_type:
        delivery_target["messaging_type"] = window.messaging_type
        if window.tag:
            delivery_target["tag"] = window.tag
    if delivery_target.pop("mention", False):
        action = Action.INSTAGRAM_MENTION_REPLY
    external_id = delivery_target.get("message_id") or f"outbox:{key}"

    message = repository.add_message(
        session,
        Message(
            workspace_id=workspace_id,
            conversation_id=conversation.id,
            thread_id=thread.id,
            channel=target.channel,
            channel_account_id=account.id if account else None,
            direction=Direction.OUTBOUND,
            visibility=chosen_visibility,
            external_id=external_id,
            reply_to_external_id=target.external_id,
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
        channel=target.channel,
        action=action,
        text=body,
        target=delivery_target,
        now=now,
        idempotency_key=key,
        channel_account_id=account.id if account else None,
        author_user_id=author_user_id,
    )
    if link is not None:
        link.conversation_id = conversation.id
        link.message_id = message.id
        link.created_at = now
        channel_repo.add_kb_link(session, link)

    conversation.status = ConversationStatus.PENDING
    conversation.message_count += 1
    conversation.last_message_at = max(conversation.last_message_at, now)
    conversation.last_outbound_at = now
    conversation.updated_at = now
    task = repository.get_task_for_conversation(session, conversation.id)
    if task is not None:
        if task.first_response_at is None:
            task.first_response_at = now
        task.status = TaskStatus.PENDING
        task.updated_at = now
    session.flush()
    return message


def answer_window(
    session: Session,
    action: str,
    target: Message,
    account: ChannelAccount | None,
    now: datetime,
) -> ReplyWindow:
    """Whether the platform accepts ``action`` as an answer to ``target`` now, and how."""
    if action in (Action.FACEBOOK_MESSAGE, Action.INSTAGRAM_MESSAGE):
        last = conversation_repository.latest_inbound_in_thread(session, target.thread_id)
        return messaging_window((last or target).created_at, now)
    if action in (Action.FACEBOOK_PRIVATE_REPLY, Action.INSTAGRAM_PRIVATE_REPLY):
        answered = any(
            item.action == action
            and str(item.target.get("comment_id")) == target.external_id
            and item.status not in (OutboxStatus.FAILED, OutboxStatus.CANCELLED)
            for item in channel_repo.outbox_for_conversation(
                session, target.workspace_id, target.conversation_id
            )
        )
        return private_reply_window(target.created_at, answered, now)
    if action == Action.X_REPLY and account is not None:
        # (Without an account nothing is sent; the sender records that failure instead.)
        settings = account.settings or {}
        extra = channel_repo.raw_event_extra(session, target.raw_event_id)
        return x_public_reply(
            tier=str(settings.get("x_tier") or "self_serve"),
            text=target.text,
            handle=account.handle,
            quotes_account=bool(extra.get("quotes_account")),
        )
    return OPEN


def reply_windows(
    session: Session, workspace_id: int, conversation_id: int, now: datetime
) -> dict[str, ReplyWindow]:
    """For the composer: the public and the private answer to the customer's last message."""
    conversation = repository.get_conversation(session, workspace_id, conversation_id)
    if conversation is None:
        return {}
    target = repository.latest_inbound_message(session, workspace_id, conversation_id)
    if target is None:
        return {}
    account = _account_for(session, workspace_id, target)
    windows: dict[str, ReplyWindow] = {}
    for visibility in ("public", "private"):
        try:
            chosen = effective_visibility(target.channel, visibility, target.visibility)
            action = plan_action(target.channel, chosen, target.visibility)
        except InvalidInput:
            continue
        windows[visibility] = answer_window(session, action, target, account, now)
    return windows


def _target_message(
    session: Session,
    conversation: Conversation,
    channel: str | None,
    reply_to_message_id: int | None,
) -> Message:
    if reply_to_message_id is not None:
        target = repository.get_message(session, conversation.workspace_id, reply_to_message_id)
        if target is None or target.conversation_id != conversation.id:
            raise NotFound(f"message {reply_to_message_id} is not part of this conversation")
        if channel is not None and channel != target.channel:
            raise InvalidInput(
                f"message {reply_to_message_id} arrived on {target.channel}, not on {channel}; "
                "use a channel shift to move the customer"
            )
        return target
    wanted = channel or conversation.channel
    found = repository.latest_inbound_message(
        session, conversation.workspace_id, conversation.id, wanted
    )
    if found is None:
        raise InvalidInput(
            f"the customer has not written on {wanted} in this conversation; "
            "use a channel shift to reach them there"
        )
    return found


def _account_for(session: Session, workspace_id: int, target: Message) -> ChannelAccount | None:
    if target.channel_account_id is not None:
        account = channel_repo.get_account(session, workspace_id, target.channel_account_id)
        if account is not None and account.active:
            return account
    # Without an account the reply is still stored; the sender records the failure.
    return channel_repo.first_active_account(session, workspace_id, target.channel)


def _reply_thread(
    session: Session,
    conversation: Conversation,
    target_thread: Thread,
    visibility: str,
    account: ChannelAccount | None,
    customer: Any,
) -> Thread:
    if visibility == target_thread.visibility or target_thread.channel in ALWAYS_PRIVATE:
        return target_thread
    # Going private from a public thread: the DM thread joins this same case.
    return ensure_dm_thread(
        session,
        conversation,
        channel=target_thread.channel,
        brand_id=account.external_id if account else "brand",
        customer_id=customer.external_id if customer else f"conversation-{conversation.id}",
    )


def ensure_dm_thread(
    session: Session, conversation: Conversation, *, channel: str, brand_id: str, customer_id: str
) -> Thread:
    """The private thread between brand and customer, linked to ``conversation``.

    When the customer's DM arrives later, threading finds this key and files the message
    in the same case instead of opening a new one.
    """
    key = dm_thread_key(brand_id, customer_id)
    thread = repository.get_thread_by_key(session, conversation.workspace_id, channel, key)
    if thread is not None:
        return thread
    return repository.add_thread(
        session,
        Thread(
            workspace_id=conversation.workspace_id,
            conversation_id=conversation.id,
            channel=channel,
            key=key,
            visibility="private",
        ),
    )


def _delivery_target(
    session: Session,
    action: str,
    target: Message,
    thread: Thread,
    conversation: Conversation,
    account: ChannelAccount | None,
    key: str,
) -> dict[str, Any]:
    author = repository.get_identity(session, target.author_identity_id)
    author_id = author.external_id if author else None
    if action == Action.X_REPLY:
        return {"in_reply_to_tweet_id": target.external_id}
    if action == Action.X_QUOTE:
        return {"quote_tweet_id": target.external_id}
    if action == Action.INSTAGRAM_COMMENT_REPLY:
        mention = channel_repo.raw_event_extra(session, target.raw_event_id)
        if mention.get("mention"):
            # Someone else's post mentioning us: answered through the mentions edge.
            return {
                "object_id": target.external_id,
                "mention": True,
                "media_id": mention.get("media_id"),
                "comment_id": mention.get("comment_id"),
            }
    if action in (Action.FACEBOOK_COMMENT_REPLY, Action.INSTAGRAM_COMMENT_REPLY):
        return {"object_id": target.external_id}
    if action in (Action.FACEBOOK_PRIVATE_REPLY, Action.INSTAGRAM_PRIVATE_REPLY):
        return {"comment_id": target.external_id, "recipient_id": author_id}
    if action in (Action.X_DM, Action.FACEBOOK_MESSAGE, Action.INSTAGRAM_MESSAGE):
        if not author_id:
            raise InvalidInput("the customer's account on this channel is unknown")
        return {"recipient_id": author_id}
    if action == Action.EMAIL_SEND:
        return _email_target(session, target, conversation, account, author, key)
    return {"recipient_id": author_id, "reply_to": target.external_id, "thread": thread.key}


def _email_target(
    session: Session,
    target: Message,
    conversation: Conversation,
    account: ChannelAccount | None,
    author: Any,
    key: str,
) -> dict[str, Any]:
    address = (author.profile.get("email") if author else None) or (
        author.external_id if author else None
    )
    if not address or "@" not in address:
        raise InvalidInput("the customer's email address is unknown")
    references = reply_references(
        target.external_id, channel_repo.raw_event_payload(session, target.raw_event_id)
    )
    subject = conversation.subject or "Your message"
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    mailbox = account.external_id if account else "care@localhost"
    domain = mailbox.rsplit("@", 1)[-1] if "@" in mailbox else "localhost"
    # Known before sending, so the customer's mail client can de-duplicate a resend.
    message_id = f"<{key}@{domain}>"
    return {
        "to": address,
        "from": mailbox,
        "subject": subject[:998],
        "message_id": message_id,
        "in_reply_to": target.external_id if target.external_id.startswith("<") else None,
        "references": references,
    }


def reply_references(parent_id: str, parent: dict[str, Any]) -> list[str]:
    """RFC 5322 section 3.6.4: the parent's References (or, lacking them, its single
    In-Reply-To) followed by the parent's Message-ID. A long chain keeps its first id
    (the thread's root) and the most recent ones."""
    chain = [str(r) for r in parent.get("references") or [] if str(r).startswith("<")]
    if not chain and str(parent.get("reply_to") or "").startswith("<"):
        chain = [str(parent["reply_to"])]
    if parent_id.startswith("<"):
        chain.append(parent_id)
    unique = list(dict.fromkeys(chain))
    return unique if len(unique) <= 20 else [unique[0], *unique[-19:]]


def _with_kb_link(session: Session, workspace_id: int, body: str, url: str) -> tuple[KbLink, str]:
    url = url.strip()
    if not url.lower().startswith(("https://", "http://")) or len(url) > MAX_KB_URL:
        raise InvalidInput(
            "the knowledge-base link must be an http(s) URL of at most 2000 characters"
        )
    token = secrets.token_urlsafe(12)
    workspace = channel_repo.get_workspace(session, workspace_id)
    base = str((workspace.settings or {}).get("link_base_url", "")) if workspace else ""
    # With a public base URL the link goes through our redirect, which records its use.
    shown = f"{base.rstrip('/')}/l/{token}" if base else url
    text = body if url in body else f"{body} {shown}".strip()
    if base and url in body:
        text = body.replace(url, shown)
    link = KbLink(workspace_id=workspace_id, url=url, token=token, click_count=0)
    return link, text
