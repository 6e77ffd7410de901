"""Work items: scored and given due times by the production code, content from ground truth
or from socialdesk's triage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from socialdesk.channels.events import InboundEvent, Party
from socialdesk.priority.scoring import ScoringInput, ValuePolicy, score_value
from socialdesk.priority.sla import BusinessHours, SlaPolicy
from socialdesk.simulation.handling import HandlingTimes
from socialdesk.simulation.items import build_items
from socialdesk.triage.taxonomies import DEFAULT_TAXONOMIES, Taxonomy, taxonomy_for_sector
from tests.simulation.factories import START, fixed_handling, items, message, vip_complaint


def test_items_carry_the_production_score_and_due_time() -> None:
    source = items([vip_complaint(0, 0), message(1, 5, channel="email", visibility="private")],
                   fixed_handling(3))  # fmt: skip
    vip, mail = source.items
    expected = score_value(
        ScoringInput(
            channel="x",
            visibility="public",
            created_at=START,
            kind="complaint",
            sentiment=-0.6,
            severity=0.9,
            customer_tier="platinum",
            lifetime_value=100.0,
            followers=500_000,
            verified=True,
        ),
        ValuePolicy(),
        START,
    )
    assert vip.value == expected.total
    assert vip.due_at == START + timedelta(minutes=30)  # X: 30 minutes
    assert mail.due_at == START + timedelta(minutes=5, hours=24)  # email: 24 hours
    assert vip.handling_minutes == 3.0


def test_items_without_a_response_or_for_another_team_are_left_out() -> None:
    praise = message(1, 1)
    praise.extra["sim"].update(kind="praise", needs_response=False)
    lead = message(2, 2)
    lead.extra["sim"].update(kind="sales_lead", route_to="sales")
    brand = InboundEvent(
        channel="x",
        external_id="b1",
        direction="outbound",
        author=Party(id="acme", is_brand=True),
        text="we're on it",
        created_at=START,
    )
    source = items([message(0, 0), praise, lead, brand], fixed_handling(3))
    assert [i.external_id for i in source.items] == ["e0"]
    assert (source.skipped_no_response, source.skipped_other_team) == (1, 1)
    assert source.skipped_outbound == 1


def test_triage_reads_the_content_when_asked() -> None:
    texts = [
        "@AcmeCare you charged me twice this month, I want a refund now",
        "EARN $5000 a week from home!!! click my bio",
    ]
    events = [
        InboundEvent(
            channel="x",
            external_id=f"t{n}",
            author=Party(id=f"u{n}"),
            text=text,
            created_at=START + timedelta(minutes=n),
        )
        for n, text in enumerate(texts)
    ]
    source = build_items(
        events,
        value_policy=ValuePolicy(),
        sla_policy=SlaPolicy(),
        handling=HandlingTimes(),
        seed=0,
        classify="triage",
    )
    assert source.classified == 2
    assert [i.external_id for i in source.items] == ["t0"]  # the spam needs no answer
    assert source.items[0].kind == "complaint"


def test_triage_reads_topics_with_the_taxonomy_it_is_given() -> None:
    event = InboundEvent(
        channel="x",
        external_id="t0",
        author=Party(id="u0"),
        text="@AcmeCare my internet has been down since this morning, please fix it",
        created_at=START,
    )
    telecom = DEFAULT_TAXONOMIES[taxonomy_for_sector("telecom")]

    def topic(taxonomy: Taxonomy | None) -> str | None:
        source = build_items(
            [event],
            value_policy=ValuePolicy(),
            sla_policy=SlaPolicy(),
            handling=HandlingTimes(),
            seed=0,
            classify="triage",
            taxonomy=taxonomy,
        )
        return source.items[0].topic

    assert topic(telecom) == "outage"
    assert topic(None) != "outage"  # the general list has no outage topic


def test_ground_truth_is_used_as_is_in_truth_mode() -> None:
    event = message(0, 0, kind="request")
    source = build_items(
        [event],
        value_policy=ValuePolicy(),
        sla_policy=SlaPolicy(),
        handling=HandlingTimes(),
        seed=0,
        classify="truth",
    )
    assert source.classified == 0
    assert source.items[0].kind == "request"
    with pytest.raises(ValueError, match="classify must be one of"):
        build_items(
            [event],
            value_policy=ValuePolicy(),
            sla_policy=SlaPolicy(),
            handling=HandlingTimes(),
            seed=0,
            classify="guess",
        )


def test_due_times_run_in_business_hours_when_given() -> None:
    # Monday 16:50, office hours 09:00-17:00: 10 minutes today, 20 tomorrow morning.
    office = BusinessHours.office()
    source = build_items(
        [message(0, 7 * 60 + 50)],
        value_policy=ValuePolicy(),
        sla_policy=SlaPolicy(),
        handling=HandlingTimes(),
        seed=0,
        hours=office,
    )
    assert source.items[0].due_at == datetime(2026, 11, 24, 9, 20, tzinfo=UTC)
