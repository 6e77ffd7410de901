"""What the channels API shows: never a credential, payload text only as data (JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    message_id: int
    channel: str
    action: str
    status: str
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    external_id: str | None
    error_code: str | None
    error_reason: str | None


class AccountOut(BaseModel):
    id: int
    channel: str
    external_id: str
    handle: str
    name: str
    active: bool
    has_credentials: bool
    settings: dict[str, Any]


class DeadLetterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str
    channel_account_id: int | None
    source: str
    content_type: str
    reason: str
    status: str
    replay_count: int
    last_replay_error: str | None
    created_at: datetime
    replayed_at: datetime | None


class DeadLetterDetail(DeadLetterOut):
    body: str


class CallbackOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: int
    phone: str
    window_start: datetime
    window_end: datetime
    reason: str
    status: str


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    corrected_body: str | None = Field(default=None, max_length=1_048_576)


class ReplayOut(BaseModel):
    accepted: int
    error: str | None
