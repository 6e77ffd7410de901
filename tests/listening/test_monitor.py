"""The streaming monitor over many series: a new hashtag's burst, silent series, dedup."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from socialdesk.listening.counting import ALL, Mention
from socialdesk.listening.monitor import ListeningMonitor

START = datetime(2026, 3, 2, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def quiet_traffic(monitor: ListeningMonitor, until: datetime, seed: int) -> list[str]:
    """A message every ~20 seconds from many authors, a few on a regular hashtag."""
    rng = random.Random(seed)
    at = monitor.open_step
    kinds: list[str] = []
    while at < until:
        at += timedelta(seconds=rng.expovariate(1 / 20))
        keys: tuple[str, ...] = (ALL, "topic:billing")
        if rng.random() < 0.05:
            keys = (*keys, "hashtag:#billing")
        monitor.observe(Mention(at, f"user-{rng.randrange(100_000)}", keys, rng.random() < 0.25))
        kinds.extend(d.kind + " " + d.key for d in monitor.advance(at))
    return kinds


def test_a_new_hashtag_burst_is_caught_in_minutes_while_normal_traffic_is_quiet() -> None:
    monitor = ListeningMonitor(START)
    onset = START + timedelta(days=2, hours=10)
    assert quiet_traffic(monitor, onset, seed=1) == []
    found = []
    for second in range(0, 600, 10):  # six authors a minute on a new hashtag
        at = onset + timedelta(seconds=second)
        monitor.observe(Mention(at, f"angry-{second}", (ALL, "hashtag:#acmefail"), True))
        found.extend(monitor.advance(at))
    keys = {d.key for d in found}
    assert "hashtag:#acmefail" in keys
    first = min(d.at for d in found if d.key == "hashtag:#acmefail")
    assert first < onset + timedelta(minutes=5)


def test_one_bot_flooding_a_hashtag_raises_nothing() -> None:
    monitor = ListeningMonitor(START)
    onset = START + timedelta(days=2, hours=10)
    quiet_traffic(monitor, onset, seed=2)
    found = []
    for second in range(0, 1800, 2):
        at = onset + timedelta(seconds=second)
        monitor.observe(Mention(at, "bot-7", (ALL, "hashtag:#acmefail"), True, "#AcmeFail"))
        found.extend(monitor.advance(at))
    assert found == []


def test_silent_series_are_fed_zeros_and_forgotten_when_idle() -> None:
    monitor = ListeningMonitor(START)
    monitor.observe(Mention(START, "a", (ALL, "hashtag:#once")))
    monitor.advance(START + timedelta(hours=2))
    assert monitor.series["hashtag:#once"].volume.last == START + timedelta(hours=2) - MINUTE
    monitor.advance(START + timedelta(days=4))
    assert "hashtag:#once" not in monitor.series
    assert ALL in monitor.series
