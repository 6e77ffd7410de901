"""Customers and their identities (handles) on every channel."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from socialdesk.core.clock import utcnow
from socialdesk.core.db import Base, BigId, JsonData, UTCDateTime


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        Index(
            "ix_customers_workspace_email",
            "workspace_id",
            "email",
            sqlite_where=text("email IS NOT NULL"),
            postgresql_where=text("email IS NOT NULL"),
        ),
        Index(
            "ix_customers_workspace_phone",
            "workspace_id",
            "phone",
            sqlite_where=text("phone IS NOT NULL"),
            postgresql_where=text("phone IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    phone: Mapped[str | None] = mapped_column(String(40), default=None)
    tier: Mapped[str | None] = mapped_column(String(40), default=None)
    lifetime_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), default=None)
    crm_fields: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    # Set when an explicit merge folded this customer into another one.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), default=None)
    # Set when the customer's personal data was erased on request (GDPR art. 17): the row
    # stays so that counts and references hold, with nothing left that names the person.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Identity(Base):
    """A handle on one channel; brand accounts are identities too (is_brand)."""

    __tablename__ = "identities"
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel", "external_id"),
        Index("ix_identities_workspace_handle", "workspace_id", "handle"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id"), index=True, default=None
    )
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(320))
    handle: Mapped[str] = mapped_column(String(320), default="")
    display_name: Mapped[str] = mapped_column(String(200), default="")
    followers: Mapped[int] = mapped_column(Integer, default=0)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    is_brand: Mapped[bool] = mapped_column(Boolean, default=False)
    profile: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class HandleClaim(Base):
    """A handle that a customer was created for, once per workspace: the mutex that keeps two
    workers meeting one new handle on two channels at the same moment from making two
    customers. The second worker's insert of the same key waits for the first's commit (a
    unique key in PostgreSQL holds a row lock, not an entry in the lock table) and then
    finds the first's customer. The key is a hash of the handle, never the handle itself.
    """

    __tablename__ = "handle_claims"

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), primary_key=True)
    handle_key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
