"""Cue phrases that nudge the kind of a message before any brand-specific model exists.

They add evidence (in log-odds) to the seed model's guess; each cue found is shown to the
agent as the reason.
"""

from __future__ import annotations

import re

from socialdesk.triage.lexicon import Lexicon

_QUESTION_START = re.compile(
    r"^(?:hi|hey|hello|dear)?[\s,!.]*(?:how|what|when|where|why|which|who|is|are|can i|do you"
    r"|does|did|will|any idea|anyone know)\b",
    re.I,
)


# Thanks as politeness around a request, not as praise.
_POLITE_THANKS = re.compile(
    r"\bthanks? (?:you )?in advance\b|\bthanks for (?:your|the) help\b", re.I
)


def _cues(*cues: str) -> Lexicon:
    return Lexicon(cue + r"(?!\w)" if cue.startswith("re:") else cue for cue in cues)


KIND_CUES: dict[str, tuple[Lexicon, float]] = {
    "spam": (
        _cues(
            r"re:link in (?:my )?bio",
            r"re:click (?:the|this|my) link",
            "follow back",
            "follow me",
            "crypto",
            "btc",
            "bitcoin",
            r"re:earn \$?\d+",
            "make money",
            "buy followers",
            "dm for prices",
            "free gift card",
            "free gift cards",
            "claim your prize",
            "hot singles",
            "work from home",
            "mixtape",
        ),
        2.5,
    ),
    "marketing": (
        _cues(
            "giveaway",
            "contest",
            "competition",
            r"re:win (?:a|an|free)",
            "retweet to win",
            "rt to win",
            "sweepstake",
            "sweepstakes",
            "coupon",
            "coupons",
            r"re:promo(?: code)?",
            "discount code",
            "discount codes",
            "voucher code",
            "voucher codes",
            "sponsor*",
            "collab*",
            "journalist",
            "press",
            "commercial",
            "ad campaign",
            "influencer",
            "newsletter",
        ),
        2.0,
    ),
    "sales_lead": (
        _cues(
            "how much",
            "price for",
            "pricing",
            "quote",
            "upgrade to",
            r"re:switch(?:ing)? to you",
            "sign up",
            "want to buy",
            "looking to buy",
            "interested in",
            "best deal",
            "business account",
            "business accounts",
            "enterprise",
            "in my area",
        ),
        1.8,
    ),
    "praise": (
        _cues(
            "thank",
            "thanks",
            "thank you",
            "thx",
            "love",
            "loving",
            "great",
            "awesome",
            "amazing",
            "excellent",
            "brilliant",
            "fantastic",
            "kudos",
            r"re:shout ?out",
            "you rock",
            "impressed",
            "best",
        ),
        1.0,
    ),
    "request": (
        _cues(
            "please",
            "pls",
            "plz",
            "can you",
            "could you",
            "can someone",
            "need you to",
            "dm me",
            "call me",
            "i want",
            "i need",
        ),
        1.0,
    ),
    "suggestion": (
        _cues(
            "you should",
            r"re:would be (?:great|nice|good|helpful)",
            "suggest*",
            "idea",
            "consider",
            "wish you",
            "feature request",
            "would love to see",
            "why not",
        ),
        1.5,
    ),
}


def asks(body: str) -> bool:
    """Whether a post has a question mark: Latin "?", Arabic "؟" or fullwidth "？"."""
    return "?" in body or "\u061f" in body or "\uff1f" in body


def kind_evidence(
    body: str, care_compound: float, failures: int, prefixes: frozenset[str] | None = None
) -> dict[str, list[str]]:
    """Kind -> cues found; the complaint and question evidence also read tone and form."""
    found: dict[str, list[str]] = {}
    for kind, (lexicon, _) in KIND_CUES.items():
        hits = lexicon.findall(body, prefixes)
        if hits:
            found[kind] = hits
    if "praise" in found and (care_compound < 0 or failures):
        # "thanks for nothing", or thanks around a problem: no praise.
        del found["praise"]
    elif (
        "praise" in found
        and "request" in found
        and all(c.startswith("than") for c in found["praise"])
    ):
        del found["praise"]  # "please ..., thanks": politeness around a request
    elif "praise" in found and _POLITE_THANKS.search(body):
        found["praise"] = [c for c in found["praise"] if not c.startswith("thank")]
        if not found["praise"]:
            del found["praise"]
    if asks(body) or _QUESTION_START.search(body):
        found.setdefault("question", []).append("asks a question")
    if failures and care_compound <= -0.1:
        found.setdefault("complaint", []).append("states a service failure")
    elif care_compound <= -0.5:
        found.setdefault("complaint", []).append("strongly negative")
    return found


def kind_bonus(kind: str, cues: list[str]) -> float:
    if kind == "question":
        return 1.5
    if kind == "complaint":
        return 1.8
    weight = KIND_CUES[kind][1]
    return float(weight * min(len(cues), 2) ** 0.5)
