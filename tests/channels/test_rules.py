"""Pure rules of the channels: per-channel limits, X's weighted length, retry timing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from socialdesk.channels.actions import dm_thread_key, effective_visibility, plan_action
from socialdesk.channels.backoff import MAX_DELAY, next_attempt
from socialdesk.channels.limits import check_outbound, x_weighted_length
from socialdesk.core.errors import InvalidInput

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_x_counts_links_as_23_and_wide_characters_as_2() -> None:
    assert x_weighted_length("hello") == 5
    assert x_weighted_length("see https://example.com/a/very/long/path?with=query") == 4 + 23
    assert x_weighted_length("日本語") == 6
    assert x_weighted_length("ok 👍") == 3 + 2


@pytest.mark.parametrize(
    ("channel", "visibility", "length", "ok"),
    [
        ("x", "public", 280, True),
        ("x", "public", 281, False),
        ("x", "private", 10_000, True),
        ("facebook", "private", 2_001, False),
        ("instagram", "public", 2_200, True),
        ("instagram", "private", 1_001, False),
    ],
)
def test_each_channel_has_its_length_limit(
    channel: str, visibility: str, length: int, ok: bool
) -> None:
    if ok:
        check_outbound(channel, visibility, "a" * length)
    else:
        with pytest.raises(InvalidInput, match="at most"):
            check_outbound(channel, visibility, "a" * length)


def test_attachments_and_empty_replies_are_refused() -> None:
    with pytest.raises(InvalidInput, match="attachments"):
        check_outbound("instagram", "public", "nice", attachments=1)
    with pytest.raises(InvalidInput, match="empty"):
        check_outbound("email", "private", "   ")


def test_backoff_doubles_up_to_an_hour_and_honours_a_later_reset() -> None:
    delays = [next_attempt(NOW, n) - NOW for n in range(1, 10)]
    assert delays[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert max(delays) == MAX_DELAY
    reset = NOW + timedelta(hours=3)
    assert next_attempt(NOW, 1, reset) == reset
    assert next_attempt(NOW, 3, NOW + timedelta(seconds=1)) == NOW + timedelta(minutes=2)


def test_private_conversations_never_turn_public() -> None:
    assert effective_visibility("x", "public", "private") == "private"
    assert effective_visibility("email", "public", "public") == "private"
    assert effective_visibility("x", "private", "public") == "private"
    assert plan_action("facebook", "private", "public") == "facebook.private_reply"
    assert plan_action("facebook", "private", "private") == "facebook.message"
    assert plan_action("x", "private", "public") == "x.dm"
    assert dm_thread_key("900", "42") == dm_thread_key("42", "900") == "dm:42|900"
