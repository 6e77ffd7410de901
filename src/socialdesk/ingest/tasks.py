"""Open the task: triage the inbound messages, then open, reopen or answer the cases' tasks."""

from __future__ import annotations

from typing import Any

from socialdesk.conversations.models import Direction
from socialdesk.core.bulk import allocate_ids, insert_prepared
from socialdesk.core.processing import ProcessedMessage, TriageVerdict
from socialdesk.core.work import TaskStatus
from socialdesk.ingest import repository as repo
from socialdesk.ingest.batch_state import BatchState, MsgState, written_id

DEFAULT_VERDICT = TriageVerdict(needs_response=True, route_to="care")


class TaskStage(BatchState):
    """At most one active task a case: a message that needs an answer opens or reopens it,
    our answer moves it to pending."""

    def _triage(self, messages: list[MsgState]) -> dict[int, TriageVerdict]:
        inbound = [
            m for m in messages if m.direction == Direction.INBOUND and not m.event.is_repost
        ]
        if self.p.hooks.triage is None or not inbound:
            return {}
        views = [
            ProcessedMessage(
                message_id=written_id(m.id),
                conversation_id=written_id(m.thread.conv.id),
                customer_id=m.customer_id,
                channel=m.event.channel,
                visibility=m.event.visibility,
                text=m.event.text,
                created_at=m.at,
                author_followers=m.event.author.followers,
                author_verified=m.event.author.verified,
            )
            for m in inbound
        ]
        return dict(self.p.hooks.triage(self.session, self.ws, views))

    def _open_tasks(
        self, messages: list[MsgState], verdicts: dict[int, TriageVerdict]
    ) -> list[int]:
        # Only a stored conversation can have a task already; this batch's new ones cannot.
        tasks = repo.tasks_of_conversations(
            self.session, {written_id(m.thread.conv.id) for m in messages} & self.convs.keys()
        )
        changed: set[int] = set()  # conversation ids whose task opened or reopened
        touched: set[int] = set()
        for m in messages:
            conv_id = written_id(m.thread.conv.id)
            at = m.at
            task = tasks.get(conv_id)
            if m.direction == Direction.OUTBOUND:
                if (
                    task is not None
                    and task["status"] in TaskStatus.ACTIVE
                    and task["waiting_since"] <= at
                ):
                    task["status"] = TaskStatus.PENDING
                    if task["first_response_at"] is None:
                        task["first_response_at"] = at
                    touched.add(conv_id)
                continue
            if m.event.is_repost:
                continue
            verdict = (
                verdicts.get(written_id(m.id), DEFAULT_VERDICT) if verdicts else DEFAULT_VERDICT
            )
            if not verdict.needs_response or verdict.route_to == "none":
                continue
            if task is None:
                tasks[conv_id] = {
                    "id": None,
                    "status": TaskStatus.OPEN,
                    "channel": m.thread.channel,
                    "queue": verdict.route_to,
                    "waiting_since": at,
                    "first_response_at": None,
                    "reopen_count": 0,
                }
                changed.add(conv_id)
            elif task["status"] not in TaskStatus.ACTIVE:
                task["status"] = TaskStatus.OPEN
                task["queue"] = verdict.route_to
                task["waiting_since"] = at
                task["reopen_count"] += 1
                changed.add(conv_id)
                touched.add(conv_id)
        new = [cid for cid, task in tasks.items() if task["id"] is None]
        to_db, now = self.to_db, self.now_db
        task_rows: list[tuple[Any, ...]] = []
        for conv_id, task_id in zip(
            new, allocate_ids(self.session, repo.TASKS, len(new)), strict=True
        ):
            task = tasks[conv_id]
            task["id"] = task_id
            task_rows.append(
                (
                    task_id,
                    self.ws,
                    conv_id,
                    task["status"],
                    task["channel"],
                    task["queue"],
                    0.0,
                    0.0,
                    "{}",
                    to_db(task["waiting_since"]),
                    to_db(task["first_response_at"]),
                    task["reopen_count"],
                    now,
                    now,
                )
            )
        insert_prepared(self.session, repo.TASKS, repo.NEW_TASK_COLUMNS, task_rows)
        repo.update_tasks(
            self.session,
            [
                {
                    "id": tasks[c]["id"],
                    "status": tasks[c]["status"],
                    "queue": tasks[c]["queue"],
                    "waiting_since": tasks[c]["waiting_since"],
                    "first_response_at": tasks[c]["first_response_at"],
                    "reopen_count": tasks[c]["reopen_count"],
                    "updated_at": self.now,
                }
                for c in touched
                if c not in new
            ],
        )
        return sorted(tasks[c]["id"] for c in changed if tasks[c]["status"] in TaskStatus.ACTIVE)
