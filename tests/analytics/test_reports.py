"""Business reports and exports over a real database (SQLite, and PostgreSQL with
SOCIALDESK_TEST_DB=postgresql): what is counted, where the timezone's days and hours begin,
and what an erased customer leaves behind."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from socialdesk.analytics.exports import export_chunks
from socialdesk.analytics.report_metrics import report_range
from socialdesk.analytics.reports import build_report
from socialdesk.channels.models import ChannelShift, KbLink
from socialdesk.compliance.erasure import erase_customer
from socialdesk.conversations.models import Conversation, Message
from socialdesk.core import audit
from socialdesk.core.models import Workspace
from socialdesk.core.work import TaskAssignment
from socialdesk.people.models import Team, User
from tests.analytics.factories import exchange

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DAY1 = datetime(2026, 11, 23, tzinfo=UTC)
DAY2 = datetime(2026, 11, 24, tzinfo=UTC)


@pytest.fixture
def story(session_factory: sessionmaker[Session], workspace: Workspace) -> dict[str, int]:
    """Two days of a small team's work, and cases just outside them."""
    with session_factory() as s:
        team = Team(workspace_id=workspace.id, name="Care North")
        ana = User(workspace_id=workspace.id, email="ana@acme.test", name="Ana", role="agent")
        ben = User(workspace_id=workspace.id, email="ben@acme.test", name="Ben", role="agent")
        s.add_all([team, ana, ben])
        s.flush()
        ids = {}
        # Answered in 10 min (within 30), the customer again, answered in 30, resolved at 2 h.
        # Given to Ana at 2 min; she moves the customer to e-mail and sends a help link
        # they open; the customer's mood goes from -0.8 to +0.4.
        alpha_at = DAY1 + timedelta(hours=9)
        ids["a"], alpha_task = exchange(
            s,
            workspace.id,
            at=alpha_at,
            steps=[("out", 10), ("in", 60), ("out", 90)],
            text="alpha-words about my router",
            team_id=team.id,
            agent_id=ana.id,
            resolved_after=120,
            sentiments=(-0.8, 0.4),
        )
        assert alpha_task is not None
        s.add(
            TaskAssignment(
                workspace_id=workspace.id,
                task_id=alpha_task,
                user_id=ana.id,
                channel="x",
                assigned_at=alpha_at + timedelta(minutes=2),
            )
        )
        answer = s.scalars(
            select(Message.id).where(
                Message.conversation_id == ids["a"], Message.direction == "outbound"
            )
        ).first()
        s.add(
            ChannelShift(
                workspace_id=workspace.id,
                conversation_id=ids["a"],
                kind="email",
                from_channel="x",
                to_channel="email",
                reason="account details",
                created_by_user_id=ana.id,
            )
        )
        s.add(
            KbLink(
                workspace_id=workspace.id,
                conversation_id=ids["a"],
                message_id=answer,
                url="https://help.acme.test/router",
                token="t-router",
                click_count=2,
            )
        )
        # Answered after 45 min: late.
        exchange(
            s,
            workspace.id,
            at=DAY1 + timedelta(hours=10),
            steps=[("out", 45)],
            channel="facebook",
            kind="question",
            topic="billing",
            agent_id=ben.id,
        )
        # Never answered, past due; still inside its target; chatter that asked nothing.
        exchange(s, workspace.id, at=DAY2 + timedelta(hours=8), steps=[], channel="email")
        exchange(s, workspace.id, at=NOW - timedelta(minutes=10), steps=[])
        exchange(
            s,
            workspace.id,
            at=DAY2 + timedelta(hours=9),
            steps=[],
            kind="other",
            topic="chatter",
            task=False,
        )
        # A second before the range and the first second after it.
        exchange(s, workspace.id, at=DAY1 - timedelta(seconds=1), steps=[("out", 5)])
        exchange(s, workspace.id, at=DAY2 + timedelta(days=1), steps=[])
        s.commit()
        return ids


def _report(session: Session, ws: int, first: date, last: date, tz: str = "UTC", **kw: str):  # type: ignore[no-untyped-def]
    span = report_range(first, last, tz)
    return build_report(session, ws, span, bucket=kw.get("bucket", "day"), now=NOW)


def test_the_report_of_two_days(
    session: Session, workspace: Workspace, story: dict[str, int]
) -> None:
    report = _report(session, workspace.id, DAY1.date(), DAY2.date())
    total = report.total.summary()
    # The answer (at 00:04:59) to the case opened a second before the range counts as
    # written in the range; the case itself does not.
    assert (total["inbound"], total["outbound"]) == (6, 4)
    assert (total["conversations"], total["needing_response"], total["answered"]) == (5, 4, 2)
    assert total["response_rate"] == 0.5
    assert (total["first_response_p50"], total["first_response_p90"]) == (1650, 2490)
    assert (total["next_responses"], total["next_response_p50"]) == (1, 1800)
    assert (total["resolved"], total["resolution_p50"]) == (1, 7200)
    assert (total["sla_met"], total["sla_breached"], total["sla_pending"]) == (1, 2, 1)
    assert total["sla_attainment"] == pytest.approx(0.3333)
    assert (total["handling_p50"], total["channel_shifts"]) == (480, 1)
    assert (total["kb_links_sent"], total["kb_links_opened"]) == (1, 1)
    # Only the first case has two scored messages of the customer.
    assert (total["sentiment_cases"], total["sentiment_change_mean"]) == (1, 1.2)

    agents = report.breakdowns["agent"]
    assert (agents["Ana"].inbound, agents["Ana"].outbound, agents["Ana"].sla_met) == (2, 2, 1)
    assert agents["Ana"].channel_shifts == 1 and agents["Ben"].channel_shifts == 0
    assert agents["Ben"].first_response.tolist() == [2700.0]
    assert agents["unassigned"].needing_response == 2 and agents["none"].conversations == 1
    assert (agents["unassigned"].inbound, agents["none"].inbound) == (2, 1)
    assert report.breakdowns["team"]["Care North"].resolved == 1
    channels = report.breakdowns["channel"]
    assert {c: f.inbound for c, f in channels.items()} == {"x": 4, "facebook": 1, "email": 1}
    assert report.breakdowns["topic"]["billing"].sla_breached == 1
    assert report.breakdowns["kind"]["other"].needing_response == 0
    days = report.buckets
    assert list(days) == ["2026-11-23", "2026-11-24"]
    assert (days["2026-11-23"].conversations, days["2026-11-24"].conversations) == (2, 3)
    as_json = json.loads(json.dumps(report.as_dict()))
    assert as_json["range"]["start"] == "2026-11-23T00:00:00+00:00"
    assert as_json["breakdowns"]["agent"]["Ana"]["first_response_p50"] == 600
    assert [b["bucket"] for b in as_json["buckets"]] == ["2026-11-23", "2026-11-24"]


def test_days_begin_at_the_timezones_midnight(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        late = datetime(2026, 11, 30, 22, 59, 59, tzinfo=UTC)  # 23:59:59 in Paris
        exchange(s, workspace.id, at=late, steps=[("out", 1 / 60)])  # answered at 23:00 UTC
        s.commit()
        paris_dec = _report(s, workspace.id, date(2026, 12, 1), date(2026, 12, 1), "Europe/Paris")
        # The case began on the 30th in Paris; our answer was written on the 1st.
        assert (paris_dec.total.inbound, paris_dec.total.outbound) == (0, 1)
        assert paris_dec.total.conversations == 0
        paris_nov = _report(s, workspace.id, date(2026, 11, 30), date(2026, 11, 30), "Europe/Paris")
        assert (paris_nov.total.inbound, paris_nov.total.conversations) == (1, 1)
        utc_nov = _report(s, workspace.id, date(2026, 11, 30), date(2026, 11, 30))
        assert (utc_nov.total.inbound, utc_nov.total.outbound) == (1, 1)
        hours = _report(
            s, workspace.id, date(2026, 11, 30), date(2026, 12, 1), "Europe/Paris", bucket="hour"
        ).buckets
        assert hours["2026-11-30T23:00+01:00"].inbound == 1
        assert hours["2026-12-01T00:00+01:00"].outbound == 1


def test_the_night_the_clocks_go_back_has_two_one_oclock_hours(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    with session_factory() as s:
        for at in (
            datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # 01:30 EDT
            datetime(2026, 11, 1, 6, 30, tzinfo=UTC),  # 01:30 EST
            datetime(2026, 11, 2, 4, 59, tzinfo=UTC),  # 23:59 EST, still the 1st
            datetime(2026, 11, 2, 5, 0, tzinfo=UTC),  # the 2nd
        ):
            exchange(s, workspace.id, at=at, steps=[])
        s.commit()
        report = _report(
            s, workspace.id, date(2026, 11, 1), date(2026, 11, 1), "America/New_York", bucket="hour"
        )
        assert len(report.buckets) == 25 and report.total.inbound == 3
        assert report.buckets["2026-11-01T01:00-04:00"].inbound == 1
        assert report.buckets["2026-11-01T01:00-05:00"].inbound == 1
        assert report.buckets["2026-11-01T23:00-05:00"].conversations == 1


def test_quarter_hour_zones_count_messages_by_their_own_midnight(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    """Messages are counted per quarter hour in the database: Kathmandu's day (UTC+5:45)
    begins at 18:15 UTC, so a message at 18:14:59 belongs to the day before."""
    with session_factory() as s:
        exchange(
            s,
            workspace.id,
            at=datetime(2026, 6, 1, 18, 14, 59, tzinfo=UTC),
            steps=[("out", 1 / 60), ("in", 30)],
        )
        s.commit()
        june2 = _report(s, workspace.id, date(2026, 6, 2), date(2026, 6, 2), "Asia/Kathmandu")
        assert (june2.total.inbound, june2.total.outbound) == (1, 1)
        both = _report(s, workspace.id, date(2026, 6, 1), date(2026, 6, 2), "Asia/Kathmandu")
        assert both.buckets["2026-06-01"].inbound == 1
        assert both.buckets["2026-06-02"].outbound == 1 and both.buckets["2026-06-02"].inbound == 1
        hours = _report(
            s, workspace.id, date(2026, 6, 2), date(2026, 6, 2), "Asia/Kathmandu", bucket="hour"
        ).buckets
        assert hours["2026-06-02T00:00+05:45"].outbound == 1
        assert hours["2026-06-02T00:00+05:45"].inbound == 1  # 00:29:59 local


def _csv(session: Session, ws: int, kind: str, tz: str = "UTC") -> list[dict[str, str]]:
    span = report_range(DAY1.date(), DAY2.date(), tz)
    text = "".join(export_chunks(session, ws, kind, span, "csv", NOW))
    return list(csv.DictReader(io.StringIO(text)))


def test_exports_carry_each_row_with_its_service_level_outcome(
    session: Session, workspace: Workspace, story: dict[str, int]
) -> None:
    cases = _csv(session, workspace.id, "conversations")
    assert len(cases) == 5
    alpha = next(c for c in cases if int(c["id"]) == story["a"])
    assert (alpha["agent"], alpha["team"], alpha["sla_outcome"]) == ("Ana", "Care North", "met")
    assert float(alpha["first_response_seconds"]) == 600
    assert (alpha["next_responses"], float(alpha["resolution_seconds"])) == ("1", 7200)
    assert (float(alpha["handling_seconds"]), float(alpha["sentiment_change"])) == (480, 1.2)
    assert (alpha["channel_shifts"], alpha["kb_links_sent"], alpha["kb_links_opened"]) == (
        "1",
        "1",
        "1",
    )
    assert sorted(c["sla_outcome"] for c in cases) == [
        "breached",
        "breached",
        "met",
        "none",
        "pending",
    ]
    tasks = _csv(session, workspace.id, "tasks")
    assert len(tasks) == 4 and {t["queue"] for t in tasks} == {"care"}
    messages = _csv(session, workspace.id, "messages")
    assert len(messages) == 10
    assert [m["created_at"] for m in messages] == sorted(m["created_at"] for m in messages)
    first = messages[1]  # messages[0] is our answer to the case of the day before
    assert first["created_at"] == "2026-11-23T09:00:00+00:00" and first["kind"] == "complaint"
    # Tokyo's 23rd began at 15:00 UTC on the 22nd: the case of 23:59:59 is in its range.
    tokyo = _csv(session, workspace.id, "messages", "Asia/Tokyo")
    assert len(tokyo) == 11 and tokyo[0]["local_time"] == "2026-11-23T08:59:59+09:00"
    assert {m["agent"] for m in messages if m["direction"] == "outbound"} == {"Ana", "Ben", ""}
    span = report_range(DAY1.date(), DAY2.date())
    lines = "".join(export_chunks(session, workspace.id, "tasks", span, "jsonl", NOW))
    rows = [json.loads(line) for line in lines.splitlines()]
    assert len(rows) == 4 and rows[0]["conversation_started_at"].startswith("2026-11-23T09:00")


def test_an_erased_customer_leaves_the_exports_text_and_the_counts_stay(
    session_factory: sessionmaker[Session], workspace: Workspace, story: dict[str, int]
) -> None:
    with session_factory() as s:
        before = _report(s, workspace.id, DAY1.date(), DAY2.date()).as_dict()
        assert "alpha-words" in "".join(m["text"] for m in _csv(s, workspace.id, "messages"))
        conv = s.get(Conversation, story["a"])
        assert conv is not None and conv.customer_id is not None
        erase_customer(s, workspace.id, conv.customer_id, audit.default_actor(), NOW)
        s.commit()
    with session_factory() as s:
        after = _report(s, workspace.id, DAY1.date(), DAY2.date()).as_dict()
        before.pop("generated_at"), after.pop("generated_at")
        assert after == before
        messages = _csv(s, workspace.id, "messages")
        assert len(messages) == 10
        assert not any("alpha-words" in m["text"] for m in messages)
        assert any("my router is down" in m["text"] for m in messages)  # others keep theirs


def test_a_post_never_becomes_a_spreadsheet_formula(
    session_factory: sessionmaker[Session], workspace: Workspace
) -> None:
    payload = '=HYPERLINK("http://evil.test","refund")'
    with session_factory() as s:
        exchange(s, workspace.id, at=DAY1 + timedelta(hours=1), steps=[], text=payload)
        s.commit()
        (row,) = _csv(s, workspace.id, "messages")
        assert row["text"] == "'" + payload
        span = report_range(DAY1.date(), DAY1.date())
        lines = "".join(export_chunks(s, workspace.id, "messages", span, "jsonl", NOW))
        assert json.loads(lines)["text"] == payload  # JSON keeps it as written
