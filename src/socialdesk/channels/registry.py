"""The connector for each channel."""

from __future__ import annotations

from socialdesk.channels.base import Connector
from socialdesk.channels.x import XConnector


def default_connectors() -> dict[str, Connector]:
    return {"x": XConnector()}
