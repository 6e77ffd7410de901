"""JSON logs carry the ids that follow a message: stored, processed, its task assigned."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.logs import JsonFormatter
from socialdesk.core.models import Workspace
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.routing.engine import RoutingEngine
from tests.ingest.factories import event
from tests.routing.factories import agent


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("socialdesk")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield out
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_a_message_can_be_followed_from_storage_to_its_assignment(
    session_factory: sessionmaker[Session], workspace: Workspace, json_lines: io.StringIO
) -> None:
    ana = agent(session_factory, workspace.id, "Ana")
    engine = RoutingEngine(session_factory)
    pipeline = Pipeline(session_factory)
    pipeline.hooks.after_commit.append(engine.after_commit)
    stored = pipeline.accept(workspace.id, [event("1", "dana", text="my bill <b>is</b> wrong")])
    pipeline.process_pending(workspace.id)

    lines = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    by_event = {line.get("event"): line for line in lines if line.get("event")}
    [raw_id] = stored.accepted
    assert by_event["event.accepted"]["raw_event_ids"] == [raw_id]
    processed = by_event["event.processed"]
    assert processed["raw_event_ids"] == [raw_id]
    [task_id] = processed["task_ids"]
    assigned = by_event["task.assigned"]
    assert assigned["task_ids"] == [task_id] and assigned["user_ids"] == [ana]
    assert all(line["time"].endswith("+00:00") for line in lines)
    assert "bill" not in json_lines.getvalue()  # ids and counts, never a post's text
