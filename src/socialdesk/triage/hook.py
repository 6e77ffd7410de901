"""The pipeline's triage stage: classify a batch, store the results, return the verdicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from threading import Lock
from weakref import WeakKeyDictionary

from sqlalchemy.orm import Session

from socialdesk.core.clock import Clock, utcnow
from socialdesk.core.processing import ProcessedMessage, RouteTo, TriageVerdict
from socialdesk.triage import service
from socialdesk.triage.result import MessageContext, TriageResult

_ROUTES: dict[str, RouteTo] = {
    "care": "care",
    "marketing": "marketing",
    "sales": "sales",
    "none": "none",
}


TEXTS_PER_CALL = 1000


class FastTriageHook:
    """Implements ``socialdesk.core.processing.TriageHook`` with the fast tier."""

    def __init__(self, clock: Clock = utcnow, window: timedelta = service.REPEAT_WINDOW) -> None:
        self.clock = clock
        self.window = window
        # The last batch's results by session (its transaction), for the stages after triage
        # in the same transaction (scoring), which would otherwise read them back.
        self._handed: WeakKeyDictionary[Session, tuple[int, dict[int, TriageResult]]] = (
            WeakKeyDictionary()
        )
        self._lock = Lock()

    def take_results(
        self, session: Session, workspace_id: int, message_ids: Sequence[int]
    ) -> dict[int, TriageResult]:
        """The results this hook stored in this session's transaction for these messages
        (those it did not store are missing), handed over once."""
        with self._lock:
            handed = self._handed.pop(session, None)
        if handed is None or handed[0] != workspace_id:
            return {}
        results = handed[1]
        return {i: results[i] for i in message_ids if i in results}

    def read_ahead(self, session: Session, workspace_id: int, texts: Sequence[str]) -> None:
        """Read these texts under the workspace's models now, before the batch writes or
        locks anything (``ReadAheadHook``): the call further on finds them in the reading
        memory."""
        for start in range(0, len(texts), TEXTS_PER_CALL):
            service.read_ahead(session, workspace_id, texts[start : start + TEXTS_PER_CALL])

    def __call__(
        self, session: Session, workspace_id: int, messages: Sequence[ProcessedMessage]
    ) -> Mapping[int, TriageVerdict]:
        if not messages:
            return {}
        earlier = service.earlier_contacts(
            session,
            workspace_id,
            [(m.message_id, m.customer_id, m.created_at) for m in messages],
            self.window,
        )
        answered = service.answered_conversations(
            session, workspace_id, {m.conversation_id for m in messages}
        )
        contexts = [
            MessageContext(
                earlier_contacts=earlier.get(m.message_id, 0),
                private=m.visibility == "private",
                answered_before=m.conversation_id in answered,
            )
            for m in messages
        ]
        texts = [m.text for m in messages]
        # In slices: the classifiers' working memory grows with the texts of one call, and a
        # bulk import hands over thousands of messages at once.
        results = [
            result
            for start in range(0, len(texts), TEXTS_PER_CALL)
            for result in service.triage_texts(
                session,
                workspace_id,
                texts[start : start + TEXTS_PER_CALL],
                contexts[start : start + TEXTS_PER_CALL],
            )
        ]
        service.store_results(
            session,
            workspace_id,
            [(m.message_id, r) for m, r in zip(messages, results, strict=True)],
            self.clock(),
        )
        with self._lock:
            self._handed[session] = (
                workspace_id,
                {m.message_id: r for m, r in zip(messages, results, strict=True)},
            )
        return {
            m.message_id: TriageVerdict(
                needs_response=r.responds, route_to=_ROUTES.get(r.route_to, "none")
            )
            for m, r in zip(messages, results, strict=True)
        }
