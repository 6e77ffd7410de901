"""What an agent does to a case besides replying: notes with @mentions, snooze, resolve, reopen
(taking and handing on the work is routing's, in ``routing.cases``). Services flush; the
caller commits and only then pushes live updates.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from socialdesk.conversations import action_repository as repo
from socialdesk.conversations.action_models import CaseEvent, Note, Notification, Snooze
from socialdesk.conversations.models import Conversation, ConversationStatus
from socialdesk.conversations.repository import end_assignments
from socialdesk.core.clock import Clock, utcnow
from socialdesk.core.errors import Conflict, InvalidInput, NotFound
from socialdesk.core.work import Task, TaskStatus
from socialdesk.people.models import TeamKind, User

MAX_NOTE_CHARS = 10_000
MAX_SNOOZE = timedelta(days=30)
# An @ preceded by a word character is an e-mail address, not a mention.
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9._+-]{1,64})")


def extract_mentions(text: str) -> list[str]:
    """Handles mentioned in a note, lower-cased, in order of first appearance, without repeats."""
    seen: dict[str, None] = {}
    for match in _MENTION.finditer(text):
        seen.setdefault(match.group(1).rstrip(".").lower(), None)
    return list(seen)


def _conversation(session: Session, workspace_id: int, conversation_id: int) -> Conversation:
    conv = repo.conversation(session, workspace_id, conversation_id)
    if conv is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return conv


def _event(
    session: Session,
    workspace_id: int,
    conversation_id: int | None,
    actor: User | None,
    event_kind: str,
    now: datetime,
    /,
    **data: object,
) -> None:
    repo.add(
        session,
        CaseEvent(
            workspace_id=workspace_id,
            conversation_id=conversation_id,
            actor_user_id=None if actor is None else actor.id,
            kind=event_kind,
            data=dict(data),
            created_at=now,
        ),
    )


def record_event(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: int | None,
    actor: User | None,
    event: str,
    clock: Clock = utcnow,
    **data: object,
) -> None:
    """Append to a case's history (which is also the live screens' change feed)."""
    _event(session, workspace_id, conversation_id, actor, event, clock(), **data)


def add_note(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: int,
    author: User,
    text: str,
    clock: Clock = utcnow,
) -> Note:
    """An internal note; every colleague @mentioned in it gets a notification."""
    text = text.strip()
    if not text:
        raise InvalidInput("the note is empty")
    if len(text) > MAX_NOTE_CHARS:
        raise InvalidInput(f"a note holds at most {MAX_NOTE_CHARS} characters")
    _conversation(session, workspace_id, conversation_id)
    now = clock()
    mentioned = [
        u
        for u in repo.users_by_handles(session, workspace_id, extract_mentions(text))
        if u.id != author.id
    ]
    note = Note(
        workspace_id=workspace_id,
        conversation_id=conversation_id,
        author_user_id=author.id,
        text=text,
        mentioned_user_ids=[u.id for u in mentioned],
        created_at=now,
    )
    repo.add(session, note)
    for colleague in mentioned:
        repo.add(
            session,
            Notification(
                workspace_id=workspace_id,
                user_id=colleague.id,
                kind="mention",
                conversation_id=conversation_id,
                text=f"{author.name} mentioned you in a note",
                created_at=now,
            ),
        )
    _event(session, workspace_id, conversation_id, author, "note", now, note_id=note.id)
    return note


def snooze(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: int,
    actor: User,
    until: datetime,
    clock: Clock = utcnow,
) -> Snooze:
    """Put a case aside; it leaves the lists until ``until`` and then comes back by itself."""
    now = clock()
    if until.tzinfo is None:
        raise InvalidInput("the snooze time needs a time zone")
    if until <= now:
        raise InvalidInput("snooze until a time in the future")
    if until - now > MAX_SNOOZE:
        raise InvalidInput("a case can be snoozed for 30 days at most")
    conv = _conversation(session, workspace_id, conversation_id)
    if conv.status == ConversationStatus.RESOLVED:
        raise Conflict("a resolved case cannot be snoozed; reopen it first")
    existing = repo.snooze_for(session, workspace_id, conversation_id)
    if existing is None:
        existing = Snooze(
            workspace_id=workspace_id,
            conversation_id=conversation_id,
            until=until,
            by_user_id=actor.id,
            created_at=now,
        )
        repo.add(session, existing)
    else:
        existing.until = until
        existing.by_user_id = actor.id
    _event(session, workspace_id, conversation_id, actor, "snoozed", now, until=until.isoformat())
    session.flush()
    return existing


def resolve(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: int,
    actor: User,
    clock: Clock = utcnow,
) -> Conversation:
    now = clock()
    conv = _conversation(session, workspace_id, conversation_id)
    if conv.status == ConversationStatus.RESOLVED:
        return conv
    conv.status = ConversationStatus.RESOLVED
    conv.resolved_at = now
    conv.updated_at = now
    task = repo.task_for(session, workspace_id, conversation_id)
    if task is not None:
        task.status = TaskStatus.DONE
        task.updated_at = now
        end_assignments(session, task.id, now, "resolved")
    repo.clear_snooze(session, workspace_id, conversation_id)
    _event(session, workspace_id, conversation_id, actor, "resolved", now)
    session.flush()
    return conv


def reopen(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: int,
    actor: User,
    clock: Clock = utcnow,
) -> Conversation:
    now = clock()
    conv = _conversation(session, workspace_id, conversation_id)
    if conv.status != ConversationStatus.RESOLVED:
        raise Conflict("the case is not resolved")
    conv.status = ConversationStatus.OPEN
    conv.resolved_at = None
    conv.updated_at = now
    task = repo.task_for(session, workspace_id, conversation_id)
    if task is not None:
        # The agent reopening it keeps it: they know why it came back.
        task.status = TaskStatus.ASSIGNED
        task.assignee_id = actor.id
        task.assigned_at = now
        task.waiting_since = now
        task.reopen_count += 1
        task.updated_at = now
    _event(session, workspace_id, conversation_id, actor, "reopened", now)
    session.flush()
    return conv


def send_to_queue(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: int,
    actor: User,
    queue: str,
    clock: Clock = utcnow,
) -> Task | None:
    """Move the open work to another department's list (e.g. marketing), unassigned."""
    if queue not in TeamKind.ALL:
        raise InvalidInput(f"a list is one of {', '.join(TeamKind.ALL)}")
    now = clock()
    _conversation(session, workspace_id, conversation_id)
    task = repo.task_for(session, workspace_id, conversation_id)
    if task is None or task.status not in TaskStatus.ACTIVE:
        return task
    task.queue = queue
    task.team_id = None
    task.assignee_id = None
    task.status = TaskStatus.OPEN
    task.updated_at = now
    _event(session, workspace_id, conversation_id, actor, "moved", now, queue=queue)
    session.flush()
    return task


def mark_notifications_read(
    session: Session, *, workspace_id: int, user: User, clock: Clock = utcnow
) -> None:
    repo.mark_notifications_read(session, workspace_id, user.id, clock())
    session.flush()
