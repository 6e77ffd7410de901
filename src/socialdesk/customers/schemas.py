"""What the API says about customers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from socialdesk.core.limits import DbId


class IdentityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str
    external_id: str
    handle: str
    display_name: str
    followers: int
    verified: bool


class CustomerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    display_name: str
    email: str | None
    phone: str | None
    tier: str | None
    lifetime_value: Decimal | None
    crm_fields: dict[str, Any]
    created_at: datetime


class CustomerDetail(CustomerOut):
    identities: list[IdentityOut]


class MergeRequest(BaseModel):
    into_customer_id: DbId
