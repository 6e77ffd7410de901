"""One batch of processing: skip what is stored, identify, thread, persist, open the tasks."""

from __future__ import annotations

from socialdesk.channels.events import InboundEvent
from socialdesk.channels.inbox import RawEventStatus
from socialdesk.core.clock import as_utc
from socialdesk.ingest import repository as repo
from socialdesk.ingest.batch_state import ProcessResult
from socialdesk.ingest.cases import ThreadStage
from socialdesk.ingest.identify import IdentifyStage
from socialdesk.ingest.persist import PersistStage
from socialdesk.ingest.tasks import TaskStage


class BatchProcessor(IdentifyStage, ThreadStage, PersistStage, TaskStage):
    """The stages of one batch, in the order of ``run``."""

    def run(self, items: list[tuple[int, InboundEvent]], mark_processed: bool) -> ProcessResult:
        result = ProcessResult()
        if not items:
            return result
        items = sorted(items, key=lambda item: as_utc(item[1].created_at))
        items, revisions = self._split_revisions(items)
        items = self._drop_already_processed(items, result)
        parties = self._resolve_parties([event for _, event in items])
        messages = self._thread(items, parties)
        self._write_conversations_and_threads()
        self._write_messages(messages)
        verdicts = self._triage(messages)
        result.tasks_changed = self._open_tasks(messages, verdicts)
        self._apply_merges()
        for hook in self.p.hooks.on_tasks_changed:
            hook(self.session, self.ws, result.tasks_changed)
        self._apply_revisions(revisions)
        if mark_processed:
            repo.mark_raw_events(
                self.session,
                [m.raw_id for m in messages] + [raw for raw, _ in revisions],
                RawEventStatus.PROCESSED,
                self.now,
            )
        result.processed = len(messages) + len(revisions)
        return result

    def _split_revisions(
        self, items: list[tuple[int, InboundEvent]]
    ) -> tuple[list[tuple[int, InboundEvent]], list[tuple[int, InboundEvent]]]:
        """Edits and removals of stored messages apart from new messages. An edit of a
        message never seen (it predates the connection) is that message, as edited."""
        revisions = [(raw, e) for raw, e in items if e.extra.get("revision")]
        if not revisions:
            return items, []
        rest = [(raw, e) for raw, e in items if not e.extra.get("revision")]
        batch = {(e.channel, e.external_id) for _, e in rest}
        kept: list[tuple[int, InboundEvent]] = []
        for raw, event in revisions:
            original = str(event.extra.get("revision_of") or "")
            stored = repo.messages_by_external_id(self.session, self.ws, event.channel, {original})
            if original in stored or (event.channel, original) in batch:
                kept.append((raw, event))
            elif event.extra["revision"] == "edited":
                rest.append((raw, event.model_copy(update={"external_id": original, "extra": {}})))
            # A removal of a message never stored has nothing to mark.
        rest.sort(key=lambda item: as_utc(item[1].created_at))
        return rest, kept

    def _apply_revisions(self, revisions: list[tuple[int, InboundEvent]]) -> None:
        """The author changed or removed a post: show the change, keep the original."""
        for _, event in revisions:
            original = str(event.extra.get("revision_of"))
            found = repo.messages_by_external_id(
                self.session, self.ws, event.channel, {original}
            ).get(original)
            if found is None:
                continue
            if event.extra["revision"] == "removed":
                found.removed_at = found.removed_at or event.created_at
            elif event.text != found.text:
                if found.original_text is None:
                    found.original_text = found.text
                found.text = event.text
                found.edited_at = event.created_at
        self.session.flush()

    def _drop_already_processed(
        self, items: list[tuple[int, InboundEvent]], result: ProcessResult
    ) -> list[tuple[int, InboundEvent]]:
        by_channel: dict[str, set[str]] = {}
        wanted: dict[str, set[str]] = {}
        for _, event in items:
            channel: str = event.channel
            external_id, reply_to = event.external_id, event.reply_to
            by_channel.setdefault(channel, set()).add(external_id)
            refs = wanted.setdefault(channel, set())
            refs.add(external_id)
            if reply_to:
                refs.add(reply_to)
            if event.references:
                refs.update(event.references)
        # Thread key of stored messages by external id, per channel; threading adds the batch.
        self.known: dict[str, dict[str, str]] = repo.thread_keys_of_messages(
            self.session, self.ws, wanted
        )
        done: set[tuple[str, str]] = set()
        for channel, ids in by_channel.items():
            known = self.known[channel]
            done.update((channel, ext) for ext in ids if ext in known)
        if not done:  # the common case: every event is new
            return items
        kept = [(raw, e) for raw, e in items if (e.channel, e.external_id) not in done]
        already = [raw for raw, e in items if (e.channel, e.external_id) in done]
        repo.mark_raw_events(self.session, already, RawEventStatus.PROCESSED, self.now)
        result.skipped = len(already)
        return kept
