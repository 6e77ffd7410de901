"""Pure rules that tell which thread a message belongs to.

A thread is named by a key on its channel:
- a public reply chain is named by its root post's external id;
- private messages on a social channel (DMs, Messenger) between the same two parties share
  ``dm:<a>|<b>`` (the two platform user ids, sorted);
- an email chain is named by its first Message-ID (via In-Reply-To / References);
- a connector that knows better may name the thread explicitly (``thread_ref``).
"""

from __future__ import annotations

from collections.abc import Mapping

from socialdesk.channels.events import InboundEvent

PAIR_THREADED_CHANNELS = frozenset({"x", "facebook", "instagram"})


def dm_key(party_a: str, party_b: str) -> str:
    low, high = sorted((party_a, party_b))
    return f"dm:{low}|{high}"


def parent_ids(event: InboundEvent) -> list[str]:
    """The messages this one answers, nearest first (reply_to, then References newest first)."""
    ids: list[str] = []
    if event.reply_to:
        ids.append(event.reply_to)
    ids.extend(ref for ref in reversed(event.references) if ref and ref not in ids)
    return ids


def thread_key(event: InboundEvent, known_thread_of: Mapping[str, str]) -> str:
    """The key of the thread ``event`` belongs to.

    ``known_thread_of`` maps external ids of messages already stored on the event's channel
    to their thread keys; a parent that is not known yet (replies can arrive before the post
    they answer) is taken as the thread's root, so its later arrival joins the same thread.
    """
    if event.thread_ref:
        return event.thread_ref
    if event.visibility == "private" and event.channel in PAIR_THREADED_CHANNELS:
        other = event.recipient.id if event.recipient else ""
        return dm_key(event.author.id, other)
    parents = parent_ids(event)
    for parent in parents:
        if parent in known_thread_of:
            return known_thread_of[parent]
    if parents:
        return parents[-1]
    return event.external_id


def starts_new_case(event: InboundEvent) -> bool:
    """A new private thread joins the customer's open case (the DM that follows a public post,
    the email that follows a tweet); a new public post opens a case of its own."""
    return event.visibility == "public"
