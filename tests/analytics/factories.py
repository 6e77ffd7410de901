"""Cases with a whole exchange (the customer's messages, our answers by an agent, triage,
a task with its service-level record) for the report tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

from sqlalchemy.orm import Session

from socialdesk.channels.models import OutboxItem
from socialdesk.conversations.models import Message
from socialdesk.core.work import Task, TaskStatus
from socialdesk.triage.models import TriageResultRow
from tests.web.factories import make_case

_ids = count(1)


def triage(
    session: Session,
    workspace_id: int,
    message: Message,
    kind: str,
    topic: str,
    sentiment: float = -0.5,
) -> None:
    session.add(
        TriageResultRow(
            workspace_id=workspace_id,
            message_id=message.id,
            kind=kind,
            kind_confidence=0.9,
            needs_response=0.9,
            route_to="care",
            sentiment_label="negative",
            sentiment_score=sentiment,
            sentiment_confidence=0.8,
            topic=topic,
            language="en",
            severity=1,
        )
    )


def exchange(
    session: Session,
    workspace_id: int,
    *,
    at: datetime,
    steps: list[tuple[str, float]],
    channel: str = "x",
    text: str = "my router is down",
    kind: str = "complaint",
    topic: str = "network",
    team_id: int | None = None,
    agent_id: int | None = None,
    due_in: timedelta | None = timedelta(minutes=30),
    status: str | None = None,
    resolved_after: float | None = None,
    breach_count: int = 0,
    task: bool = True,
    sentiments: tuple[float, ...] = (),
) -> tuple[int, int | None]:
    """A case opened by the customer at ``at``; ``steps`` add ("in" | "out", minutes after
    ``at``) messages, our answers sent by ``agent_id``; ``sentiments`` are triage's scores of
    the customer's messages in order (-0.5 for each by default). Returns (case id, task id)."""
    scores = list(sentiments)
    conv, task_row, first = make_case(
        session, workspace_id, text=text, at=at, channel=channel, due_in=due_in
    )
    triage(session, workspace_id, first, kind, topic, scores.pop(0) if scores else -0.5)
    last = at
    answered: datetime | None = None
    for direction, offset in steps:
        moment = at + timedelta(minutes=offset)
        n = next(_ids)
        message = Message(
            workspace_id=workspace_id,
            conversation_id=conv.id,
            thread_id=first.thread_id,
            channel=channel,
            direction="inbound" if direction == "in" else "outbound",
            visibility="public",
            author_identity_id=first.author_identity_id if direction == "in" else None,
            external_id=f"step-{n}",
            text=f"{text} ({direction} {n})",
            metrics={},
            created_at=moment,
            received_at=moment,
        )
        session.add(message)
        session.flush()
        if direction == "in":
            triage(session, workspace_id, message, kind, topic, scores.pop(0) if scores else -0.5)
        else:
            answered = answered or moment
            session.add(
                OutboxItem(
                    workspace_id=workspace_id,
                    conversation_id=conv.id,
                    message_id=message.id,
                    channel=channel,
                    author_user_id=agent_id,
                    action="reply",
                    text=message.text,
                    idempotency_key=f"k-{n}",
                    status="sent",
                    next_attempt_at=moment,
                    sent_at=moment,
                )
            )
        last = max(last, moment)
    conv.message_count = 1 + len(steps)
    conv.last_message_at = last
    task_row.team_id = team_id
    task_row.assignee_id = agent_id
    task_row.kind = kind
    task_row.topic = topic
    task_row.first_response_at = answered
    task_row.breach_count = breach_count
    task_row.status = status or (TaskStatus.PENDING if answered else TaskStatus.OPEN)
    if resolved_after is not None:
        conv.status = "resolved"
        conv.resolved_at = at + timedelta(minutes=resolved_after)
        task_row.status = TaskStatus.DONE
    session.flush()
    if not task:
        session.delete(task_row)
        session.flush()
        return conv.id, None
    return conv.id, task_row.id


def task_of(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    assert task is not None
    return task
