"""Lexicon sentiment: VADER, made for social media text, with a care-aware correction.

VADER scores words of feeling; a care message often states a failure in neutral words ("my
bag never arrived"). A small lexicon of service-failure phrases moves such messages towards
negative, the way a care agent reads them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from socialdesk.triage.lexicon import Lexicon

# Service failures written in neutral words. These say so wherever they stand.
_FAILURE = Lexicon(
    (
        "delay*",
        "cancelled",
        "canceled",
        "missing",
        "broken",
        "damaged",
        "never arrived",
        "never came",
        "never showed",
        "still waiting",
        "still no",
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
        "stranded",
        "refund",
        "unacceptable",
        "ridiculous",
        "disappoint*",
        "worst",
        "rude",
        "fed up",
        "hasn't arrived",
        "has not arrived",
        "haven't received",
        "have not received",
        "not received",
        "didn't receive",
        "nothing came",
        "nothing arrived",
        "keeps dropping",
        "still not",
        "still hasn't",
        "no one answers",
        "nobody answers",
        "logs me out",
        # A product at fault, and negation scope over what it should do ("won't open").
        "stopped working",
        "stops working",
        "crash*",
        "freez*",
        "glitch*",
        "bug",
        "bugs",
        "buggy",
        "fix your",
        "fix this",
        "fix it",
        "sort it out",
    )
)
# Negation scope over what a product or service should do: "won't open", "can't log in".
_NEGATORS = frozenset(
    {"won't", "wont", "can't", "cant", "cannot", "doesn't", "doesnt", "didn't", "didnt"}
    | {"isn't", "isnt", "wasn't", "wasnt", "not", "couldn't", "couldnt"}
)
_NEGATED_DUTY = Lexicon(
    (
        r"re:(?:won'?t|can'?t|cannot|couldn'?t|doesn'?t|does not|didn'?t|did not|isn'?t"
        r"|is not|wasn'?t|not) (?:work|working|open|load|loading|connect|connecting|charge"
        r"|charging|turn on|start|sync|update|download|send|show|let me|log in|login|help"
        r"|respond|answer|arrive|arrived|fit|board|check in|get through|get a|get any|call|reach"
        r"|access|use|pay|hear|stream|print|scan)",
    )
)
# Words that state a failure only in a post written to someone ("@brand you lost my bag"),
# not in everyday talk ("I lost every round", "stuck in traffic", "why is it Monday").
_ADDRESSED_FAILURE = Lexicon(
    (
        "late",
        "lost",
        "no one",
        "nobody",
        "wrong",
        "hour",
        "hours",
        "waiting",
        "again",
        "stuck",
        "fail*",
        "why",
        "supposed to",
        "promised",
        "you said",
        "was told",
        "drops",
        "never",
        "isn't",
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


def failure_cues(
    text: str, prefixes: frozenset[str] | None = None, addressed: bool = True
) -> list[str]:
    """The service failures a post states; the weaker words count only where it is written
    to someone (see address.py)."""
    found = _FAILURE.findall(text, prefixes)
    if prefixes is None or not _NEGATORS.isdisjoint(prefixes):
        found += _NEGATED_DUTY.findall(text)
    if addressed:
        found += _ADDRESSED_FAILURE.findall(text, prefixes)
    return found


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
