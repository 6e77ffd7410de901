"""What the API says about conversations, threads and messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: int
    thread_id: int
    channel: str
    direction: str
    visibility: str
    author_identity_id: int | None
    external_id: str
    reply_to_external_id: str | None
    text: str
    metrics: dict[str, Any]
    created_at: datetime
    received_at: datetime


class ThreadOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str
    key: str
    visibility: str


class ConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int | None
    status: str
    channel: str
    subject: str
    message_count: int
    first_message_at: datetime
    last_message_at: datetime
    last_inbound_at: datetime | None
    last_outbound_at: datetime | None
    resolved_at: datetime | None


class ConversationDetail(ConversationOut):
    threads: list[ThreadOut]


class ShiftStat(BaseModel):
    kind: str
    reason: str
    count: int


class ChannelStats(BaseModel):
    since: datetime
    until: datetime
    shifts: list[ShiftStat]
    kb_links_sent: int
    kb_links_used: int
