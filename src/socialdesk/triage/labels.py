"""The label sets triage speaks in, with descriptions an agent and the embedding tier read."""

from __future__ import annotations

import re
from typing import Final, Literal

from socialdesk.core.errors import InvalidInput

Kind = Literal[
    "complaint",
    "question",
    "request",
    "praise",
    "suggestion",
    "sales_lead",
    "marketing",
    "spam",
    "other",
]
RouteTo = Literal["care", "marketing", "sales", "none"]
Sentiment = Literal["negative", "neutral", "positive"]
Task = Literal["kind", "needs_response", "sentiment", "topic", "severity"]

KINDS: Final[tuple[str, ...]] = (
    "complaint",
    "question",
    "request",
    "praise",
    "suggestion",
    "sales_lead",
    "marketing",
    "spam",
    "other",
)
SENTIMENTS: Final[tuple[str, ...]] = ("negative", "neutral", "positive")
ROUTES: Final[tuple[str, ...]] = ("care", "marketing", "sales", "none")
TASKS: Final[tuple[str, ...]] = ("kind", "needs_response", "sentiment", "topic", "severity")
SEVERITIES: Final[tuple[str, ...]] = ("0", "1", "2", "3", "4")
NEEDS_RESPONSE_LABELS: Final[tuple[str, ...]] = ("no", "yes")

KIND_DESCRIPTIONS: Final[dict[str, str]] = {
    "complaint": "The customer reports something that went wrong and is unhappy about it.",
    "question": "The customer asks how something works, where something is, or why.",
    "request": "The customer asks the brand to do something: fix, change, cancel, refund, call.",
    "praise": "The customer thanks the brand or says something good about it.",
    "suggestion": "The customer proposes an improvement or a new feature.",
    "sales_lead": "The person wants to buy, upgrade, switch to the brand or asks for a price.",
    "marketing": "A reaction to a campaign, a contest entry, a coupon hunt, press or PR.",
    "spam": "Unsolicited promotion, scams, links to unrelated offers, bots.",
    "other": "Chatter, jokes or talk that is not addressed to the care team.",
}

# Which team owns a kind of message; marketing-meant items must never clog the care queue.
KIND_ROUTES: Final[dict[str, str]] = {
    "complaint": "care",
    "question": "care",
    "request": "care",
    "praise": "marketing",
    "suggestion": "care",
    "sales_lead": "sales",
    "marketing": "marketing",
    "spam": "none",
    "other": "none",
}

# How likely a kind is to need an answer from a care agent, before any signal.
KIND_RESPONSE_PRIOR: Final[dict[str, float]] = {
    "complaint": 0.9,
    "question": 0.85,
    "request": 0.9,
    "praise": 0.2,
    "suggestion": 0.45,
    "sales_lead": 0.7,
    "marketing": 0.15,
    "spam": 0.0,
    "other": 0.1,
}

SIGNALS: Final[tuple[str, ...]] = (
    "churn_threat",
    "legal_threat",
    "safety",
    "outage",
    "repeat_contact",
    "abuse",
    "shouting",
    "vulnerable_customer",
)
SIGNAL_DESCRIPTIONS: Final[dict[str, str]] = {
    "churn_threat": "Threatens to leave, cancel or switch to a competitor.",
    "legal_threat": "Mentions a lawyer, lawsuit, regulator or formal complaint body.",
    "safety": "Someone's health or safety may be at risk (fire, injury, gas, medical).",
    "outage": "A service is down or not working for them (and maybe for others).",
    "repeat_contact": "The customer has contacted us before about this or says so.",
    "abuse": "Profanity or insults.",
    "shouting": "Written mostly in capitals or with many exclamation marks.",
    "vulnerable_customer": "Elderly, disabled, bereaved, in financial hardship or medical need.",
}


def labels_for(task: str) -> tuple[str, ...] | None:
    """The fixed label set of a task, or None where the workspace decides (topic)."""
    return {
        "kind": KINDS,
        "sentiment": SENTIMENTS,
        "severity": SEVERITIES,
        "needs_response": NEEDS_RESPONSE_LABELS,
    }.get(task)


_YES = {"yes", "y", "true", "1", "answered", "respond", "needs_response"}
_NO = {"no", "n", "false", "0", "unanswered", "ignore", "noise"}
_TOPIC_ID = re.compile(r"[^a-z0-9]+")


def normalize_label(task: str, raw: object) -> str:
    """A label as socialdesk stores it; InvalidInput names what was expected."""
    if task not in TASKS:
        raise InvalidInput(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    text = str(raw).strip()
    lowered = text.lower()
    if task == "needs_response":
        if lowered in _YES:
            return "yes"
        if lowered in _NO:
            return "no"
        raise InvalidInput(f"needs_response label {text!r}: use yes or no")
    if task == "topic":
        topic = _TOPIC_ID.sub("_", lowered).strip("_")[:64]
        if not topic:
            raise InvalidInput("empty topic label")
        return topic
    if task == "severity":
        try:
            value = int(float(lowered))
        except ValueError:
            value = -1
        if not 0 <= value <= 4:
            raise InvalidInput(f"severity label {text!r}: use 0 to 4")
        return str(value)
    allowed = KINDS if task == "kind" else SENTIMENTS
    if lowered not in allowed:
        raise InvalidInput(f"{task} label {text!r}: use one of {', '.join(allowed)}")
    return lowered
