"""Small hand-made traffic for simulator tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from socialdesk.channels.events import InboundEvent, Party
from socialdesk.priority.scoring import ValuePolicy
from socialdesk.priority.sla import SlaPolicy
from socialdesk.simulation.handling import Distribution, HandlingTimes
from socialdesk.simulation.items import ItemSource, build_items

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def message(
    n: int,
    minute: float,
    *,
    channel: str = "x",
    kind: str = "question",
    tier: str = "bronze",
    followers: int = 10,
    verified: bool = False,
    visibility: str = "public",
    sentiment: str = "neutral",
    severity: float = 0.0,
    conversation: str | None = None,
    customer: str | None = None,
    start: datetime = START,
) -> InboundEvent:
    truth: dict[str, Any] = {
        "kind": kind,
        "topic": "billing",
        "value": 0.5,
        "needs_response": True,
        "route_to": "care",
        "sentiment": sentiment,
        "severity": severity,
        "language": "en",
        "customer": customer or f"c{n}",
        "tier": tier,
        "lifetime_value": 100.0,
        "followup": conversation is not None,
        "repeat": False,
        "burst": None,
        "conversation": conversation or f"e{n}",
    }
    return InboundEvent(
        channel=channel,
        external_id=f"e{n}",
        visibility=visibility,
        author=Party(id=customer or f"u{n}", followers=followers, verified=verified),
        text=f"message {n}",
        created_at=start + timedelta(minutes=minute),
        extra={"sim": truth},
    )


def vip_complaint(n: int, minute: float) -> InboundEvent:
    """A public complaint by a verified platinum customer with a big audience."""
    return message(
        n,
        minute,
        kind="complaint",
        tier="platinum",
        followers=500_000,
        verified=True,
        sentiment="negative",
        severity=0.9,
    )


def fixed_handling(minutes: float, first: float | None = None, **by_kind: float) -> HandlingTimes:
    """Fixed handling times; the first reply takes ``first`` minutes of them (None: the
    whole handling, the item answered in one sitting)."""
    return HandlingTimes(
        default=Distribution("fixed", minutes),
        kinds={k: Distribution("fixed", v) for k, v in by_kind.items()},
        channel_scale={},
        first_reply=None if first is None else Distribution("fixed", first),
    )


def items(
    events: list[InboundEvent], handling: HandlingTimes, sla: SlaPolicy | None = None
) -> ItemSource:
    return build_items(
        events,
        value_policy=ValuePolicy(),
        sla_policy=sla or SlaPolicy(),
        handling=handling,
        seed=0,
    )
