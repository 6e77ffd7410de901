"""Small builders of cases for the console tests: a customer writes, a task waits."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy.orm import Session

from socialdesk.conversations.models import Conversation, Message, Thread
from socialdesk.core.work import Task, TaskStatus
from socialdesk.customers.models import Customer, Identity

_ids = count(1)


def make_case(
    session: Session,
    workspace_id: int,
    *,
    text: str,
    at: datetime,
    channel: str = "x",
    name: str = "Dana",
    handle: str | None = None,
    value: float = 10.0,
    due_in: timedelta | None = timedelta(minutes=30),
    visibility: str = "public",
    tier: str | None = None,
    followers: int = 100,
    breakdown: dict[str, Any] | None = None,
    assignee_id: int | None = None,
) -> tuple[Conversation, Task, Message]:
    n = next(_ids)
    customer = Customer(workspace_id=workspace_id, display_name=name, tier=tier, crm_fields={})
    session.add(customer)
    session.flush()
    identity = Identity(
        workspace_id=workspace_id,
        customer_id=customer.id,
        channel=channel,
        external_id=f"user-{n}",
        handle=handle or f"@{name.lower().replace(' ', '')}{n}",
        display_name=name,
        followers=followers,
        profile={},
    )
    session.add(identity)
    conv = Conversation(
        workspace_id=workspace_id,
        customer_id=customer.id,
        channel=channel,
        subject="",
        message_count=1,
        first_message_at=at,
        last_message_at=at,
        last_inbound_at=at,
    )
    session.add(conv)
    session.flush()
    thread = Thread(
        workspace_id=workspace_id,
        conversation_id=conv.id,
        channel=channel,
        key=f"root-{n}",
        visibility=visibility,
    )
    session.add(thread)
    session.flush()
    message = Message(
        workspace_id=workspace_id,
        conversation_id=conv.id,
        thread_id=thread.id,
        channel=channel,
        direction="inbound",
        visibility=visibility,
        author_identity_id=identity.id,
        external_id=f"msg-{n}",
        text=text,
        metrics={},
        created_at=at,
        received_at=at,
    )
    session.add(message)
    task = Task(
        workspace_id=workspace_id,
        conversation_id=conv.id,
        status=TaskStatus.ASSIGNED if assignee_id else TaskStatus.OPEN,
        channel=channel,
        queue="care",
        assignee_id=assignee_id,
        priority=value,
        value_score=value,
        value_breakdown=breakdown or {},
        due_at=None if due_in is None else at + due_in,
        waiting_since=at,
    )
    session.add(task)
    session.flush()
    return conv, task, message
