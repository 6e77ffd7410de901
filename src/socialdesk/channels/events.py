"""socialdesk's normalized inbound event: what every connector turns a platform payload into.

This is also the line format of socialdesk JSONL replay files (one JSON object a line)::

    {"channel": "x", "external_id": "1850000000000000001", "direction": "inbound",
     "visibility": "public", "text": "@AcmeCare my router died again",
     "created_at": "2026-11-23T09:15:00Z", "reply_to": null,
     "author": {"id": "2244994945", "handle": "@dana", "name": "Dana", "followers": 5120,
                "verified": false},
     "metrics": {"likes": 3, "reposts": 1, "replies": 0, "quotes": 0}}
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from socialdesk.core.limits import MAX_DB_INT

EARLIEST_YEAR = 1970
CHANNELS = ("x", "facebook", "instagram", "email", "webhook")
Channel = Literal["x", "facebook", "instagram", "email", "webhook"]


class Party(BaseModel):
    """The author or recipient of a message, as the platform knows them."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=320, description="Platform user id or address")
    handle: str = Field(default="", max_length=320)
    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    followers: int = Field(default=0, ge=0, le=MAX_DB_INT)
    verified: bool = False
    is_brand: bool = Field(default=False, description="One of the workspace's own accounts")


class Metrics(BaseModel):
    """Public engagement counts of a message; frozen, so events without counts share one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    likes: int = Field(default=0, ge=0, le=MAX_DB_INT)
    reposts: int = Field(default=0, ge=0, le=MAX_DB_INT)
    replies: int = Field(default=0, ge=0, le=MAX_DB_INT)
    quotes: int = Field(default=0, ge=0, le=MAX_DB_INT)

    def __eq__(self, other: object) -> bool:
        # Storing an event (exclude_defaults) compares its metrics with the default once per
        # message; pydantic's generic model comparison cost more than the rest of it.
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash(tuple(self.__dict__.values()))


NO_METRICS = Metrics()


def _no_metrics() -> Metrics:
    # Shared rather than built per event: storing an event compares its counts with this
    # default, and a fresh Metrics() would be validated for every message.
    return NO_METRICS


class InboundEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel
    external_id: str = Field(min_length=1, max_length=400)
    direction: Literal["inbound", "outbound"] = "inbound"
    visibility: Literal["public", "private"] = "public"
    author: Party
    recipient: Party | None = Field(
        default=None, description="The other party of a private message (DM, email)"
    )
    account: str | None = Field(
        default=None, description="External id of the brand's channel account it arrived on"
    )
    text: str = Field(default="", max_length=100_000)
    created_at: AwareDatetime
    reply_to: str | None = Field(default=None, max_length=400)
    references: list[str] = Field(
        default_factory=list, description="Earlier messages of the chain (email References)"
    )
    thread_ref: str | None = Field(
        default=None,
        max_length=400,
        description="Explicit link to a thread key, given by a connector that knows it",
    )
    subject: str = Field(default="", max_length=998)
    metrics: Metrics = Field(default_factory=_no_metrics)
    is_repost: bool = Field(default=False, description="A repost/retweet, not a new message")
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("created_at")
    @classmethod
    def _reject_implausible(cls, value: datetime) -> datetime:
        # Both ends are checked here, at the edge: a time the case arithmetic cannot handle
        # (year 1, with a 72-hour window) would otherwise fail every time it is processed.
        if value.year > 2200:
            raise ValueError("created_at is implausibly far in the future")
        if value.year < EARLIEST_YEAR:
            raise ValueError(f"created_at is before {EARLIEST_YEAR}")
        return value
