"""Urgency signals read from the text: lexicons and patterns written for customer care.

Each detector returns the cues it found, so an agent sees why a message was flagged.
"""

from __future__ import annotations

from socialdesk.triage.lexicon import Lexicon
from socialdesk.triage.text import Prepared

CUES: dict[str, Lexicon] = {
    "churn_threat": Lexicon(
        (
            "cancel my",
            "cancelling my",
            "canceling my",
            "close my account",
            "closing my account",
            r"re:switch(?:ing)? to (?!you\b|your\b)\w+",
            r"re:moving to (?!you\b|your\b)\w+",
            "leaving you",
            "i'm leaving",
            "im leaving",
            "never again",
            "never fly*",
            "never use you",
            "never buying",
            "last time i",
            "take my business",
            "lost a customer",
            "losing a customer",
            "find another",
            "going elsewhere",
            "end my contract",
            "port my number",
        )
    ),
    "legal_threat": Lexicon(
        (
            "lawyer*",
            "attorney*",
            "solicitor*",
            "sue",
            "suing",
            "lawsuit",
            "legal action",
            "small claims",
            "court",
            "ombudsman",
            "regulator",
            "trading standards",
            "consumer protection",
            "dot complaint",
            "fcc",
            "ofcom",
            "ofgem",
            "class action",
            "report you to",
        )
    ),
    "safety": Lexicon(
        (
            "fire",
            "smoke",
            "smell gas",
            "gas smell",
            "smell of gas",
            "gas leak",
            "carbon monoxide",
            "sparks",
            "electric shock",
            "exploded",
            "explosion",
            "injur*",
            "hurt",
            "bleeding",
            "hospital",
            "ambulance",
            "emergency",
            "unsafe",
            "dangerous",
            "danger",
            "choking",
            "allergic reaction",
            "food poisoning",
            "overheat*",
            "harass*",
            "assault*",
        )
    ),
    "outage": Lexicon(
        (
            "outage",
            "is down",
            "are down",
            "went down",
            "been down",
            "down again",
            "service down",
            "not working",
            "stopped working",
            "doesn't work",
            "does not work",
            "won't load",
            "can't connect",
            "cannot connect",
            "no signal",
            "no service",
            "no internet",
            "no power",
            "power cut",
            "blackout",
            "no water",
            "offline",
            "crashing",
            "crashed",
            "error message",
        )
    ),
    "repeat_contact": Lexicon(
        (
            "again",
            "still",
            "third time",
            "fourth time",
            "second time",
            "every time",
            "keep calling",
            "called three",
            "called twice",
            "already told",
            "already called",
            "already contacted",
            "already sent",
            "for weeks",
            "for days",
            "for months",
            "no reply",
            "no response",
            "still waiting",
            "yet again",
            "how many times",
            "follow up",
            "following up",
            "same issue",
            "same problem",
        )
    ),
    "abuse": Lexicon(
        (
            "fuck*",
            "fck*",
            "shit*",
            "bullshit",
            "crap",
            "damn",
            "dammit",
            "wtf",
            "stfu",
            "idiot*",
            "moron*",
            "stupid",
            "asshole*",
            "bastard*",
            "bitch*",
            "scum*",
            "pathetic",
            "incompetent",
            "useless",
            "morons",
            "clowns",
        )
    ),
    "vulnerable_customer": Lexicon(
        (
            "elderly",
            "my grandmother",
            "my grandfather",
            "my grandma",
            "my grandpa",
            "pensioner",
            "disabled",
            "disability",
            "wheelchair",
            "blind",
            "deaf",
            "dementia",
            "cancer",
            "chemo*",
            "terminal*",
            "dialysis",
            "oxygen",
            "medical equipment",
            "medication",
            "insulin",
            "pregnant",
            "newborn",
            "my baby",
            "passed away",
            "funeral",
            "bereave*",
            "widow*",
            "can't afford",
            "cannot afford",
            "lost my job",
            "unemployed",
            "hardship",
            "food bank",
            "struggling to pay",
            "mental health",
            "suicid*",
        )
    ),
}

# ``repeat_contact`` words like "still" and "again" are weak alone; two of them or one strong
# phrase count.
_WEAK_REPEAT = frozenset({"again", "still"})


def detect_signals(prepared: Prepared) -> dict[str, list[str]]:
    """Signal name -> the cues found in the text (deduplicated, in order of appearance)."""
    found: dict[str, list[str]] = {}
    body = prepared.body
    if not body:
        return found
    for name, lexicon in CUES.items():
        hits = lexicon.findall(body, prepared.prefixes)
        weak = name == "repeat_contact" and all(h in _WEAK_REPEAT for h in hits)
        if weak and len(hits) < 2:
            continue
        if hits:
            found[name] = hits
    if is_shouting(prepared):
        found["shouting"] = ["capitals" if _capitals(prepared) else "exclamation marks"]
    return found


def _capitals(prepared: Prepared) -> bool:
    return prepared.letters >= 12 and prepared.upper_letters >= 0.7 * prepared.letters


def is_shouting(prepared: Prepared) -> bool:
    return _capitals(prepared) or prepared.exclamations >= 4
