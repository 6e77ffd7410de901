"""Erasing a customer on request: afterwards no table holds their words, handles, email or
phone, every reference still resolves, and the counts the reports are built on stay."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, String, Text, func, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import JSON

import socialdesk.models  # noqa: F401  (registers every table)
from socialdesk.channels.models import DeadLetter
from socialdesk.compliance.erasure import erase_customer
from socialdesk.compliance.export import export_customer
from socialdesk.config import Settings
from socialdesk.conversations.actions import add_note
from socialdesk.conversations.models import Message
from socialdesk.conversations.replies import send_reply
from socialdesk.conversations.shift import move_to_email, schedule_callback
from socialdesk.core import audit
from socialdesk.core.audit import AuditEvent
from socialdesk.core.db import Base
from socialdesk.core.errors import NotFound
from socialdesk.core.models import Workspace
from socialdesk.customers.models import Customer, Identity
from socialdesk.eventhooks.relay import relay
from socialdesk.eventhooks.service import subscribe
from socialdesk.ingest.wiring import build_pipeline
from socialdesk.people.models import User
from socialdesk.triage.service import relabel
from tests.channels.helpers import T0, add_account, add_agent, inbound, message_by_external_id

NOW = T0 + timedelta(hours=2)
# What names Dana, or repeats her words: none of it may survive the erasure.
DANA_WORDS = "zanzibar-router-fiasco"
DANA_SECRETS = (DANA_WORDS, "cust42", "dana.private@example.org", "+44 7700 900123", "Dana")
BOB_WORDS = "bob-keeps-his-words"


def _ingest(engine: Engine, session_factory: sessionmaker[Session], ws: int, *events: Any) -> None:
    url = engine.url.render_as_string(hide_password=False)
    pipeline = build_pipeline(Settings(database_url=url), session_factory, clock=lambda: T0)
    pipeline.ingest(ws, list(events))


@pytest.fixture
def dana_and_bob(
    engine: Engine, session_factory: sessionmaker[Session], workspace: Workspace
) -> tuple[int, int]:
    """Dana: a public complaint, a DM, an email address and phone from the CRM, our reply, a
    note, a move to email, a callback, an agent's relabel, a failed raw event, a dead
    letter. Bob: one post, untouched by her erasure."""
    add_account(session_factory, workspace.id, "x")
    agent_id = add_agent(session_factory, workspace.id)
    # A CRM hears every message: the delivery log holds copies of Dana's words too.
    with session_factory() as s:
        subscribe(s, workspace.id, "https://crm.test/h", ["message.received"], "k", T0)
        relay(s, T0)
        s.commit()
    _ingest(
        engine,
        session_factory,
        workspace.id,
        inbound("1001", text=f"@AcmeCare my {DANA_WORDS} is terrible, I want a refund"),
        inbound("dm-1", text=f"DM about the {DANA_WORDS}", private=True, minutes=3),
        inbound(
            "2001",
            author="77",
            text=f"@AcmeCare {BOB_WORDS} praise you all",
            author_fields={"name": "Bob"},
        ),
    )
    with session_factory() as s:
        message = message_by_external_id(s, "1001")
        customer_id = (
            message.conversation_id
            and s.scalars(select(Identity.customer_id).where(Identity.external_id == "42")).one()
        )
        assert customer_id is not None
        customer = s.get(Customer, customer_id)
        assert customer is not None
        customer.email, customer.phone = "dana.private@example.org", "+44 7700 900123"
        customer.crm_fields = {"city": "Dana's town", "note": DANA_WORDS}
        # She edited her post: the first version is kept for the audit, and must go too.
        message.original_text = f"my {DANA_WORDS}!!"
        agent = s.get(User, agent_id)
        assert agent is not None
        conversation_id = message.conversation_id
        send_reply(
            s,
            workspace_id=workspace.id,
            conversation_id=conversation_id,
            author_user_id=agent_id,
            text="Sorry @cust42, we are on it",
            clock=lambda: NOW,
        )
        add_note(
            s,
            workspace_id=workspace.id,
            conversation_id=conversation_id,
            author=agent,
            text=f"Dana called about the {DANA_WORDS}",
            clock=lambda: NOW,
        )
        move_to_email(
            s,
            workspace_id=workspace.id,
            conversation_id=conversation_id,
            author_user_id=agent_id,
            reason="needs her account number",
            email="dana.private@example.org",
            text="Hello Dana, please send your account number",
            clock=lambda: NOW,
        )
        schedule_callback(
            s,
            workspace_id=workspace.id,
            conversation_id=conversation_id,
            author_user_id=agent_id,
            reason="Dana prefers a call",
            phone="+44 7700 900123",
            window_start=NOW + timedelta(hours=1),
            window_end=NOW + timedelta(hours=2),
            clock=lambda: NOW,
        )
        relabel(s, workspace.id, message.id, "kind", "complaint", user_id=agent_id)
        s.add(
            DeadLetter(
                workspace_id=workspace.id,
                channel="x",
                body=json.dumps({"user": "@cust42", "text": DANA_WORDS}),
                reason="could not be parsed",
            )
        )
        s.commit()
        relay(s, NOW)
        s.commit()
        bob = s.scalars(select(Identity.customer_id).where(Identity.external_id == "77")).one()
        assert bob is not None
        return customer_id, bob


def _text_columns(engine: Engine) -> list[tuple[str, str]]:
    columns = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String | Text | JSON) or "JSON" in str(column.type):
                columns.append((table.name, column.name))
    return columns


def _tables_holding(engine: Engine, needle: str) -> list[str]:
    """Every (table.column) where ``needle`` appears in any row: a search of the whole
    database, so tables added later are searched too."""
    found = []
    with engine.connect() as conn:
        for table, column in _text_columns(engine):
            cast = f'CAST("{column}" AS TEXT)'
            hits = conn.execute(
                text(f'SELECT count(*) FROM "{table}" WHERE {cast} LIKE :pattern'),
                {"pattern": f"%{needle}%"},
            ).scalar_one()
            if hits:
                found.append(f"{table}.{column}")
    return found


def _dangling_references(engine: Engine) -> list[str]:
    dangling = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for fk in table.foreign_keys:
                parent, target = fk.parent, fk.column
                count = conn.execute(
                    select(func.count())
                    .select_from(table)
                    .where(parent.isnot(None))
                    .where(~parent.in_(select(target)))
                ).scalar_one()
                if count:
                    dangling.append(f"{table.name}.{parent.name} -> {target.table.name}")
    return dangling


def test_the_scenario_holds_every_secret_before_the_erasure(
    engine: Engine, dana_and_bob: tuple[int, int]
) -> None:
    # Guards the test itself: each secret is really stored somewhere before it is erased.
    for secret in DANA_SECRETS:
        assert _tables_holding(engine, secret), secret


def test_after_erasure_no_table_holds_the_customers_text_handle_email_or_phone(
    engine: Engine,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    dana_and_bob: tuple[int, int],
) -> None:
    dana, _bob = dana_and_bob
    with session_factory() as s:
        count_before = s.scalar(select(func.count()).select_from(Message))
        report = erase_customer(
            s, workspace.id, dana, audit.Actor("admin@acme.test"), NOW, reason="art. 17 request"
        )
        s.commit()
        assert report.messages >= 3 and report.identities == 1 and report.dead_letters == 1
    for secret in DANA_SECRETS:
        assert _tables_holding(engine, secret) == [], secret
    assert _dangling_references(engine) == []
    with session_factory() as s:
        # The counts behind the reports stay.
        assert s.scalar(select(func.count()).select_from(Message)) == count_before
        customer = s.get(Customer, dana)
        assert customer is not None and customer.erased_at is not None
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "customer.erased")).one()
        assert event.actor == "admin@acme.test" and event.target_id == str(dana)
        assert event.after["messages"] == report.messages


def test_another_customer_keeps_everything(
    engine: Engine,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    dana_and_bob: tuple[int, int],
) -> None:
    dana, _bob = dana_and_bob
    with session_factory() as s:
        erase_customer(s, workspace.id, dana, audit.default_actor(), NOW)
        s.commit()
    assert "messages.text" in _tables_holding(engine, BOB_WORDS)


def test_customers_merged_into_them_are_erased_with_them(
    engine: Engine,
    session_factory: sessionmaker[Session],
    workspace: Workspace,
    dana_and_bob: tuple[int, int],
) -> None:
    dana, _bob = dana_and_bob
    _ingest(
        engine,
        session_factory,
        workspace.id,
        inbound("3001", author="4242", text="second account: dana-alt-words", minutes=30),
    )
    with session_factory() as s:
        alt = s.scalars(select(Identity.customer_id).where(Identity.external_id == "4242")).one()
        alt_customer = s.get(Customer, alt)
        assert alt_customer is not None
        alt_customer.merged_into_id = dana
        s.commit()
        erase_customer(s, workspace.id, dana, audit.default_actor(), NOW)
        s.commit()
    assert _tables_holding(engine, "dana-alt-words") == []


def test_another_workspaces_customer_is_not_found(
    session_factory: sessionmaker[Session], dana_and_bob: tuple[int, int]
) -> None:
    dana, _bob = dana_and_bob
    with session_factory() as s:
        other = Workspace(slug="other", name="Other brand")
        s.add(other)
        s.flush()
        with pytest.raises(NotFound):
            erase_customer(s, other.id, dana, audit.default_actor(), NOW)


def test_the_export_holds_every_part_of_the_customers_data(
    session_factory: sessionmaker[Session], workspace: Workspace, dana_and_bob: tuple[int, int]
) -> None:
    dana, _bob = dana_and_bob
    with session_factory() as s:
        data = export_customer(s, workspace.id, dana, audit.Actor("admin@acme.test"), NOW)
        s.commit()
        exported = select(AuditEvent.target_id).where(AuditEvent.action == "customer.exported")
        assert s.scalars(exported).all() == [str(dana)]
    json.dumps(data)  # plain JSON values only
    assert data["customer"]["email"] == "dana.private@example.org"
    assert data["customer"]["crm_fields"]["note"] == DANA_WORDS
    assert [i["handle"] for i in data["identities"]] == ["cust42"]
    (case,) = data["cases"]
    texts = [m["text"] for m in case["messages"]]
    assert any(DANA_WORDS in t for t in texts) and any("on it" in t for t in texts)
    assert all(m["triage"] is not None for m in case["messages"] if m["direction"] == "inbound")
    assert case["notes"] and case["tasks"] and case["deliveries"]
    assert case["channel_shifts"] and case["callbacks"][0]["phone"] == "+44 7700 900123"
    assert BOB_WORDS not in json.dumps(data)


def test_the_audit_log_refuses_to_change_a_recorded_event(
    engine: Engine, session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        audit.record(s, workspace.id, audit.default_actor(), "user.created", "user", 1)
        s.commit()
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'someone else'"))
    assert inspect(engine).has_table("audit_events")


def test_erasure_deletes_the_claims_of_the_customers_handles(
    pg_engine: Engine, pg_factory: sessionmaker[Session], pg_workspace: int
) -> None:
    """Scale mode claims each new handle under a hash of it (PostgreSQL): an erased customer's
    claims go with the rest, another's stay."""
    from socialdesk.customers.identity import handle_key
    from socialdesk.customers.models import HandleClaim

    _ingest(
        pg_engine,
        pg_factory,
        pg_workspace,
        inbound("1", author="d1", text="my router is broken", author_fields={"handle": "Dana"}),
        inbound("2", author="b1", text="all good", author_fields={"handle": "bob"}),
    )
    with pg_factory() as s:
        claims = set(s.scalars(select(HandleClaim.handle_key)))
        assert claims == {handle_key(pg_workspace, "dana"), handle_key(pg_workspace, "bob")}
        dana = s.scalar(select(Identity.customer_id).where(Identity.external_id == "d1"))
        assert dana is not None
        erase_customer(s, pg_workspace, dana, audit.default_actor(), NOW)
        s.commit()
        assert set(s.scalars(select(HandleClaim.handle_key))) == {handle_key(pg_workspace, "bob")}
