"""Channel accounts of a workspace, with credentials that are only ever stored encrypted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from socialdesk.channels import repository
from socialdesk.channels.credentials import Credentials, decrypt_credentials, encrypt_credentials
from socialdesk.channels.events import CHANNELS
from socialdesk.channels.models import ChannelAccount
from socialdesk.core.errors import Conflict, InvalidInput, NotFound


def create_account(
    session: Session,
    *,
    workspace_id: int,
    channel: str,
    external_id: str,
    secret_key: str,
    handle: str = "",
    name: str = "",
    credentials: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
) -> ChannelAccount:
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}; one of {', '.join(CHANNELS)}")
    if not external_id.strip():
        raise InvalidInput("the account's platform id is empty")
    if repository.get_account_by_external_id(session, workspace_id, channel, external_id):
        raise Conflict(f"a {channel} account {external_id!r} already exists in this workspace")
    account = ChannelAccount(
        workspace_id=workspace_id,
        channel=channel,
        external_id=external_id.strip(),
        handle=handle,
        name=name,
        credentials_encrypted=encrypt_credentials(credentials or {}, secret_key),
        settings=settings or {},
        active=True,
    )
    session.add(account)
    session.flush()
    return account


def set_credentials(account: ChannelAccount, credentials: dict[str, Any], secret_key: str) -> None:
    account.credentials_encrypted = encrypt_credentials(credentials, secret_key)


def save_rotated_credentials(
    session: Session, account_id: int, credentials: Credentials, secret_key: str, now: datetime
) -> None:
    """Store tokens a connector renewed (encrypted) and record when, and how often, they
    were rotated: a refresh token is spent once used, so losing the new one means
    connecting the account again."""
    if not credentials.rotated:
        return
    account = session.get(ChannelAccount, account_id)
    if account is None:
        return
    account.credentials_encrypted = encrypt_credentials(credentials.to_store(), secret_key)
    settings = dict(account.settings or {})
    settings["token_rotated_at"] = now.isoformat()
    settings["token_rotations"] = int(settings.get("token_rotations") or 0) + 1
    account.settings = settings
    credentials.rotated = False
    session.flush()


def credentials_of(account: ChannelAccount, secret_key: str) -> Credentials:
    return Credentials(decrypt_credentials(account.credentials_encrypted, secret_key))


def public_view(account: ChannelAccount) -> dict[str, Any]:
    """What an API or the CLI may show of an account: never a credential, only their names."""
    return {
        "id": account.id,
        "channel": account.channel,
        "external_id": account.external_id,
        "handle": account.handle,
        "name": account.name,
        "active": account.active,
        "has_credentials": bool(account.credentials_encrypted),
        "settings": {k: v for k, v in (account.settings or {}).items() if "secret" not in k},
    }


def list_accounts(session: Session, workspace_id: int) -> Sequence[ChannelAccount]:
    return repository.list_accounts(session, workspace_id)


def set_active(
    session: Session, workspace_id: int, account_id: int, active: bool | None = None
) -> ChannelAccount:
    """An admin turns an account on or off (``None`` flips it, as the admin screen's button
    does); audited as a change of the channel account."""
    account = repository.get_account(session, workspace_id, account_id)
    if account is None:
        raise NotFound("channel account not found")
    account.active = (not account.active) if active is None else active
    session.flush()
    return account
