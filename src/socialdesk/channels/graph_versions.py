"""Which Graph API version the Meta connectors call, and when Meta retires it.

Every Graph API version is available for about two years; after its expiry date calls
are served by the oldest version still available, which may change or drop fields the
connectors rely on. Dates from Meta's changelog (Graph API, "Versions"):
https://developers.facebook.com/docs/graph-api/changelog/versions/
"""

from __future__ import annotations

from datetime import date, timedelta

DEFAULT_GRAPH_VERSION = "v26.0"

# Version -> the last day Meta serves it (None: not announced yet).
EXPIRES: dict[str, date | None] = {
    "v19.0": date(2026, 5, 21),
    "v20.0": date(2026, 9, 24),
    "v21.0": date(2027, 1, 21),
    "v22.0": date(2027, 5, 20),
    "v23.0": date(2027, 10, 8),
    "v24.0": date(2028, 2, 18),
    "v25.0": date(2028, 7, 29),
    "v26.0": None,
}
WARN_BEFORE = timedelta(days=90)


def graph_base(version: str, host: str = "") -> str:
    return f"{(host or 'https://graph.facebook.com').rstrip('/')}/{version}"


def expiry_warning(version: str, today: date) -> str | None:
    """A sentence for the operator when ``version`` expires within 90 days or has expired."""
    expires = EXPIRES.get(version)
    if expires is None:
        return None
    if today >= expires:
        return (
            f"Graph API {version} expired on {expires.isoformat()}: Meta now answers with the "
            f"oldest version it still serves; set SOCIALDESK_META_GRAPH_VERSION="
            f"{DEFAULT_GRAPH_VERSION}"
        )
    if expires - today <= WARN_BEFORE:
        return (
            f"Graph API {version} expires on {expires.isoformat()} "
            f"({(expires - today).days} days): set SOCIALDESK_META_GRAPH_VERSION="
            f"{DEFAULT_GRAPH_VERSION} and check the connectors against the changelog"
        )
    return None
