"""Per-channel limits on outbound messages, checked before anything is queued or sent."""

from __future__ import annotations

import re
from dataclasses import dataclass

from socialdesk.core.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class ChannelLimits:
    max_length: int
    max_attachments: int
    # X counts every URL as a shortened t.co link and wide characters double.
    weighted: bool = False


# Public documentation of each platform (X posts and DMs, Graph API comments, Messenger and
# Instagram messaging); email and the generic webhook are ours to choose.
LIMITS: dict[tuple[str, str], ChannelLimits] = {
    ("x", "public"): ChannelLimits(280, 4, weighted=True),
    ("x", "private"): ChannelLimits(10_000, 1),
    ("facebook", "public"): ChannelLimits(8_000, 1),
    ("facebook", "private"): ChannelLimits(2_000, 1),
    ("instagram", "public"): ChannelLimits(2_200, 0),
    ("instagram", "private"): ChannelLimits(1_000, 1),
    ("email", "private"): ChannelLimits(100_000, 10),
    ("email", "public"): ChannelLimits(100_000, 10),
    ("webhook", "public"): ChannelLimits(10_000, 10),
    ("webhook", "private"): ChannelLimits(10_000, 10),
}

X_URL_WEIGHT = 23
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
# twitter-text v3: these code point ranges weigh 1, everything else weighs 2.
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


def _char_weight(char: str) -> int:
    point = ord(char)
    return 1 if any(lo <= point <= hi for lo, hi in _LIGHT_RANGES) else 2


def x_weighted_length(text: str) -> int:
    """The length X counts for a post: URLs as 23, wide characters and emoji as 2."""
    total = 0
    position = 0
    for match in _URL.finditer(text):
        total += sum(_char_weight(c) for c in text[position : match.start()])
        total += X_URL_WEIGHT
        position = match.end()
    total += sum(_char_weight(c) for c in text[position:])
    return total


def measured_length(channel: str, visibility: str, text: str) -> int:
    limits = limits_for(channel, visibility)
    return x_weighted_length(text) if limits.weighted else len(text)


def limits_for(channel: str, visibility: str) -> ChannelLimits:
    try:
        return LIMITS[(channel, visibility)]
    except KeyError:
        raise InvalidInput(f"no {visibility} messages can be sent on channel {channel!r}") from None


def check_outbound(channel: str, visibility: str, text: str, attachments: int = 0) -> None:
    """Raise InvalidInput with the limit broken, so the agent can fix the reply at once."""
    limits = limits_for(channel, visibility)
    if not text.strip():
        raise InvalidInput("the reply is empty")
    length = measured_length(channel, visibility, text)
    if length > limits.max_length:
        raise InvalidInput(
            f"the reply is {length} characters long; {channel} {visibility} messages "
            f"allow at most {limits.max_length}"
        )
    if attachments > limits.max_attachments:
        raise InvalidInput(
            f"{attachments} attachments given; {channel} {visibility} messages "
            f"allow at most {limits.max_attachments}"
        )
