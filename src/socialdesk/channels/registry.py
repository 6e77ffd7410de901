"""The connector for each channel."""

from __future__ import annotations

from socialdesk.channels.base import Connector
from socialdesk.channels.generic import GenericWebhookConnector
from socialdesk.channels.graph_versions import DEFAULT_GRAPH_VERSION
from socialdesk.channels.mail import EmailConnector
from socialdesk.channels.meta import FacebookConnector, InstagramConnector
from socialdesk.channels.x import XConnector


def default_connectors(graph_version: str = DEFAULT_GRAPH_VERSION) -> dict[str, Connector]:
    return {
        "x": XConnector(),
        "facebook": FacebookConnector(graph_version),
        "instagram": InstagramConnector(graph_version),
        "email": EmailConnector(),
        "webhook": GenericWebhookConnector(),
    }
