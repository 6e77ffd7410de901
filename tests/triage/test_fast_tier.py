"""The fast tier triages any text, with a reason for every result, before any training."""

from __future__ import annotations

import pytest

from socialdesk.triage.classifier import ModelSet, triage_batch
from socialdesk.triage.labels import KINDS, ROUTES, SENTIMENTS
from socialdesk.triage.result import MessageContext
from socialdesk.triage.seed_models import SEED_VERSION
from socialdesk.triage.taxonomies import DEFAULT_TAXONOMIES


def one(text: str, **kwargs: object) -> object:
    return triage_batch([text], **kwargs)[0]  # type: ignore[arg-type]


def test_a_complaint_with_threats_needs_care_and_is_severe() -> None:
    result = triage_batch(
        ["my internet is down AGAIN, third time this week. switching to another provider"]
    )[0]
    assert result.kind == "complaint"
    assert result.route_to == "care"
    assert result.needs_response >= 0.8
    assert result.sentiment == "negative"
    assert {"outage", "repeat_contact", "churn_threat"} <= set(result.signals)
    assert result.severity >= 3
    assert result.language == "en"
    assert result.explanation


def test_praise_goes_to_marketing_and_needs_no_agent() -> None:
    result = triage_batch(["thank you so much, the team was brilliant today!"])[0]
    assert result.kind == "praise"
    assert result.sentiment == "positive"
    assert result.sentiment_score > 0.3
    assert result.route_to == "marketing"
    assert result.needs_response < 0.5


def test_spam_and_marketing_never_reach_the_care_queue() -> None:
    spam, contest = triage_batch(
        [
            "make money fast from home, click the link in my bio",
            "entering the giveaway, retweet to win a free phone",
        ]
    )
    assert spam.kind == "spam" and spam.route_to == "none" and spam.needs_response < 0.5
    assert contest.kind == "marketing" and contest.route_to == "marketing"


def test_a_question_and_a_sales_lead_are_told_apart() -> None:
    question, lead = triage_batch(
        [
            "how do I change the email address on my account?",
            "how much is your fibre plan? thinking of switching to you",
        ]
    )
    assert question.kind == "question" and question.route_to == "care"
    assert lead.kind == "sales_lead" and lead.route_to == "sales"
    assert "churn_threat" not in lead.signals


def test_safety_is_the_highest_severity_whatever_the_kind() -> None:
    result = triage_batch(["I smell gas in the kitchen since the meter was changed"])[0]
    assert result.severity == 4
    assert result.signals["safety"] == ["smell gas"]
    assert result.route_to == "care"
    assert result.needs_response >= 0.8


def test_legal_threat_and_vulnerable_customer_are_flagged() -> None:
    result = triage_batch(
        ["my elderly mother has had no heating for a week, I will contact my lawyer"]
    )[0]
    assert "legal_threat" in result.signals
    assert "vulnerable_customer" in result.signals
    assert result.severity >= 3


def test_shouting_and_abuse_are_signals() -> None:
    result = triage_batch(["WHERE IS MY REFUND YOU USELESS PEOPLE"])[0]
    assert "shouting" in result.signals
    assert result.signals["abuse"] == ["useless"]


def test_earlier_contacts_from_the_pipeline_mark_a_repeat_contact() -> None:
    first, repeat = triage_batch(
        ["my order has not arrived", "my order has not arrived"],
        contexts=[MessageContext(), MessageContext(earlier_contacts=2)],
    )
    assert "repeat_contact" not in first.signals
    assert repeat.signals["repeat_contact"] == ["2 earlier contacts"]
    assert repeat.severity >= first.severity


def test_topics_come_from_the_workspace_taxonomy() -> None:
    airline = ModelSet(taxonomy=DEFAULT_TAXONOMIES["airline"])
    telecom = ModelSet(taxonomy=DEFAULT_TAXONOMIES["telecom"])
    text = "my flight was delayed five hours and then they lost my luggage"
    assert one(text, models=airline).topic in ("late_trip", "lost_baggage")  # type: ignore[attr-defined]
    assert one("the router has no signal since monday", models=telecom).topic == "outage"  # type: ignore[attr-defined]
    assert one("nice weather", models=telecom).topic is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text",
    ["", "   ", "😀😡🔥", "https://example.com/a?b=c", "@acme @bob", "@acme https://x.co/1 😀"],
)
def test_text_without_words_gets_a_defined_result(text: str) -> None:
    result = triage_batch([text])[0]
    assert result.kind == "other"
    assert result.language == "und"
    assert result.route_to == "none"
    assert result.needs_response < 0.1
    assert result.topic is None
    assert result.sentiment in SENTIMENTS


def test_emoji_still_carry_sentiment() -> None:
    assert triage_batch(["😞😞"])[0].sentiment == "negative"


def test_a_language_without_seeds_is_identified_and_left_to_a_person() -> None:
    russian, japanese = triage_batch(
        ["у меня третий день не работает интернет", "荷物がまだ届いていません"]
    )
    assert russian.language == "ru"
    assert japanese.language == "ja"
    for result in (russian, japanese):
        assert result.kind == "other"
        assert result.route_to == "care"
        assert result.needs_response == 0.5


def test_long_and_mixed_script_text_is_handled() -> None:
    long_text = "my bill is wrong. " * 600  # 10,800 characters
    mixed = "hello 你好 привет مرحبا my router is broken"
    results = triage_batch([long_text, mixed, "x" * 10_000])
    assert results[0].kind == "complaint"
    assert results[0].topic == "billing"
    assert all(r.kind in KINDS and r.route_to in ROUTES for r in results)
    assert all(0 <= r.severity <= 4 and -1 <= r.sentiment_score <= 1 for r in results)


def test_every_result_names_the_models_that_made_it() -> None:
    result = triage_batch(["where is my parcel?"])[0]
    assert result.model_versions["kind"] == SEED_VERSION
    assert result.model_versions["sentiment"] == SEED_VERSION
    assert result.model_versions["topic"] == "rules"
    data = result.to_dict()
    assert data["confidence"] == result.kind_confidence
    assert set(data) >= {"kind", "needs_response", "route_to", "signals", "explanation"}


def test_an_empty_batch_gives_no_results() -> None:
    assert triage_batch([]) == []
