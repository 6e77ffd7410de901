"""Store first, process second: threading, identities and tasks."""

from __future__ import annotations

import gc
import logging
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.channels.events import InboundEvent
from socialdesk.channels.inbox import RawEvent
from socialdesk.conversations.models import Conversation, Message
from socialdesk.core.models import Workspace
from socialdesk.core.processing import PipelineHooks, ProcessedMessage, TriageVerdict
from socialdesk.core.work import Task
from socialdesk.customers.models import Customer, Identity
from socialdesk.ingest.pipeline import Pipeline, freeze_heap
from tests.ingest.factories import event


def conversation_of(session: Session, external_id: str) -> int:
    return session.scalars(
        select(Message.conversation_id).where(Message.external_id == external_id)
    ).one()


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_accepting_the_same_event_twice_stores_it_once(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    pipeline = Pipeline(session_factory)
    first = pipeline.accept(workspace.id, [event("1"), event("1"), event("2")])
    second = pipeline.accept(workspace.id, [event("1")])
    assert len(first.accepted) == 2 and first.duplicates == 1
    assert second.accepted == [] and second.duplicates == 1
    with session_factory() as s:
        assert count(s, RawEvent) == 2
        assert count(s, Message) == 0  # accepting does no processing


def test_processing_turns_pending_events_into_messages_once(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    pipeline = Pipeline(session_factory)
    pipeline.accept(workspace.id, [event("1"), event("2", reply_to="1", minutes=1)])
    assert pipeline.process_pending(workspace.id).processed == 2
    assert pipeline.process_pending(workspace.id).processed == 0
    with session_factory() as s:
        raw_ids = list(s.scalars(select(RawEvent.id)))
        s.execute(update(RawEvent).values(status="pending"))
        s.commit()
    again = pipeline.process_pending(workspace.id, raw_ids)
    assert again.processed == 0 and again.skipped == 2
    with session_factory() as s:
        assert count(s, Message) == 2
        assert count(s, Conversation) == 1
        assert count(s, Task) == 1


def test_a_reply_chain_is_one_conversation_and_brand_replies_keep_their_times(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    Pipeline(session_factory).ingest(
        workspace.id,
        [
            event("1", "cust", text="my bill is wrong"),
            event("2", "AcmeCare", minutes=7, reply_to="1", outbound=True),
            event("3", "cust", minutes=9, reply_to="2"),
            event("9", "other", minutes=2, text="unrelated"),
        ],
    )
    with session_factory() as s:
        chain = {conversation_of(s, x) for x in ("1", "2", "3")}
        assert len(chain) == 1
        assert conversation_of(s, "9") not in chain
        task = s.scalars(select(Task).where(Task.conversation_id == chain.pop())).one()
        assert task.first_response_at is not None
        assert (task.first_response_at - task.created_at).total_seconds() != 0
        assert task.status == "open"  # the customer wrote again after our answer
        assert task.reopen_count == 1


def test_replies_arriving_before_their_post_join_it(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    pipeline = Pipeline(session_factory)
    pipeline.ingest(workspace.id, [event("3", "cust", minutes=9, reply_to="2")])
    pipeline.ingest(workspace.id, [event("2", "AcmeCare", minutes=7, reply_to="1", outbound=True)])
    pipeline.ingest(workspace.id, [event("1", "cust")])
    with session_factory() as s:
        assert len({conversation_of(s, x) for x in ("1", "2", "3")}) == 1


def test_a_late_parent_that_links_two_halves_of_a_chain_merges_them(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    pipeline = Pipeline(session_factory)
    pipeline.ingest(workspace.id, [event("1", "cust"), event("3", "cust", minutes=9, reply_to="2")])
    with session_factory() as s:
        assert conversation_of(s, "1") != conversation_of(s, "3")
    pipeline.ingest(workspace.id, [event("2", "AcmeCare", minutes=7, reply_to="1", outbound=True)])
    with session_factory() as s:
        merged = conversation_of(s, "1")
        assert conversation_of(s, "3") == merged == conversation_of(s, "2")
        case = s.get(Conversation, merged)
        assert case is not None and case.message_count == 3
        live = s.scalars(select(Conversation).where(Conversation.merged_into_id.is_(None))).all()
        assert [c.id for c in live] == [merged]


def test_direct_messages_between_the_same_two_parties_share_a_thread(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    Pipeline(session_factory).ingest(
        workspace.id,
        [
            event("d1", "cust", private=True, recipient="brand"),
            event("d2", "brand", minutes=3, private=True, recipient="cust", outbound=True),
            event("d3", "cust", minutes=5, private=True, recipient="brand"),
        ],
    )
    with session_factory() as s:
        assert len({conversation_of(s, x) for x in ("d1", "d2", "d3")}) == 1


def test_the_dm_that_follows_a_public_post_joins_the_same_case(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    Pipeline(session_factory).ingest(
        workspace.id,
        [
            event("p1", "cust", text="@acme outage again"),
            event("d1", "cust", minutes=20, private=True, recipient="brand"),
        ],
    )
    with session_factory() as s:
        assert conversation_of(s, "p1") == conversation_of(s, "d1")
        assert count(s, Task) == 1


def test_a_new_public_post_opens_its_own_case(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    Pipeline(session_factory).ingest(
        workspace.id, [event("p1", "cust"), event("p2", "cust", minutes=30)]
    )
    with session_factory() as s:
        assert conversation_of(s, "p1") != conversation_of(s, "p2")


def test_email_chains_thread_by_references(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    Pipeline(session_factory).ingest(
        workspace.id,
        [
            event("<a@x>", "dana@example.com", channel="email", private=True),
            event(
                "<c@x>",
                "dana@example.com",
                channel="email",
                private=True,
                minutes=60,
                reply_to="<b@x>",
                references=["<a@x>", "<b@x>"],
            ),
        ],
    )
    with session_factory() as s:
        assert conversation_of(s, "<a@x>") == conversation_of(s, "<c@x>")
        customer = s.scalars(select(Customer)).one()
        assert customer.email == "dana@example.com"


def test_an_explicit_thread_link_wins(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    Pipeline(session_factory).ingest(
        workspace.id,
        [
            event("a", "u1", channel="webhook", thread_ref="ticket-7"),
            event("b", "u1", channel="webhook", minutes=5, thread_ref="ticket-7"),
        ],
    )
    with session_factory() as s:
        assert conversation_of(s, "a") == conversation_of(s, "b")


def test_the_same_handle_on_two_channels_is_one_customer(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    Pipeline(session_factory).ingest(
        workspace.id,
        [
            event("x1", "111", handle="@Dana"),
            event("i1", "999", channel="instagram", handle="dana", minutes=1),
            event("f1", "555", channel="facebook", handle="someone-else", minutes=2),
        ],
    )
    with session_factory() as s:
        customers = {i.external_id: i.customer_id for i in s.scalars(select(Identity))}
        assert customers["111"] == customers["999"] != customers["555"]


def test_a_known_email_links_a_new_handle_to_its_customer(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    pipeline = Pipeline(session_factory)
    pipeline.ingest(
        workspace.id, [event("<m1>", "Dana@Example.com", channel="email", private=True)]
    )
    pipeline.ingest(
        workspace.id,
        [event("f1", "fb-42", channel="facebook", author_fields={"email": "dana@example.com"})],
    )
    with session_factory() as s:
        assert count(s, Customer) == 1


def test_influence_is_kept_current(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    pipeline = Pipeline(session_factory)
    pipeline.ingest(workspace.id, [event("1", "u1", author_fields={"followers": 10})])
    pipeline.ingest(
        workspace.id,
        [event("2", "u1", minutes=5, author_fields={"followers": 250_000, "verified": True})],
    )
    with session_factory() as s:
        identity = s.scalars(select(Identity)).one()
        assert (identity.followers, identity.verified) == (250_000, True)


def test_reposts_and_brand_posts_open_no_work(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    Pipeline(session_factory).ingest(
        workspace.id,
        [event("r1", "fan", is_repost=True), event("b1", "AcmeCare", outbound=True)],
    )
    with session_factory() as s:
        assert count(s, Message) == 2
        assert count(s, Task) == 0


def test_text_is_kept_exactly(session_factory: sessionmaker[Session], workspace: Workspace) -> None:
    texts = {
        "emoji": "😡😡 my 📦 never came 👎🏽 #fail",
        "rtl": "השירות שלכם לא עובד \u200f مرحبا",
        "combining": "Cafe\u0301 e\u0308 n\u0303",
        "long": "a" * 10_000,
    }
    Pipeline(session_factory).ingest(
        workspace.id, [event(key, key, text=value) for key, value in texts.items()]
    )
    with session_factory() as s:
        stored = {m.external_id: m.text for m in s.scalars(select(Message))}
    assert stored == texts


def test_a_bad_event_in_a_batch_fails_alone(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    pipeline = Pipeline(session_factory)
    good = event("ok", "u1")
    accepted = pipeline.accept(workspace.id, [good, event("broken", "u2")])
    with session_factory() as s:
        # Corrupt one stored event so that it cannot be read back.
        s.execute(
            update(RawEvent)
            .where(RawEvent.external_id == "broken")
            .values(payload={"channel": "carrier-pigeon"})
        )
        s.commit()
    result = pipeline.process_pending(workspace.id, accepted.accepted)
    assert (result.processed, result.failed) == (1, 1)
    with session_factory() as s:
        failed = s.scalars(select(RawEvent).where(RawEvent.status == "failed")).one()
        assert failed.external_id == "broken" and "invalid stored event" in (failed.error or "")
        assert count(s, Message) == 1


def test_when_a_batch_cannot_be_processed_each_event_is_kept_and_retried_alone(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    def fussy_triage(
        session: Session, workspace_id: int, messages: Sequence[ProcessedMessage]
    ) -> dict[int, TriageVerdict]:
        if any(m.text == "boom" for m in messages):
            raise ValueError("classifier cannot read this message")
        return {m.message_id: TriageVerdict(needs_response=True) for m in messages}

    pipeline = Pipeline(session_factory, PipelineHooks(triage=fussy_triage))
    accepted, processed = pipeline.ingest(
        workspace.id, [event("ok", "u1"), event("bad", "u2", text="boom")]
    )
    assert len(accepted.accepted) == 2
    assert (processed.processed, processed.failed) == (1, 1)
    with session_factory() as s:
        assert count(s, RawEvent) == 2
        failed = s.scalars(select(RawEvent).where(RawEvent.status == "failed")).one()
        assert failed.external_id == "bad"
        assert failed.error == "ValueError: classifier cannot read this message"
        assert list(s.scalars(select(Message.external_id))) == ["ok"]


def test_ingesting_stores_raw_events_as_processed(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    Pipeline(session_factory).ingest(workspace.id, [event("1", "u1"), event("2", "u2")])
    with session_factory() as s:
        rows = s.scalars(select(RawEvent)).all()
    assert [(r.status, r.processed_at is not None) for r in rows] == [("processed", True)] * 2


def test_a_raw_event_is_stored_without_its_defaults_and_reads_back_the_same(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    quiet = event("1", "u1")
    liked = event("2", "u2", metrics={"likes": 4})
    Pipeline(session_factory).ingest(workspace.id, [quiet, liked])
    with session_factory() as s:
        payloads = {
            external_id: payload
            for external_id, payload in s.execute(select(RawEvent.external_id, RawEvent.payload))
        }
    assert "metrics" not in payloads["1"] and "references" not in payloads["1"]
    assert payloads["2"]["metrics"] == {"likes": 4}
    assert InboundEvent.model_validate(payloads["1"]) == quiet
    assert InboundEvent.model_validate(payloads["2"]) == liked


def test_messages_remember_the_brand_account_they_arrived_on(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    from socialdesk.channels.models import ChannelAccount

    with session_factory() as s:
        account = ChannelAccount(
            workspace_id=workspace.id, channel="x", external_id="acme-x", handle="@AcmeCare"
        )
        s.add(account)
        s.commit()
        account_id = account.id
    Pipeline(session_factory).ingest(
        workspace.id, [event("1", "u1", account="acme-x"), event("2", "u2", account="unknown")]
    )
    with session_factory() as s:
        accounts = dict(s.execute(select(Message.external_id, Message.channel_account_id)).all())
    assert accounts == {"1": account_id, "2": None}


def test_a_failing_side_effect_after_commit_does_not_fail_the_events(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    def broken_push(workspace_id: int, task_ids: Sequence[int]) -> None:
        raise ConnectionError("live updates are down")

    pipeline = Pipeline(session_factory, PipelineHooks(after_commit=[broken_push]))
    _, processed = pipeline.ingest(workspace.id, [event("1", "u1")])
    accepted = pipeline.accept(workspace.id, [event("2", "u2")])
    later = pipeline.process_pending(workspace.id, accepted.accepted)
    assert (processed.processed, processed.failed) == (1, 0)
    assert (later.processed, later.failed) == (1, 0)
    with session_factory() as s:
        assert set(s.scalars(select(RawEvent.status))) == {"processed"}
        assert count(s, Task) == 2


def test_ingest_commits_one_transaction_per_batch_of_the_size_asked_for(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    opened_per_commit: list[int] = []

    def record(workspace_id: int, task_ids: Sequence[int]) -> None:
        opened_per_commit.append(len(task_ids))

    pipeline = Pipeline(session_factory, PipelineHooks(after_commit=[record]), batch_size=2)
    # Each event is a new customer's post, so each opens one task.
    events = [event(str(i), f"u{i}", minutes=i) for i in range(12)]
    pipeline.ingest(workspace.id, events[:4])
    assert opened_per_commit == [2, 2]  # the pipeline's own batch size
    opened_per_commit.clear()
    pipeline.ingest(workspace.id, events[4:], batch_size=5)
    assert opened_per_commit == [5, 3]
    with session_factory() as s:
        assert count(s, Task) == 12


def test_a_file_import_commits_in_batches_of_the_size_asked_for(
    session_factory: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    from socialdesk.ingest.importer import import_files

    opened_per_commit: list[int] = []

    def record(workspace_id: int, task_ids: Sequence[int]) -> None:
        opened_per_commit.append(len(task_ids))

    source = tmp_path / "events.jsonl"
    source.write_text(
        "".join(event(str(i), f"u{i}", minutes=i).model_dump_json() + "\n" for i in range(7)),
        encoding="utf-8",
    )
    pipeline = Pipeline(session_factory, PipelineHooks(after_commit=[record]), batch_size=2)
    summary = import_files(pipeline, workspace.id, [source], batch_size=3)
    assert summary.accepted == 7
    assert opened_per_commit == [3, 3, 1]


def test_nul_characters_are_dropped_when_stored_so_the_rest_is_kept(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    pipeline = Pipeline(session_factory)
    accepted = pipeline.accept(
        workspace.id, [event("1\x00", text="router\x00down", author_fields={"name": "D\x00"})]
    )
    assert len(accepted.accepted) == 1
    pipeline.process_pending(workspace.id)
    pipeline.ingest(workspace.id, [event("2", text="still\x00down")])
    with session_factory() as s:
        texts = {row[0]: row[1] for row in s.execute(select(Message.external_id, Message.text))}
        assert texts == {"1": "routerdown", "2": "stilldown"}


def test_a_stored_batch_is_processed_with_the_garbage_collector_paused(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    """A worker's batch (process_pending) runs no collection inside its transaction, and
    collection is back on once it committed."""
    during: list[bool] = []
    hooks = PipelineHooks()
    hooks.on_tasks_changed.append(lambda _s, _ws, _ids: during.append(gc.isenabled()))
    pipeline = Pipeline(session_factory, hooks)
    accepted = pipeline.accept(workspace.id, [event("1", text="help")])
    assert gc.isenabled()
    assert pipeline.process_pending(workspace.id, accepted.accepted).processed == 1
    assert during == [False]
    assert gc.isenabled()


def test_a_frozen_heap_is_left_out_of_full_collections() -> None:
    gc.unfreeze()
    try:
        freeze_heap()
        assert gc.get_freeze_count() > 1000  # this process's modules and their objects
        assert gc.get_count()[0] < 100  # collected first: what was loaded is kept, not garbage
    finally:
        gc.unfreeze()


def test_a_batch_that_met_a_concurrent_writer_is_tried_again_whole(
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A deadlock with another worker's batch rolls the whole transaction back; the batch
    goes again in one transaction, not event by event (a transaction each)."""
    calls: list[int] = []

    def deadlocked_once(session: Session, workspace_id: int, task_ids: Sequence[int]) -> None:
        calls.append(len(task_ids))
        if len(calls) == 1:
            raise OperationalError("UPDATE conversations ...", {}, Exception("deadlock detected"))

    hooks = PipelineHooks()
    hooks.on_tasks_changed.append(deadlocked_once)
    pipeline = Pipeline(session_factory, hooks)
    events = [event(str(i), f"u{i}", text="help") for i in range(5)]
    accepted = pipeline.accept(workspace.id, events)
    with caplog.at_level(logging.INFO):
        result = pipeline.process_pending(workspace.id, accepted.accepted)
    assert result.processed == 5 and result.failed == 0
    assert calls == [5, 5]  # twice whole, never one at a time
    assert "one by one" not in caplog.text
    with session_factory() as s:
        assert count(s, Message) == 5
