"""Structured logs: one JSON object a line, with the ids that follow a message through.

``SOCIALDESK_LOG_FORMAT=json`` (``serve``, ``worker``) writes every record as JSON. The
pipeline's records carry ids in fixed fields, so one message can be followed from the
webhook to the reply: ``raw_event_ids`` when stored (``event.accepted``) and processed
(``event.processed``, with the ``task_ids`` opened), ``task_ids`` and ``user_ids`` when
assigned (``task.assigned``), ``message_id`` and ``outbox_item_id`` when the reply leaves
(``reply.sent``). Ids, counts and names only: never a post's text.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

# The fields a record may carry (``extra=``) that the JSON line keeps.
ID_FIELDS = (
    "event",
    "workspace_id",
    "source",
    "raw_event_ids",
    "task_ids",
    "user_ids",
    "message_id",
    "outbox_item_id",
    "channel",
    "count",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ID_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: str, fmt: str) -> None:
    """Root logging for a long-running command: plain text, or JSON lines."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def log_fields(event: str, **fields: Any) -> dict[str, Any]:
    """The ``extra=`` of a pipeline record: its event name and the ids it concerns."""
    return {"event": event, **fields}
