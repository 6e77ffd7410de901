"""Persist: write the batch's conversations, threads and messages with a few bulk statements."""

from __future__ import annotations

from typing import Any

from socialdesk.channels.events import Metrics
from socialdesk.core.bulk import allocate_ids, insert_prepared
from socialdesk.ingest import repository as repo
from socialdesk.ingest.batch_state import BatchState, MsgState, written_id


class PersistStage(BatchState):
    """Rows are built as tuples and written by ``executemany`` with ids reserved up front."""

    def _write_conversations_and_threads(self) -> None:
        new = self.new_convs
        to_db, now = self.to_db, self.now_db
        rows: list[tuple[Any, ...]] = []
        for conv, conv_id in zip(
            new, allocate_ids(self.session, repo.CONVERSATIONS, len(new)), strict=True
        ):
            conv.id = conv_id
            conv.dirty = False
            rows.append(
                (
                    conv_id,
                    self.ws,
                    conv.customer_id,
                    conv.status,
                    conv.channel,
                    conv.subject,
                    conv.message_count,
                    to_db(conv.first_message_at),
                    to_db(conv.last_message_at),
                    to_db(conv.last_inbound_at),
                    to_db(conv.last_outbound_at),
                    to_db(conv.resolved_at),
                    now,
                    now,
                )
            )
        insert_prepared(self.session, repo.CONVERSATIONS, repo.CONVERSATION_COLUMNS, rows)
        repo.update_conversations(
            self.session,
            [
                {
                    "id": c.id,
                    "status": c.status,
                    "customer_id": c.customer_id,
                    "message_count": c.message_count,
                    "first_message_at": c.first_message_at,
                    "last_message_at": c.last_message_at,
                    "last_inbound_at": c.last_inbound_at,
                    "last_outbound_at": c.last_outbound_at,
                    "resolved_at": c.resolved_at,
                    "updated_at": self.now,
                }
                for c in self.convs.values()  # the stored ones this batch changed
                if c.dirty
            ],
        )
        threads = self.new_threads
        thread_rows: list[tuple[Any, ...]] = []
        for thread, thread_id in zip(
            threads, allocate_ids(self.session, repo.THREADS, len(threads)), strict=True
        ):
            thread.id = thread_id
            thread_rows.append(
                (
                    thread_id,
                    self.ws,
                    thread.conv.id,
                    thread.channel,
                    thread.key,
                    thread.visibility,
                    now,
                )
            )
        insert_prepared(self.session, repo.THREADS, repo.THREAD_COLUMNS, thread_rows)

    def _write_messages(self, messages: list[MsgState]) -> None:
        account_of = [m.event.account for m in messages]
        accounts = repo.channel_account_ids(
            self.session,
            self.ws,
            {
                (m.thread.channel, account)
                for m, account in zip(messages, account_of, strict=True)
                if account
            },
        )
        to_db, now = self.to_db, self.now_db
        metrics_json = MetricsJson()
        rows: list[tuple[Any, ...]] = []
        for m, account, message_id in zip(
            messages,
            account_of,
            allocate_ids(self.session, repo.MESSAGES, len(messages)),
            strict=True,
        ):
            m.id = message_id
            event, thread = m.event, m.thread
            rows.append(
                (
                    message_id,
                    self.ws,
                    thread.conv.id,
                    thread.id,
                    m.raw_id,
                    thread.channel,
                    accounts.get((thread.channel, account)) if account else None,
                    m.direction,
                    event.visibility,
                    m.author_identity_id,
                    event.external_id,
                    event.reply_to,
                    event.text,
                    metrics_json(event.metrics),
                    to_db(m.at),
                    now,
                )
            )
        insert_prepared(self.session, repo.MESSAGES, repo.MESSAGE_COLUMNS, rows)

    def _apply_merges(self) -> None:
        from socialdesk.conversations.repository import merge_conversations

        for source, target in self.merges:
            if source.id is not None and target.id is not None and source.id != target.id:
                merge_conversations(self.session, written_id(source.id), written_id(target.id))


class MetricsJson:
    """Messages' engagement counts as JSON, serialized once per distinct set of counts (most
    messages of a batch share a handful)."""

    def __init__(self) -> None:
        self.known: dict[Metrics, str] = {}  # metrics hash and compare by their counts

    def __call__(self, metrics: Metrics) -> str:
        text = self.known.get(metrics)
        if text is None:
            text = self.known[metrics] = metrics.model_dump_json()
        return text
