"""Every inbound message gets a stored result; agents' corrections become labels and models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.events import InboundEvent
from socialdesk.conversations.models import Message
from socialdesk.core.clock import FrozenClock
from socialdesk.core.db import unit_of_work
from socialdesk.core.errors import InvalidInput, NotFound
from socialdesk.core.models import Workspace
from socialdesk.core.processing import PipelineHooks
from socialdesk.core.work import Task
from socialdesk.ingest.pipeline import Pipeline
from socialdesk.triage import service
from socialdesk.triage.hook import FastTriageHook
from socialdesk.triage.models import TriageLabelRow, TriageResultRow
from socialdesk.triage.seed_models import SEED_VERSION

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def post(external_id: str, text: str, author: str = "u1", minutes: float = 0) -> InboundEvent:
    return InboundEvent.model_validate(
        {
            "channel": "x",
            "external_id": external_id,
            "author": {"id": author, "handle": author},
            "text": text,
            "created_at": T0 + timedelta(minutes=minutes),
        }
    )


def pipeline(session_factory: sessionmaker[Session]) -> Pipeline:
    return Pipeline(session_factory, PipelineHooks(triage=FastTriageHook()))


def message_id(session: Session, external_id: str) -> int:
    return session.scalars(select(Message.id).where(Message.external_id == external_id)).one()


def result(session: Session, external_id: str) -> TriageResultRow:
    return session.scalars(
        select(TriageResultRow).where(
            TriageResultRow.message_id == message_id(session, external_id)
        )
    ).one()


def test_the_pipeline_stores_a_result_per_inbound_message_and_skips_noise(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    pipeline(session_factory).ingest(
        workspace.id,
        [
            post("1", "my internet has been down all day and nobody can tell me why", "ann"),
            post("2", "make money fast from home, click the link in my bio", "bot"),
        ],
    )
    with session_factory() as s:
        complaint, spam = result(s, "1"), result(s, "2")
        assert complaint.kind == "complaint" and complaint.route_to == "care"
        assert complaint.model_versions["kind"] == SEED_VERSION
        assert complaint.signals["outage"] == ["been down"]
        assert spam.kind == "spam" and spam.route_to == "none"
        queues = list(s.scalars(select(Task.queue)))
        assert queues == ["care"]  # the spam opened no task


def test_reprocessing_replaces_the_result(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    pipeline(session_factory).ingest(workspace.id, [post("1", "where is my parcel?")])
    hook = FastTriageHook()
    with unit_of_work(session_factory) as s:
        from socialdesk.core.processing import ProcessedMessage

        mid = message_id(s, "1")
        view = ProcessedMessage(mid, 1, None, "x", "public", "where is my parcel?", T0, 0, False)
        hook(s, workspace.id, [view])
    with session_factory() as s:
        assert len(list(s.scalars(select(TriageResultRow)))) == 1


def test_a_customer_writing_again_within_a_week_is_a_repeat_contact(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    p = pipeline(session_factory)
    p.ingest(workspace.id, [post("1", "my order has not arrived", "ann", 0)])
    p.ingest(workspace.id, [post("2", "my order has not arrived", "ann", 60 * 24)])
    p.ingest(workspace.id, [post("3", "my order has not arrived", "bob", 60 * 24)])
    with session_factory() as s:
        assert "repeat_contact" not in result(s, "1").signals
        assert result(s, "2").signals["repeat_contact"] == ["1 earlier contacts"]
        assert "repeat_contact" not in result(s, "3").signals


def test_agent_corrections_are_labels_and_update_the_result(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    pipeline(session_factory).ingest(
        workspace.id, [post("1", "can't wait for the summer sale, when does it start")]
    )
    with unit_of_work(session_factory) as s:
        mid = message_id(s, "1")
        service.mark_as_marketing(s, workspace.id, mid)
    with session_factory() as s:
        row = result(s, "1")
        assert (row.kind, row.route_to, row.needs_response, row.corrected) == (
            "marketing",
            "marketing",
            0.0,
            True,
        )
        labels = {(r.task, r.label, r.source) for r in s.scalars(select(TriageLabelRow))}
        assert labels == {("kind", "marketing", "agent"), ("needs_response", "no", "agent")}
    with unit_of_work(session_factory) as s:
        service.relabel(s, workspace.id, mid, "kind", "question")  # the latest correction wins
        assert len(service.training_examples(s, workspace.id, "kind")) == 1
        with pytest.raises(InvalidInput):
            service.relabel(s, workspace.id, mid, "kind", "angry")
        with pytest.raises(NotFound):
            service.relabel(s, workspace.id, 999_999, "kind", "spam")


def test_models_are_versioned_activated_and_rolled_back(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    clock = FrozenClock(T0)
    examples = [
        ("the delivery was late again", "delivery"),
        ("my parcel never arrived", "delivery"),
        ("courier lost the package", "delivery"),
        ("charged twice on my card", "billing"),
        ("my invoice is wrong", "billing"),
        ("why is the bill so high", "billing"),
    ]
    with unit_of_work(session_factory) as s:
        assert service.import_labels(s, workspace.id, "topic", examples, clock=clock) == 6
        assert service.import_labels(s, workspace.id, "topic", examples, clock=clock) == 0
        first = service.train(s, workspace.id, "topic", clock=clock)
        second = service.train(s, workspace.id, "topic", clock=clock)
        assert (first.version, second.version) == (1, 2)
    with unit_of_work(session_factory) as s:
        active = [m for m in service.list_models(s, workspace.id, "topic") if m.active]
        assert [m.version for m in active] == [2]
        results = service.triage_texts(s, workspace.id, ["the courier never delivered it"])
        assert results[0].topic == "delivery"
        assert results[0].model_versions["topic"] == "topic-v2"
        back = service.rollback(s, workspace.id, "topic", clock=clock)
        assert back is not None and back.version == 1
        assert service.rollback(s, workspace.id, "topic", clock=clock) is None
        assert service.triage_texts(s, workspace.id, ["hello"])[0].model_versions["topic"] == (
            "rules"
        )
        again = service.activate(s, workspace.id, second.id, clock=clock)
        assert again.active


def test_a_scheduled_retrain_learns_from_new_corrections_only_when_due(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    clock = FrozenClock(T0)
    texts = [
        ("thanks, all sorted", "positive"),
        ("love it", "positive"),
        ("this is broken", "negative"),
        ("awful service", "negative"),
    ]
    with unit_of_work(session_factory) as s:
        assert service.retrain_if_due(s, workspace.id, clock=clock) == []  # no schedule set
        service.configure(s, workspace.id, retrain_every_hours=24)
        service.import_labels(s, workspace.id, "sentiment", texts, clock=clock)
        first = service.retrain_if_due(s, workspace.id, clock=clock)
        assert [m.task for m in first] == ["sentiment"]
        clock.advance(timedelta(hours=1))
        service.import_labels(s, workspace.id, "sentiment", [("meh", "negative")], clock=clock)
        assert service.retrain_if_due(s, workspace.id, clock=clock) == []  # not due yet
        clock.advance(timedelta(hours=24))
        assert [m.version for m in service.retrain_if_due(s, workspace.id, clock=clock)] == [2]
        assert service.retrain_if_due(s, workspace.id, clock=clock) == []  # nothing new
        with pytest.raises(InvalidInput):
            service.configure(s, workspace.id, taxonomy="bakery")


def test_results_are_walled_off_by_workspace(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with unit_of_work(session_factory) as s:
        other = Workspace(slug="other", name="Other")
        s.add(other)
        s.flush()
        service.import_labels(
            s, other.id, "kind", [("a", "spam"), ("b", "spam"), ("c", "praise"), ("d", "praise")]
        )
        service.train(s, other.id, "kind")
        assert service.list_models(s, workspace.id) == []
        assert (
            service.triage_texts(s, workspace.id, ["hi"])[0].model_versions["kind"] == SEED_VERSION
        )


def test_the_console_correction_entry_point_and_the_priority_reader_see_one_result(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    from socialdesk.priority.service import stored_triage
    from socialdesk.triage.corrections import record_correction

    pipeline(session_factory).ingest(
        workspace.id, [post("1", "my bill is wrong again, awful service")]
    )
    with unit_of_work(session_factory) as s:
        mid = message_id(s, "1")
        record_correction(
            s, workspace_id=workspace.id, message_id=mid, topic="billing", verdict="noise"
        )
        with pytest.raises(InvalidInput):
            record_correction(s, workspace_id=workspace.id, message_id=mid, verdict="maybe")
    with session_factory() as s:
        row = result(s, "1")
        assert (row.kind, row.topic, row.needs_response) == ("other", "billing", 0.0)
        signals = stored_triage(s, workspace.id, [mid])[mid]
        assert signals.kind == "other"
        assert signals.sentiment == pytest.approx(row.sentiment_score)
        assert row.sentiment_label == "negative"


def test_a_large_batch_is_triaged_in_slices_that_keep_each_result_with_its_message(
    session_factory: sessionmaker[Session], workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from socialdesk.triage import hook

    calls: list[int] = []
    triage_texts = service.triage_texts

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(len(args[2]))  # type: ignore[arg-type]
        return triage_texts(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(hook, "TEXTS_PER_CALL", 2)
    monkeypatch.setattr(service, "triage_texts", counted)
    complaint = "my internet has been down all day and nobody can tell me why"
    spam = "make money fast from home, click the link in my bio"
    texts = [complaint, spam, spam, complaint, spam]
    pipeline(session_factory).ingest(
        workspace.id,
        [post(str(i), text, f"u{i}", minutes=i) for i, text in enumerate(texts)],
    )
    assert calls == [2, 2, 1]
    with session_factory() as s:
        kinds = [result(s, str(i)).kind for i in range(len(texts))]
    assert kinds == ["complaint", "spam", "spam", "complaint", "spam"]


def test_a_reply_where_the_brand_already_wrote_is_meant_for_the_brand(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    p = pipeline(session_factory)
    p.ingest(workspace.id, [post("1", "my order has not arrived", "ann", 0)])
    answer = InboundEvent.model_validate(
        {
            "channel": "x",
            "external_id": "2",
            "direction": "outbound",
            "author": {"id": "brand", "handle": "acme"},
            "text": "Sorry to hear that, could you send us the order number?",
            "created_at": T0 + timedelta(minutes=5),
            "reply_to": "1",
        }
    )
    reply = post("3", "ok, just did it now", "ann", 10)
    reply = reply.model_copy(update={"reply_to": "2"})
    p.ingest(workspace.id, [answer])
    p.ingest(workspace.id, [reply, post("4", "ok, just did it now", "bob", 10)])
    with session_factory() as s:
        in_thread, alone = result(s, "3"), result(s, "4")
        assert in_thread.needs_response >= 0.5 and in_thread.route_to == "care"
        assert "written back in a conversation the brand answered" in in_thread.explanation
        assert alone.needs_response < 0.5
