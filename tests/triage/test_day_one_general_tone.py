"""Day-one sentiment of general public posts: products, companies, markets, sport, films.

Every text here was written for these tests (none comes from a public data set, and none is a
seed). A fresh install reads the tone of posts said to the world as well as posts to a brand:
delight and good news are positive; disappointment, bad news and sarcasm negative; news,
prices, schedules and plain questions neutral.
"""

from __future__ import annotations

from collections import Counter

import pytest

from socialdesk.triage.classifier import ModelSet, triage_batch
from socialdesk.triage.seeds import seed_examples

POSITIVE = [
    "the new e-reader is lovely, the screen is easy on the eyes at night",
    "our little café was packed all weekend, best opening we could have hoped for",
    "that last-minute winner!!! what a night to be a fan",
    "the vacuum cleaner I bought last week is brilliant, the whole flat is spotless",
    "shares of the carmaker hit an all-time high after record deliveries",
    "the streaming service's new drama is superb, binged it in two days",
    "delighted with the new bike, rides like a dream",
    "the toy maker posts record profits on a bumper Christmas",
    "so happy with the new kettle, boils in a minute",
    "brilliant gig last night, the band were on fire",
    "finally got the new console and it is everything I hoped",
]
NEGATIVE = [
    "the sequel to my favourite game is a buggy mess, so let down",
    "the carmaker's profits slump as sales collapse in Europe",
    "the new season of the show is dull and way too long",
    "the headphones I got for my birthday broke after a week, cheap rubbish",
    "so sad that our local cinema is closing for good",
    "the toy maker cuts 800 jobs after a poor Christmas",
    "the smart speaker keeps mishearing me, useless thing",
    "the gig was a letdown, they played for forty minutes",
    "the camera maker recalls its flagship over overheating",
    "these trainers fell apart in a month, never again",
]
NEUTRAL = [
    "the carmaker will unveil its electric van at the motor show on Thursday",
    "the new e-reader costs 129 pounds and ships in October",
    "the supermarket chain reports its half-year results next Wednesday",
    "the match has been moved to Sunday at 4pm",
    "the gallery is open late on Fridays until the end of August",
    "the council is consulting on new cycle lanes until 30 June",
    "which e-reader do people use for comics?",
    "the toy maker reports its results on Tuesday",
    "the camera maker names a new chief executive",
    "the trainers go on sale at 9am on Saturday",
    "$TOYM up 1.2% in pre-market ahead of results",
]


@pytest.mark.parametrize(
    "label,text",
    [("positive", t) for t in POSITIVE]
    + [("negative", t) for t in NEGATIVE]
    + [("neutral", t) for t in NEUTRAL],
)
def test_general_posts_read_in_their_tone(label: str, text: str) -> None:
    assert triage_batch([text], ModelSet())[0].sentiment == label


def test_general_seeds_teach_every_tone_in_even_measure() -> None:
    # The public benchmarks weigh each tone's recall alike, so no tone may be a small
    # minority of the general seeds.
    general = [s for s in seed_examples() if s.language == "en"]
    counts = Counter(s.sentiment for s in general)
    assert set(counts) == {"negative", "neutral", "positive"}
    assert min(counts.values()) / max(counts.values()) > 0.5
