"""What triage says about one message."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class MessageContext:
    """What the pipeline knows beyond the text."""

    earlier_contacts: int = 0  # the customer's inbound messages in the recent past
    private: bool = False  # a DM or an email rather than a public post
    answered_before: bool = False  # the brand has already written in this conversation


@dataclass(frozen=True, slots=True)
class TriageResult:
    kind: str
    kind_confidence: float
    needs_response: float  # probability that a care agent should answer
    route_to: str
    sentiment: str
    sentiment_score: float  # compound in [-1, 1]
    sentiment_confidence: float
    topic: str | None
    topic_confidence: float
    language: str
    language_confidence: float
    severity: int
    signals: dict[str, list[str]] = field(default_factory=dict)
    explanation: list[str] = field(default_factory=list)
    model_versions: dict[str, str] = field(default_factory=dict)
    tier: str = "fast"

    @property
    def confidence(self) -> float:
        return self.kind_confidence

    @property
    def responds(self) -> bool:
        return self.needs_response >= 0.5

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["confidence"] = self.confidence
        return data
