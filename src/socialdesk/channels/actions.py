"""Which platform action answers a message: a pure decision over channel and visibility."""

from __future__ import annotations

from socialdesk.core.errors import InvalidInput

# Private channels by nature: a reply there is private whatever the composer asked for.
ALWAYS_PRIVATE = frozenset({"email"})


class Action:
    X_REPLY = "x.reply"
    X_DM = "x.dm"
    X_POST = "x.post"  # the brand's own post (an incident's status update)
    # A new post quoting the customer's: how a self-serve X app answers in public a post
    # that does not mention the account (replies to those are refused since 2026).
    X_QUOTE = "x.quote"
    FACEBOOK_COMMENT_REPLY = "facebook.comment_reply"
    FACEBOOK_PRIVATE_REPLY = "facebook.private_reply"
    FACEBOOK_MESSAGE = "facebook.message"
    FACEBOOK_POST = "facebook.post"  # a post on the brand's Page feed
    INSTAGRAM_COMMENT_REPLY = "instagram.comment_reply"
    INSTAGRAM_PRIVATE_REPLY = "instagram.private_reply"
    INSTAGRAM_MESSAGE = "instagram.message"
    INSTAGRAM_MENTION_REPLY = "instagram.mention_reply"
    EMAIL_SEND = "email.send"
    WEBHOOK_SEND = "webhook.send"


def effective_visibility(channel: str, requested: str, target_visibility: str) -> str:
    """A private conversation never turns public; a public one may go private on request.

    ``quote`` (X only) answers a public post with a public post quoting it.
    """
    if requested not in ("public", "private", "quote"):
        raise InvalidInput(f"visibility must be 'public', 'private' or 'quote', not {requested!r}")
    if channel in ALWAYS_PRIVATE or target_visibility == "private":
        if requested == "quote":
            raise InvalidInput("only a public post can be quoted")
        return "private"
    if requested == "quote":
        if channel != "x":
            raise InvalidInput(f"answering with a quote exists on X only, not on {channel}")
        return "public"
    return requested


def plan_action(
    channel: str, visibility: str, target_visibility: str, *, quote: bool = False
) -> str:
    """The action for a reply of ``visibility`` to a message of ``target_visibility``."""
    public_target = target_visibility == "public"
    if channel == "x":
        if quote:
            return Action.X_QUOTE
        return Action.X_REPLY if visibility == "public" else Action.X_DM
    if channel in ("facebook", "instagram"):
        prefix = channel
        if visibility == "public":
            return f"{prefix}.comment_reply"
        # A private answer to a public comment is the platform's "private reply".
        return f"{prefix}.private_reply" if public_target else f"{prefix}.message"
    if channel == "email":
        return Action.EMAIL_SEND
    if channel == "webhook":
        return Action.WEBHOOK_SEND
    raise InvalidInput(f"replies cannot be sent on channel {channel!r}")


def dm_thread_key(party_a: str, party_b: str) -> str:
    """The thread key of the private messages between two parties, order-independent."""
    low, high = sorted((party_a, party_b))
    return f"dm:{low}|{high}"
