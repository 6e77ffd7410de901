"""Live updates: the event stream tells a signed-in page when its workspace changed."""

from __future__ import annotations

import threading

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.core.models import Workspace
from socialdesk.people.models import User
from socialdesk.web.live import LiveHub, sse_frame
from tests.web.conftest import START, sign_in
from tests.web.factories import make_case


def test_the_hub_counts_changes_per_workspace() -> None:
    hub = LiveHub()
    hub.notify(1)
    hub.after_commit_hook(1, [10, 11])
    assert (hub.version(1), hub.version(2)) == (2, 0)
    assert sse_frame("changed", {"version": 2}) == 'event: changed\ndata: {"version":2}\n\n'


def test_the_stream_announces_a_change_made_by_another_process(
    app: FastAPI,
    client: TestClient,
    agent: User,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
) -> None:
    """A row committed elsewhere (no poke of this process's hub) is still noticed."""
    sign_in(client, agent.email)

    def another_process_writes() -> None:
        with session_factory() as s:
            make_case(s, workspace.id, text="new complaint", at=START)
            s.commit()

    timer = threading.Timer(1.2, another_process_writes)
    timer.start()
    try:
        body = client.get("/console/events?max_seconds=4").text
    finally:
        timer.join()
    assert body.startswith("retry: 2000")
    assert "event: hello" in body
    assert "event: changed" in body


def test_the_stream_needs_a_session(client: TestClient) -> None:
    assert client.get("/console/events", headers={"accept": "text/event-stream"}).status_code == 401


def test_many_listeners_share_one_fingerprint_query_per_interval() -> None:
    hub = LiveHub()
    calls: list[int] = []

    def compute() -> object:
        calls.append(1)
        return len(calls)

    first = [hub.marker(1, compute, max_age=60) for _ in range(500)]
    assert first == [1] * 500 and len(calls) == 1
    assert hub.marker(1, compute, max_age=0) == 2
