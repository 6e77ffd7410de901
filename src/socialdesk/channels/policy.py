"""When a platform lets a brand answer, and how: pure rules over times and account facts.

Meta (Messenger and Instagram messaging): a reply of type ``RESPONSE`` is accepted within
24 hours of the customer's last message; a human agent may answer up to 7 days after it
with the ``HUMAN_AGENT`` tag; after that the Send API refuses (error 10, subcode 2018278)
until the customer writes again. A private reply to a comment is one message, within 7
days of the comment. X: since February 2026 a self-serve app (Free, Basic, Pro,
pay-per-use) may reply through ``POST /2/tweets`` only to a post whose author mentioned or
quoted the replying account; Enterprise apps are exempt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from socialdesk.core.errors import InvalidInput

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
PRIVATE_REPLY_WINDOW = timedelta(days=7)

# The other ways to reach a customer when the platform refuses an answer on this one.
SHIFT_OFFER = ("email", "callback")
X_TIERS = ("self_serve", "enterprise")


@dataclass(frozen=True, slots=True)
class ReplyWindow:
    """What the composer shows and what the reply service enforces for one answer."""

    allowed: bool
    kind: str  # "standard", "human_agent", "private_reply", "closed", "used", "open"
    deadline: datetime | None
    reason: str
    # Meta Send API fields for a message answer; empty for anything else.
    messaging_type: str = ""
    tag: str = ""
    offers: tuple[str, ...] = ()


OPEN = ReplyWindow(allowed=True, kind="open", deadline=None, reason="")


def messaging_window(last_customer_message_at: datetime, now: datetime) -> ReplyWindow:
    """The Messenger / Instagram messaging window after the customer's last message."""
    standard_until = last_customer_message_at + STANDARD_WINDOW
    human_until = last_customer_message_at + HUMAN_AGENT_WINDOW
    if now < standard_until:
        return ReplyWindow(
            allowed=True,
            kind="standard",
            deadline=standard_until,
            reason="the customer wrote within the last 24 hours",
            messaging_type="RESPONSE",
        )
    if now < human_until:
        return ReplyWindow(
            allowed=True,
            kind="human_agent",
            deadline=human_until,
            reason="past 24 hours: only a person may answer, tagged HUMAN_AGENT, for 7 days",
            messaging_type="MESSAGE_TAG",
            tag="HUMAN_AGENT",
        )
    return ReplyWindow(
        allowed=False,
        kind="closed",
        deadline=human_until,
        reason=(
            "the customer's last message is more than 7 days old, so the platform refuses "
            "any answer until they write again; move them to e-mail or a phone callback"
        ),
        offers=SHIFT_OFFER,
    )


def private_reply_window(
    comment_created_at: datetime, already_answered: bool, now: datetime
) -> ReplyWindow:
    """One private message to the author of a comment, within 7 days of the comment."""
    deadline = comment_created_at + PRIVATE_REPLY_WINDOW
    if already_answered:
        return ReplyWindow(
            allowed=False,
            kind="used",
            deadline=deadline,
            reason=(
                "a comment gets one private reply and it has been sent; the conversation "
                "goes on when the customer answers it, or by e-mail or a phone callback"
            ),
            offers=("public", *SHIFT_OFFER),
        )
    if now >= deadline:
        return ReplyWindow(
            allowed=False,
            kind="closed",
            deadline=deadline,
            reason=(
                "the comment is more than 7 days old, too old for a private reply; answer "
                "in public, or move the customer to e-mail or a phone callback"
            ),
            offers=("public", *SHIFT_OFFER),
        )
    return ReplyWindow(
        allowed=True,
        kind="private_reply",
        deadline=deadline,
        reason="one private reply to this comment, within 7 days of it",
    )


def mentions_handle(text: str, handle: str) -> bool:
    """Whether ``text`` names the account ``@handle`` (X handles are case-insensitive)."""
    name = handle.strip().lstrip("@")
    if not name:
        return False
    return re.search(rf"(?<![\w@])@{re.escape(name)}(?!\w)", text, re.IGNORECASE) is not None


def x_public_reply(
    *, tier: str, text: str, handle: str, quotes_account: bool = False
) -> ReplyWindow:
    """Whether an X app of ``tier`` may answer this post in public, in its thread."""
    if tier == "enterprise" or quotes_account or mentions_handle(text, handle):
        return OPEN
    return ReplyWindow(
        allowed=False,
        kind="closed",
        deadline=None,
        reason=(
            "X lets a self-serve app reply in public only to posts that mention or quote "
            f"the account, and this post does not name {handle or 'it'}; answer by DM or "
            "quote the post instead"
        ),
        offers=("private", "quote"),
    )


class ReplyNotAllowed(InvalidInput):
    """The platform would refuse this answer; the window says why and what to offer instead."""

    def __init__(self, window: ReplyWindow) -> None:
        super().__init__(f"this answer cannot be sent: {window.reason}")
        self.window = window
