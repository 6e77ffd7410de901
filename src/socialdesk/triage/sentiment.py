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
        # A failure told as what the customer could not do or had to wait for.
        "unable to",
        "not able to",
        "haven't been able",
        "have not been able",
        "hasn't been able",
        "not going through",
        "won't go through",
        "wait time",
        "hr wait",
        "hour wait",
        "hours wait",
        "min wait",
        "minute wait",
        "is down",
        "was down",
        "missed my connection",
        "missed connection",
        "missed my flight",
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
        r"|access|use|pay|hear|stream|print|scan|book|find|change|track|reset|select)",
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


# VADER's lexicon extended for customer care and product and market talk, the way Hutto and
# Gilbert built it: single words rated on their -4..+4 scale, written for socialdesk (words
# VADER has no rating for; "joke" is a positive word in VADER, a complaint in care). VADER's
# own rules (negation scope, intensifiers, capitals, "but") apply to them as to its words.
CARE_VALENCE: dict[str, float] = {
    # a product or service at fault
    "garbage": -2.0,
    "trash": -1.8,
    "rubbish": -1.8,
    "wonky": -1.2,
    "glitch": -1.3,
    "glitches": -1.3,
    "glitchy": -1.5,
    "laggy": -1.3,
    "unusable": -2.2,
    "frayed": -1.0,
    "overpriced": -1.5,
    "ripoff": -2.2,
    "overcharged": -1.8,
    "crashes": -1.5,
    "crashing": -1.5,
    "crashed": -1.5,
    "freezes": -1.2,
    "buggy": -1.5,
    "unreliable": -1.7,
    "delays": -1.3,
    "canceled": -1.0,
    "stranded": -1.8,
    "disconnected": -1.0,
    "outage": -1.5,
    "outages": -1.5,
    "downtime": -1.0,
    "unanswered": -1.2,
    "nightmare": -2.2,
    "hassle": -1.2,
    "shambles": -2.0,
    "joke": -1.0,
    "junk": -1.8,
    "bricked": -2.0,
    "drains": -1.0,
    "dying": -1.2,
    "sucked": -1.8,
    "blows": -1.2,
    "frick": -1.2,
    "fricking": -1.2,
    "frickin": -1.2,
    "bs": -1.5,
    "bruh": -0.6,
    "downgrade": -1.5,
    "underwhelming": -1.6,
    "bloatware": -1.5,
    # words VADER rates as feelings that in care are manners or emphasis: "honestly this
    # phone sucks", "please fix it"
    "honestly": 0.0,
    "please": 0.0,
    # market and news talk
    "tumble": -1.5,
    "tumbles": -1.5,
    "tumbled": -1.5,
    "plunge": -1.8,
    "plunges": -1.8,
    "plunged": -1.8,
    "slump": -1.5,
    "slumps": -1.5,
    "slumped": -1.5,
    "sinks": -1.2,
    "dips": -0.8,
    "halts": -1.0,
    "halted": -1.0,
    "slams": -1.6,
    "sues": -1.5,
    "sued": -1.5,
    "soar": 1.8,
    "soars": 1.8,
    "soared": 1.8,
    "surge": 1.5,
    "surges": 1.5,
    "surged": 1.5,
    "rallies": 1.2,
    "dominating": 1.2,
    "bullish": 1.5,
    "bearish": -1.5,
    # a problem solved
    "sorted": 1.2,
    "fixed": 1.0,
    "legend": 1.5,
    "seamless": 1.5,
    "speedy": 1.2,
    "smooth": 1.0,
}


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(CARE_VALENCE)
    return analyzer


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
