"""What each business-report figure means, as specifications of the pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from socialdesk.analytics.exports import spreadsheet_safe
from socialdesk.analytics.report_metrics import (
    CaseFacts,
    Figures,
    ReportTally,
    SlaOutcome,
    Turn,
    add_case,
    bucket_keys,
    bucket_of,
    handling_seconds,
    percentile,
    range_from_params,
    report_range,
    response_turns,
    sentiment_change,
    sla_outcome,
    zone,
)
from socialdesk.core.errors import InvalidInput

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def test_percentiles_interpolate_between_the_closest_ranks() -> None:
    assert percentile([4, 1, 3, 2], 0.5) == 2.5
    assert percentile(list(range(1, 11)), 0.9) == pytest.approx(9.1)
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([], 0.5) is None
    assert percentile([10, 20], 0.0) == 10 and percentile([10, 20], 1.0) == 20


def test_a_range_runs_from_the_first_local_midnight_to_the_one_after_the_last_day() -> None:
    span = report_range(date(2026, 11, 1), date(2026, 11, 30), "Europe/Paris")
    assert span.start == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    assert span.end == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert len(bucket_keys(span, "day")) == 30


def test_bucket_edges_follow_the_chosen_timezone() -> None:
    paris = zone("Europe/Paris")
    assert bucket_of(datetime(2026, 11, 30, 22, 59, 59, tzinfo=UTC), paris, "day") == "2026-11-30"
    assert bucket_of(datetime(2026, 11, 30, 23, 0, tzinfo=UTC), paris, "day") == "2026-12-01"
    # The same instant is still the 30th in UTC and in New York.
    assert bucket_of(datetime(2026, 11, 30, 23, 0, tzinfo=UTC), zone("UTC"), "day") == "2026-11-30"
    hour = bucket_of(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), paris, "hour")
    assert hour == "2026-12-01T00:00+01:00"
    # Naive datetimes (SQLite) are UTC.
    assert bucket_of(datetime(2026, 11, 30, 23, 0), paris, "day") == "2026-12-01"


def test_the_day_the_clocks_go_forward_has_23_hours_and_back_25() -> None:
    spring = report_range(date(2026, 3, 29), date(2026, 3, 29), "Europe/Paris")
    hours = bucket_keys(spring, "hour")
    assert len(hours) == 23 and "2026-03-29T02:00+01:00" not in hours
    assert spring.end - spring.start == timedelta(hours=23)
    autumn = report_range(date(2026, 11, 1), date(2026, 11, 1), "America/New_York")
    hours = bucket_keys(autumn, "hour")
    assert len(hours) == 25
    assert hours[1:3] == ["2026-11-01T01:00-04:00", "2026-11-01T01:00-05:00"]
    # Quarter-hour zones and a midnight that does not exist (Santiago springs 00:00 -> 01:00).
    kathmandu = report_range(date(2026, 6, 1), date(2026, 6, 1), "Asia/Kathmandu")
    assert kathmandu.start == datetime(2026, 5, 31, 18, 15, tzinfo=UTC)
    assert len(bucket_keys(kathmandu, "hour")) == 24
    santiago = report_range(date(2026, 9, 6), date(2026, 9, 6), "America/Santiago")
    assert santiago.start == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
    assert bucket_keys(santiago, "hour")[0] == "2026-09-06T01:00-03:00"


def test_ranges_refuse_what_they_cannot_mean() -> None:
    with pytest.raises(InvalidInput, match="unknown timezone"):
        zone("Mars/Olympus")
    with pytest.raises(InvalidInput, match="unknown timezone"):
        zone("America")
    with pytest.raises(InvalidInput, match="before it starts"):
        report_range(date(2026, 11, 2), date(2026, 11, 1))
    with pytest.raises(InvalidInput, match="at most"):
        report_range(date(2020, 1, 1), date(2026, 1, 1))
    with pytest.raises(InvalidInput, match="between 1970 and 2999"):
        report_range(date(9999, 12, 31), date(9999, 12, 31))
    with pytest.raises(InvalidInput, match="hour buckets"):
        bucket_keys(report_range(date(2026, 1, 1), date(2026, 6, 1)), "hour")
    with pytest.raises(InvalidInput, match="from must be a date"):
        range_from_params("yesterday", None, "UTC", T0)


def test_the_default_range_is_the_week_up_to_today_in_the_timezone() -> None:
    late = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # still the 22nd in New York
    span = range_from_params(None, None, "America/New_York", late)
    assert (span.first, span.last) == (date(2026, 11, 16), date(2026, 11, 22))
    span = range_from_params("2026-11-01", "2026-11-03", None, late)
    assert (span.first, span.last, span.tz_name) == (date(2026, 11, 1), date(2026, 11, 3), "UTC")


def test_a_turn_runs_from_the_customers_first_message_to_our_next_answer() -> None:
    messages = [
        (False, minutes(-5)),  # our post before anyone wrote: no turn
        (True, minutes(0)),
        (True, minutes(3)),  # the same turn
        (False, minutes(10)),  # first response: 10 min
        (False, minutes(11)),  # a follow-up closes nothing
        (True, minutes(60)),
        (False, minutes(90)),  # next response: 30 min
        (True, minutes(200)),  # still waiting
    ]
    turns = response_turns(messages)
    assert turns == [
        Turn(minutes(0), minutes(10)),
        Turn(minutes(60), minutes(90)),
        Turn(minutes(200), None),
    ]
    assert [t.seconds for t in turns] == [600, 1800, None]
    assert response_turns([]) == []


def test_handling_runs_from_the_first_assignment_to_our_next_message() -> None:
    messages = [(True, minutes(0)), (False, minutes(3)), (True, minutes(5)), (False, minutes(30))]
    assert handling_seconds(messages, minutes(4)) == 26 * 60  # our 3-minute answer came before
    assert handling_seconds(messages, minutes(3)) == 0
    assert handling_seconds(messages, minutes(31)) is None  # not answered since
    assert handling_seconds(messages, None) is None  # never assigned


def test_sentiment_change_is_the_last_scored_message_minus_the_first() -> None:
    assert sentiment_change([-0.8, None, 0.1, 0.4]) == pytest.approx(1.2)
    assert sentiment_change([0.5, None]) is None
    assert sentiment_change([]) is None


@pytest.mark.parametrize(
    ("status", "due", "answered", "breaches", "reopens", "outcome"),
    [
        ("pending", 30, 20, 0, 0, SlaOutcome.MET),
        ("pending", 30, 35, 0, 0, SlaOutcome.BREACHED),  # answered late
        ("done", 30, 35, 0, 2, SlaOutcome.MET),  # later periods: the monitor's count decides
        ("done", 30, 20, 1, 1, SlaOutcome.BREACHED),  # a later period breached
        ("open", 30, None, 0, 0, SlaOutcome.PENDING),  # due in the future
        ("assigned", -1, None, 0, 0, SlaOutcome.BREACHED),  # waiting past due
        ("done", 30, None, 0, 0, SlaOutcome.NONE),  # closed without an answer
        ("pending", None, 20, 0, 0, SlaOutcome.NONE),  # no target
    ],
)
def test_service_level_outcomes(
    status: str,
    due: int | None,
    answered: int | None,
    breaches: int,
    reopens: int,
    outcome: str,
) -> None:
    assert (
        sla_outcome(
            status=status,
            due_at=None if due is None else minutes(due),
            first_response_at=None if answered is None else minutes(answered),
            breach_count=breaches,
            reopen_count=reopens,
            now=minutes(0),
        )
        == outcome
    )


def case(
    *,
    task: bool = True,
    turns: list[Turn] | None = None,
    resolved: float | None = None,
    sla: str,
    mood: float | None = None,
    shifts: int = 0,
) -> CaseFacts:
    return CaseFacts(
        started_at=T0,
        labels={"channel": "x", "agent": "Ana"},
        has_task=task,
        turns=turns or [],
        resolved_at=None if resolved is None else minutes(resolved),
        sla=sla,
        handling_seconds=None if not turns else 60.0,
        sentiment_change=mood,
        shifts=shifts,
        kb_links=shifts,
    )


def test_figures_of_cases() -> None:
    figures = Figures()
    add_case(
        figures,
        case(turns=[Turn(T0, minutes(10))], resolved=60, sla=SlaOutcome.MET, mood=0.5, shifts=1),
    )
    add_case(
        figures,
        case(
            turns=[Turn(T0, minutes(30)), Turn(minutes(40), minutes(50))],
            sla=SlaOutcome.BREACHED,
        ),
    )
    add_case(figures, case(turns=[Turn(T0, None)], sla=SlaOutcome.PENDING, mood=-0.25))
    add_case(figures, case(task=False, resolved=5, sla=SlaOutcome.NONE))  # chatter, closed
    out = figures.summary()
    assert out["conversations"] == 4 and out["needing_response"] == 3 and out["answered"] == 2
    assert out["response_rate"] == pytest.approx(0.6667)
    assert out["first_response_p50"] == 1200  # 10 and 30 min
    assert out["first_response_p90"] == 1680
    assert (out["next_responses"], out["next_response_p50"]) == (1, 600)
    assert (out["resolved"], out["resolution_p50"]) == (2, 1950)  # 5 and 60 min
    # Pending outcomes are neither success nor failure yet.
    assert (out["sla_met"], out["sla_breached"], out["sla_pending"]) == (1, 1, 1)
    assert out["sla_attainment"] == 0.5
    assert (out["sentiment_cases"], out["sentiment_change_mean"]) == (2, 0.125)
    assert (out["channel_shifts"], out["kb_links_sent"], out["kb_links_opened"]) == (1, 1, 0)
    assert out["handling_p50"] == 60
    assert Figures().summary()["sla_attainment"] is None


def test_the_tally_counts_each_row_in_the_total_its_breakdowns_and_its_bucket() -> None:
    span = report_range(date(2026, 11, 23), date(2026, 11, 24), "Europe/Paris")
    tally = ReportTally(span, "day")
    labels = {"channel": "x", "team": "Care", "agent": "Ana", "topic": "billing"}
    tally.add_message(inbound=True, at=minutes(0), labels=labels)
    tally.add_message(inbound=False, at=datetime(2026, 11, 23, 23, 30, tzinfo=UTC), labels=labels)
    tally.add_case(case(turns=[Turn(T0, minutes(10))], sla=SlaOutcome.MET))
    assert (tally.total.inbound, tally.total.outbound, tally.total.conversations) == (1, 1, 1)
    assert tally.breakdowns["kind"]["none"].inbound == 1  # a missing label is "none"
    assert tally.breakdowns["agent"]["Ana"].first_response.tolist() == [600.0]
    assert list(tally.buckets) == ["2026-11-23", "2026-11-24"]
    assert tally.buckets["2026-11-23"].inbound == 1
    assert tally.buckets["2026-11-24"].outbound == 1  # 00:30 in Paris


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+44 7700", "'+44 7700"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("my router", "my router"),
        ("", ""),
    ],
)
def test_spreadsheet_safe_text(text: str, safe: str) -> None:
    assert spreadsheet_safe(text) == safe
