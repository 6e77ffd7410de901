"""Customer value from the CRM: matching on handle, email or phone, and what is reported."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from socialdesk.config import Settings
from socialdesk.core.db import unit_of_work
from socialdesk.core.models import Workspace
from socialdesk.core.work import Task
from socialdesk.customers.crm_import import apply_records, read_records
from socialdesk.customers.models import Customer, Identity
from socialdesk.priority.service import rescore_customers
from socialdesk.web.api_tokens import create_token
from tests.routing.factories import task

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def person(
    factory: sessionmaker[Session],
    ws: int,
    handle: str,
    *,
    channel: str = "x",
    email: str | None = None,
    phone: str | None = None,
) -> int:
    with factory() as s:
        customer = Customer(workspace_id=ws, display_name=handle, email=email, phone=phone)
        s.add(customer)
        s.flush()
        s.add(
            Identity(
                workspace_id=ws,
                customer_id=customer.id,
                channel=channel,
                external_id=f"{channel}-{handle}",
                handle=handle,
            )
        )
        s.commit()
        return customer.id


def customer(factory: sessionmaker[Session], customer_id: int) -> Customer:
    with factory() as s:
        found = s.get(Customer, customer_id)
        assert found is not None
        return found


def import_file(factory: sessionmaker[Session], ws: int, path: Path):  # type: ignore[no-untyped-def]
    with unit_of_work(factory) as s:
        return apply_records(s, ws, read_records(path), NOW)


def test_a_csv_sets_tier_value_and_demographics_matching_any_key(
    session_factory: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    dana = person(session_factory, workspace.id, "dana")
    lee = person(session_factory, workspace.id, "lee", email="lee@mail.test")
    kim = person(session_factory, workspace.id, "kim", phone="+4915112345678")
    crm = tmp_path / "crm.csv"
    crm.write_text(
        "handle,email,phone,tier,lifetime_value,age,city\n"
        "@Dana,,,Gold,1200.50,34,Lyon\n"
        ",LEE@mail.test,,platinum,25000,,Zürich\n"
        ",,+49 151 1234 5678,silver,80,51,\n",
        encoding="utf-8",
    )
    report = import_file(session_factory, workspace.id, crm)
    assert (report.read, report.updated) == (3, 3)
    assert report.unmatched == report.ambiguous == report.rejected == []
    d, l_, k = (customer(session_factory, i) for i in (dana, lee, kim))
    assert (d.tier, d.lifetime_value, d.crm_fields) == (
        "gold",
        Decimal("1200.50"),
        {"age": "34", "city": "Lyon"},
    )
    assert (l_.tier, l_.crm_fields) == ("platinum", {"city": "Zürich"})
    assert (k.tier, k.lifetime_value) == ("silver", Decimal("80.00"))


def test_rows_matching_no_one_or_several_are_reported_and_change_nothing(
    session_factory: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    on_x = person(session_factory, workspace.id, "sam", channel="x")
    on_fb = person(session_factory, workspace.id, "sam", channel="facebook")
    crm = tmp_path / "crm.jsonl"
    crm.write_bytes(
        b'{"handle": "nobody", "tier": "gold"}\n'
        b'{"handle": "sam", "tier": "gold"}\n'
        b'{"handle": "sam", "channel": "facebook", "tier": "vip"}\n'
        b'{"tier": "gold"}\n'
        b"not json\n"
        b'{"email": "x@y.test", "lifetime_value": "lots"}\n'
        b'{"handle": "\xff\xfe"}\n'
    )
    report = import_file(session_factory, workspace.id, crm)
    assert report.read == 7 and report.updated == 1
    assert [(p.line, p.reason) for p in report.unmatched] == [(1, "matches no customer")]
    assert [p.line for p in report.ambiguous] == [2]
    assert "matches 2 customers" in report.ambiguous[0].reason
    assert {p.line: p.reason for p in report.rejected} == {
        4: "no handle, email or phone to match on",
        5: "not JSON: Expecting value",
        6: "lifetime_value 'lots' is not a number",
        7: "not valid UTF-8",
    }
    assert customer(session_factory, on_x).tier is None
    assert customer(session_factory, on_fb).tier == "vip"


def test_new_crm_value_re_scores_the_customers_waiting_tasks(
    session_factory: sessionmaker[Session], workspace: Workspace, tmp_path: Path
) -> None:
    vip = person(session_factory, workspace.id, "vip")
    waiting = task(session_factory, workspace.id, customer_id=vip, priority=5.0)
    with session_factory() as s:
        before = s.scalars(select(Task.value_score).where(Task.id == waiting)).one()
    crm = tmp_path / "crm.csv"
    crm.write_text("handle,tier\nvip,platinum\n", encoding="utf-8")
    with unit_of_work(session_factory) as s:
        report = apply_records(s, workspace.id, read_records(crm), NOW)
        assert rescore_customers(s, workspace.id, report.customer_ids, NOW) == [waiting]
    with session_factory() as s:
        row = s.get(Task, waiting)
        assert row is not None
        assert row.customer_tier == "platinum"
        assert row.value_breakdown["customer_value"] == pytest.approx(20.0)
        assert row.value_score > before


def test_the_cli_imports_and_summarises(
    engine: Engine, workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from socialdesk.cli import app
    from socialdesk.config import get_settings
    from socialdesk.core.db import make_session_factory

    factory = make_session_factory(engine)
    person(factory, workspace.id, "dana")
    monkeypatch.setenv("SOCIALDESK_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SOCIALDESK_DEFAULT_WORKSPACE", workspace.slug)
    get_settings.cache_clear()
    crm = tmp_path / "crm.csv"
    crm.write_text("handle,tier\ndana,gold\nghost,gold\n", encoding="utf-8")
    report = tmp_path / "report.json"
    try:
        result = CliRunner().invoke(app, ["customers", "import", str(crm), "--report", str(report)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "read 2, updated 1, unmatched 1, ambiguous 0, rejected 0" in result.output
    assert json.loads(report.read_text())["unmatched"] == [
        {"line": 3, "reason": "matches no customer"}
    ]
    assert customer(factory, _only_customer(factory)).tier == "gold"


def _only_customer(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        return s.scalars(select(Customer.id)).one()


def test_the_live_endpoint_applies_records_and_reports_by_index(
    engine: Engine, workspace: Workspace
) -> None:
    from socialdesk.core.db import make_session_factory
    from socialdesk.web.app import create_app

    factory = make_session_factory(engine)
    dana = person(factory, workspace.id, "dana", email="dana@mail.test")
    app = create_app(Settings(default_workspace=workspace.slug), engine=engine, migrate=False)
    client = TestClient(app)
    record = {"records": [{"email": "dana@mail.test", "tier": "gold"}]}
    assert client.post("/api/v1/crm/customers", json=record).status_code == 401
    for role in ("agent", "supervisor"):
        with factory() as s:
            token = create_token(s, workspace.id, f"CRM as {role}", role)
            s.commit()
        client.headers.update({"Authorization": f"Bearer {token.secret}"})
        if role == "agent":
            assert client.post("/api/v1/crm/customers", json=record).status_code == 403
    assert customer(factory, dana).tier is None
    response = client.post(
        "/api/v1/crm/customers",
        json={
            "records": [
                {"email": "Dana@Mail.test", "tier": "vip", "segment": "b2b"},
                {"phone": "12"},
                {"handle": "ghost"},
            ]
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["read"], body["updated"]) == (3, 1)
    assert body["rejected"] == [{"index": 1, "reason": "phone '12' has too few digits"}]
    assert body["unmatched"] == [{"index": 2, "reason": "matches no customer"}]
    found = customer(factory, dana)
    assert (found.tier, found.crm_fields) == ("vip", {"segment": "b2b"})
