"""Triage in two steps: what a text says, then what its context adds.

Everything the fast and embedding tiers read from a text (its language, tone, kind, topic,
signals and the trained models' outputs) depends on the text and the models alone; a
``TextReading`` holds it. The message's context (the customer's earlier contacts, a private
message, a reply where the brand has written) then decides the rest (``in_context``): the
repeat-contact signal, whether an agent should answer, the route and the severity. So a
text seen again in another context is not read again (memo.py), and the same text in the
same context gets the same result whichever way it came.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from socialdesk.triage.result import MessageContext, TriageResult

REPEAT_WINDOW_NOTE = "earlier contacts"
# The signals that make a severity of 2 or more where no trained model decides it.
_SERIOUS = ("churn_threat", "outage", "repeat_contact", "vulnerable_customer")


@dataclass(frozen=True, slots=True)
class TextReading:
    """A text's triage before its context: shared by every message with that text, so
    never changed (``in_context`` copies what a result may change)."""

    has_words: bool
    language: str
    language_confidence: float
    kind: str
    kind_confidence: float
    sentiment: str
    sentiment_score: float  # not yet rounded: the severity rules read it whole
    sentiment_confidence: float
    topic: str | None
    topic_confidence: float
    signals: Mapping[str, tuple[str, ...]]
    explanation: tuple[str, ...]
    # The urgent signals that ask an agent to answer (none in shared news).
    urgent: tuple[str, ...]
    # The chance an agent should answer before the context is known, and whether a private
    # message adds to it (not where a trained model or the lack of words decided it).
    needs: float
    private_adds: bool
    # The route before the context is known, and whether a private message or a reply
    # where the brand has written sends the text to care ("other" with words).
    route: str
    directed_to_care: bool
    # Whether the kind is one a private message or a reply to the brand asks to answer.
    directed_needs: bool
    # The trained severity model's answer, None where the rules decide.
    model_severity: int | None
    model_versions: Mapping[str, str]
    tier: str


def in_context(reading: TextReading, context: MessageContext) -> TriageResult:
    """The message's result: its text's reading with what the context says."""
    signals = {name: list(cues) for name, cues in reading.signals.items()}
    explanation = list(reading.explanation)
    if context.earlier_contacts > 0:
        signals.setdefault("repeat_contact", []).append(
            f"{context.earlier_contacts} {REPEAT_WINDOW_NOTE}"
        )
    needs = reading.needs
    if reading.private_adds and context.private:
        needs = min(1.0, needs + 0.1)
    directed = context.private or context.answered_before
    if directed and reading.directed_needs:
        # A private message, or a reply where the brand has already written, is meant for the
        # brand: not chatter, whatever its words.
        needs = max(needs, 0.6)
        explanation.append(
            "written back in a conversation the brand answered"
            if context.answered_before
            else "a private message to the brand"
        )
    if reading.urgent and reading.kind != "spam":
        needs = max(needs, 0.8)
        explanation.append("urgent: " + ", ".join(reading.urgent))
    route = "care" if directed and reading.directed_to_care else reading.route
    severity = _severity(reading, signals)
    if severity:
        explanation.append(f"severity {severity}")
    return TriageResult(
        kind=reading.kind,
        kind_confidence=reading.kind_confidence,
        needs_response=round(float(needs), 4),
        route_to=route,
        sentiment=reading.sentiment,
        sentiment_score=round(float(reading.sentiment_score), 4),
        sentiment_confidence=reading.sentiment_confidence,
        topic=reading.topic,
        topic_confidence=reading.topic_confidence,
        language=reading.language,
        language_confidence=reading.language_confidence,
        severity=severity,
        signals=signals,
        explanation=explanation,
        model_versions=dict(reading.model_versions),
        tier=reading.tier,
    )


def _severity(reading: TextReading, signals: Mapping[str, list[str]]) -> int:
    """0 nothing to worry about .. 4 someone may be at risk."""
    if reading.model_severity is not None:
        severity = reading.model_severity
    else:
        severity = 0
        if reading.sentiment == "negative" or reading.kind == "complaint":
            severity = 1
        if reading.sentiment_score <= -0.6:
            severity = 2
        serious = [s for s in _SERIOUS if s in signals]
        if serious:
            severity = max(severity, 2) + (1 if len(serious) >= 2 else 0)
        if "abuse" in signals or "shouting" in signals:
            severity = min(3, severity + 1) if severity else 1
        if "legal_threat" in signals:
            severity = max(severity, 3)
    if "safety" in signals:
        severity = 4
    return max(0, min(4, severity))
