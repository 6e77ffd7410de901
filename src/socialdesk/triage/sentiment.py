"""Lexicon sentiment: VADER, made for social media text, with a care-aware correction.

VADER scores words of feeling; a care message often states a failure in neutral words ("my
bag never arrived"). A small lexicon of service-failure phrases moves such messages towards
negative, the way a care agent reads them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from socialdesk.triage.lexicon import Lexicon

# Service failures written in neutral words.
_FAILURE = Lexicon(
    (
        "delay*",
        "late",
        "cancelled",
        "canceled",
        "lost",
        "missing",
        "broken",
        "damaged",
        "never arrived",
        "never came",
        "never showed",
        "still waiting",
        "still no",
        "no one",
        "nobody",
        "no response",
        "no answer",
        "no reply",
        "on hold",
        "overcharg*",
        "charged twice",
        "not working",
        "doesn't work",
        "doesnt work",
        "won't work",
        "stuck",
        "stranded",
        "refund",
        "wrong",
        "hour",
        "hours",
        "waiting",
        "again",
        "unacceptable",
        "ridiculous",
        "disappoint*",
        "fail*",
        "worst",
        "rude",
        "why",
        "fed up",
        "supposed to",
        "promised",
        "you said",
        "was told",
        "hasn't arrived",
        "has not arrived",
        "haven't received",
        "have not received",
        "not received",
        "didn't receive",
        "nothing came",
        "nothing arrived",
        "keeps dropping",
        "drops",
        "still not",
        "still hasn't",
        "never",
        "no one answers",
        "nobody answers",
        "isn't",
        "logs me out",
    )
)
FAILURE_WEIGHT = 0.18
NEUTRAL_BAND = 0.05


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_scores(text: str) -> dict[str, float]:
    """VADER's neg/neu/pos/compound for a text ({} scores zero for empty text)."""
    if not text.strip():
        return {"neg": 0.0, "neu": 1.0, "pos": 0.0, "compound": 0.0}
    scores: dict[str, float] = _analyzer().polarity_scores(text)
    return scores


def failure_cues(text: str, prefixes: frozenset[str] | None = None) -> list[str]:
    return _FAILURE.findall(text, prefixes)


def care_compound(compound: float, failures: int) -> float:
    """VADER's compound moved towards negative by each service failure stated, in [-1, 1]."""
    adjusted = compound - FAILURE_WEIGHT * min(failures, 3)
    return max(-1.0, min(1.0, adjusted))


def label_for(compound: float) -> str:
    if compound >= NEUTRAL_BAND:
        return "positive"
    if compound <= -NEUTRAL_BAND:
        return "negative"
    return "neutral"
