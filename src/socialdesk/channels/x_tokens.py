"""X user-context tokens: OAuth 2.0 access tokens last two hours; refresh them, don't stop.

An access token from the authorization code flow with PKCE stays valid for two hours. With
the ``offline.access`` scope X also issues a refresh token, exchanged at
``POST /2/oauth2/token`` (``grant_type=refresh_token``) for a new access token and a new
refresh token; the old refresh token is then spent. The new pair is written back into the
``Credentials`` (marked rotated), and whoever holds the account stores it, encrypted, and
records the rotation. A 401 is final only once a refresh has failed (or there is nothing
to refresh with). OAuth 1.0a user tokens do not expire and need none of this.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from socialdesk.channels import http
from socialdesk.channels.base import AccountRef, DeliveryError
from socialdesk.channels.credentials import Credentials

TOKEN_PATH = "/2/oauth2/token"
# Refresh a little before the announced expiry, so a request never races it.
EARLY = timedelta(minutes=2)

Request = Callable[[httpx.Client, str], httpx.Response]


def call_as_user(
    base_url: str,
    account: AccountRef,
    credentials: Credentials,
    request: Request,
    *,
    now: datetime | None = None,
) -> httpx.Response:
    """Run ``request`` with the account's user token, refreshing it when it has expired."""
    moment = now or datetime.now(UTC)
    with http.client(base_url) as client:
        try:
            token = credentials.require("access_token")
            if _expired(credentials, moment) and credentials.get("refresh_token"):
                token = refresh(client, account, credentials, moment)
            response = request(client, token)
            if response.status_code == 401 and credentials.get("refresh_token"):
                token = refresh(client, account, credentials, moment)
                response = request(client, token)
        except httpx.HTTPError as exc:
            raise http.transport_error(exc) from exc
    return response


def refresh(
    client: httpx.Client, account: AccountRef, credentials: Credentials, now: datetime
) -> str:
    """Exchange the refresh token for a new pair; raise a final error when X refuses."""
    form = {
        "grant_type": "refresh_token",
        "refresh_token": credentials.require("refresh_token"),
        "client_id": credentials.require("client_id"),
    }
    secret = credentials.get("client_secret")
    # A confidential client authenticates with HTTP Basic; a public one names its client_id.
    if secret:
        response = client.post(TOKEN_PATH, data=form, auth=(form["client_id"], secret))
    else:
        response = client.post(TOKEN_PATH, data=form)
    body = _json(response)
    token = body.get("access_token") if response.status_code == 200 else None
    if not token:
        reason = (
            body.get("error_description") or body.get("error") or f"HTTP {response.status_code}"
        )
        raise DeliveryError(
            f"the X access token expired and refreshing it failed ({str(reason)[:300]}); "
            f"connect {account.handle or 'the account'} again",
            permanent=True,
            code="401",
        )
    expires_in = int(str(body.get("expires_in") or 7200))
    credentials.rotate(
        access_token=str(token),
        # X rotates refresh tokens; keep the old one only if none came back.
        refresh_token=str(body.get("refresh_token") or credentials.get("refresh_token")),
        expires_at=(now + timedelta(seconds=expires_in)).isoformat(),
    )
    return str(token)


def _expired(credentials: Credentials, now: datetime) -> bool:
    value = credentials.get("expires_at")
    if not value:
        return False
    try:
        expires = datetime.fromisoformat(value)
    except ValueError:
        return False
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    return now >= expires - EARLY


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
