"""Who a post speaks to, read from its form: the brand, the author's own life, or the world.

A complaint is written to someone: it names the brand's handle or says "you" / "your", and
it is about the author's own case ("my bag", "we waited"). Complaint studies on brand
tweets find these pronouns among the strongest complaint markers (Preotiuc-Pietro et al.,
2019). A headline shared with a link, a retweet or a stock ticker, with no one addressed and
no "I" in it, is a broadcast: news or market talk, not a care request, whatever its words.
Pure functions over a prepared post.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from socialdesk.triage.text import Prepared

SECOND_PERSON = frozenset(
    {"you", "your", "yours", "you're", "youre", "you've", "you'll", "u", "ur", "y'all", "yall"}
)
FIRST_PERSON = frozenset(
    {
        "i",
        "i'm",
        "im",
        "i've",
        "ive",
        "i'd",
        "i'll",
        "me",
        "my",
        "mine",
        "we",
        "we're",
        "we've",
        "our",
        "ours",
        "us",
    }
)
_RETWEET = re.compile(r"(?:^|\s)RT\s*@|[“\"]@\w+:|\bvia @\w+", re.I)
_TICKER = re.compile(r"(?<![\w$])\$[A-Za-z]{1,5}\b")
_OPENING_HANDLE = re.compile(r"^\s*\.?@\w+")


@dataclass(frozen=True, slots=True)
class Address:
    """The form of a post: whom it names and whether it reads as a broadcast."""

    to_someone: bool  # opens with a handle, or says "you" / "your"
    second_person: bool
    first_person: bool
    broadcast: bool  # link, retweet or ticker, no one addressed, no "I": news, not a request


def _may_retweet(raw: str) -> bool:
    return "RT" in raw or "rt @" in raw or "via" in raw or "“@" in raw or '"@' in raw


def read_address(prepared: Prepared) -> Address:
    # The gate keys hold every word of the post (lexicon.word_prefixes).
    second = not SECOND_PERSON.isdisjoint(prepared.prefixes)
    first = not FIRST_PERSON.isdisjoint(prepared.prefixes)
    raw = prepared.raw
    mentions = prepared.mentions > 0
    opens_with_handle = mentions and _OPENING_HANDLE.match(raw) is not None
    retweet = mentions and _may_retweet(raw) and _RETWEET.search(raw) is not None
    ticker = "$" in raw and _TICKER.search(raw) is not None
    shared = prepared.urls > 0 or retweet or ticker
    broadcast = shared and not second and not first and (retweet or not opens_with_handle)
    return Address(
        to_someone=mentions or second,
        second_person=second,
        first_person=first,
        broadcast=broadcast,
    )
