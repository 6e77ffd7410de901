"""The connector for each channel."""

from __future__ import annotations

from socialdesk.channels.base import Connector
from socialdesk.channels.generic import GenericWebhookConnector
from socialdesk.channels.mail import EmailConnector
from socialdesk.channels.meta import FacebookConnector, InstagramConnector
from socialdesk.channels.x import XConnector


def default_connectors() -> dict[str, Connector]:
    return {
        "x": XConnector(),
        "facebook": FacebookConnector(),
        "instagram": InstagramConnector(),
        "email": EmailConnector(),
        "webhook": GenericWebhookConnector(),
    }
