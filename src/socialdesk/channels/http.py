"""The HTTP client connectors share: bounded timeouts, no credentials in logs."""

from __future__ import annotations

import httpx

from socialdesk.channels.base import DeliveryError

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def client(base_url: str) -> httpx.Client:
    # Tokens travel in headers only: httpx logs request URLs, never headers.
    return httpx.Client(base_url=base_url, timeout=TIMEOUT, follow_redirects=False)


def transport_error(exc: httpx.HTTPError) -> DeliveryError:
    """Map a network failure: only a connect failure proves the request never left."""
    never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
    return DeliveryError(
        f"network error talking to the platform: {type(exc).__name__}",
        permanent=False,
        code="network",
        outcome_unknown=not never_sent,
    )
