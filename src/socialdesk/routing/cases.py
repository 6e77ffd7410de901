"""Taking and handing on a case's work, as an agent does it from the console or the API.

Both take the same path: routing's compare-and-set claim (never two holders), then a line in
the case's history (which the live screens and the outgoing webhooks read). Services flush;
the caller commits, then tells the routing engine.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from socialdesk.conversations import action_repository as cases
from socialdesk.conversations import actions
from socialdesk.core.clock import Clock, utcnow
from socialdesk.core.errors import Conflict, InvalidInput, NotFound
from socialdesk.core.work import Task
from socialdesk.people.models import User
from socialdesk.routing import repository as repo
from socialdesk.routing import service


def task_of_case(session: Session, workspace_id: int, conversation_id: int) -> Task:
    if cases.conversation(session, workspace_id, conversation_id) is None:
        raise NotFound(f"no conversation {conversation_id} in this workspace")
    task = cases.task_for(session, workspace_id, conversation_id)
    if task is None:
        raise Conflict("this case has no work to take")
    return task


def _task(session: Session, workspace_id: int, task_id: int) -> Task:
    task = repo.get_task(session, workspace_id, task_id)
    if task is None:
        raise NotFound(f"no task {task_id} in this workspace")
    return task


def assign_task(
    session: Session,
    *,
    workspace_id: int,
    task_id: int,
    actor: User,
    clock: Clock = utcnow,
    exceed_once: bool = False,
) -> Task:
    """The agent takes the work (never work a colleague holds): ``routing.service.AtCapacity``
    when their slots on its channel are full, unless ``exceed_once``."""
    task = _task(session, workspace_id, task_id)
    if task.assignee_id is not None and task.assignee_id != actor.id:
        holder = repo.get_user(session, workspace_id, task.assignee_id)
        raise Conflict(f"already taken by {holder.name if holder else 'a colleague'}")
    service.assign_to_me(session, workspace_id, task.id, actor.id, clock(), exceed_once=exceed_once)
    actions.record_event(
        session,
        workspace_id=workspace_id,
        conversation_id=task.conversation_id,
        actor=actor,
        event="assigned",
        clock=clock,
        to_user_id=actor.id,
    )
    return task


def transfer_task(
    session: Session,
    *,
    workspace_id: int,
    task_id: int,
    actor: User | None,
    to_user_id: int | None = None,
    to_team_id: int | None = None,
    clock: Clock = utcnow,
) -> Task:
    """Hand the work to a colleague (who must have a free slot) or to a team's list."""
    if (to_user_id is None) == (to_team_id is None):
        raise InvalidInput("transfer to exactly one person or one team")
    task = _task(session, workspace_id, task_id)
    if to_user_id is not None:
        service.transfer_to_user(session, workspace_id, task.id, to_user_id, clock())
    else:
        assert to_team_id is not None
        service.transfer_to_team(session, workspace_id, task.id, to_team_id, clock())
    actions.record_event(
        session,
        workspace_id=workspace_id,
        conversation_id=task.conversation_id,
        actor=actor,
        event="transferred",
        clock=clock,
        to_user_id=to_user_id,
        to_team_id=to_team_id,
    )
    return task


def assign_case(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: int,
    actor: User,
    clock: Clock = utcnow,
    exceed_once: bool = False,
) -> Task:
    task = task_of_case(session, workspace_id, conversation_id)
    return assign_task(
        session,
        workspace_id=workspace_id,
        task_id=task.id,
        actor=actor,
        clock=clock,
        exceed_once=exceed_once,
    )


def transfer_case(
    session: Session,
    *,
    workspace_id: int,
    conversation_id: int,
    actor: User,
    to_user_id: int | None = None,
    to_team_id: int | None = None,
    clock: Clock = utcnow,
) -> Task:
    task = task_of_case(session, workspace_id, conversation_id)
    return transfer_task(
        session,
        workspace_id=workspace_id,
        task_id=task.id,
        actor=actor,
        to_user_id=to_user_id,
        to_team_id=to_team_id,
        clock=clock,
    )
