"""Valence lexicons beside VADER, and the day-one rules' doubt. Texts written for these tests."""

from __future__ import annotations

import pytest

from socialdesk.triage.address import Address
from socialdesk.triage.classifier import ModelSet, _day_one_kind, triage_batch
from socialdesk.triage.rules import asks, kind_evidence
from socialdesk.triage.sentiment import vader_scores
from socialdesk.triage.valence import valence_scores

TO_BRAND = Address(to_someone=True, second_person=False, first_person=False, broadcast=False)
UNADDRESSED = Address(to_someone=False, second_person=False, first_person=False, broadcast=False)


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("the new app is garbage", -1),
        ("the checkout is so glitchy", -1),
        ("all sorted now, cheers", 1),
        ("Acme stock soars after the launch", 1),
        ("Acme stock plunges after the recall", -1),
    ],
)
def test_care_and_market_words_carry_valence_in_vader(text: str, sign: int) -> None:
    assert vader_scores(text)["compound"] * sign > 0.2


def test_joke_is_a_complaint_word_in_care_not_a_happy_one() -> None:
    assert vader_scores("your service is a joke")["compound"] < 0


@pytest.mark.parametrize(
    ("words", "language"),
    [
        ("es muy bueno", "es"),
        ("c'est vraiment génial", "fr"),
        ("das ist klasse", "de"),
        ("adorei o atendimento", "pt"),
        ("الخدمة ممتازة", "ar"),
    ],
)
def test_each_seed_language_reads_praise_as_positive(words: str, language: str) -> None:
    assert valence_scores(words.split(), language)["compound"] > 0.3


def test_a_negator_flips_and_damps_the_word_after_it() -> None:
    plain = valence_scores(["es", "bueno"], "es")["compound"]
    negated = valence_scores(["no", "es", "bueno"], "es")["compound"]
    assert plain > 0 > negated
    assert abs(negated) < plain


def test_an_intensifier_strengthens_a_word() -> None:
    plain = valence_scores(["schlecht"], "de")["compound"]
    stronger = valence_scores(["sehr", "schlecht"], "de")["compound"]
    assert stronger < plain < 0


def test_an_arabic_word_is_read_through_its_clitics() -> None:
    # "and excellent" and "with the slowness" are one written word each.
    assert valence_scores(["وممتاز"], "ar")["compound"] > 0


def test_thanks_around_a_request_is_politeness_not_praise() -> None:
    assert valence_scores(["gracias"], "es")["compound"] > 0
    request = ["por", "favor", "necesito", "cambiar", "la", "tarjeta", "gracias"]
    assert valence_scores(request, "es")["compound"] == 0


def test_german_words_are_not_read_as_english_ones() -> None:
    # VADER alone reads "die" as the English verb, strongly negative.
    assert vader_scores("Die neue App ist klasse")["compound"] < 0
    result = triage_batch(["Die neue App ist klasse, läuft viel schneller"], ModelSet())[0]
    assert result.language == "de"
    assert result.sentiment == "positive"
    assert result.kind != "complaint"


@pytest.mark.parametrize(
    "text", ["متى يفتح الفرع يوم السبت؟", "¿A qué hora abrís?", "営業時間は？"]
)
def test_a_question_mark_of_any_script_asks(text: str) -> None:
    assert asks(text)
    assert "question" in kind_evidence(text, 0.0, 0)


def test_a_complaint_that_states_no_failure_in_a_neutral_tone_is_doubtful() -> None:
    decided = _day_one_kind("complaint", TO_BRAND, 0.1, [], english=True)
    assert decided is not None
    kind, note, doubtful = decided
    assert (kind, doubtful) == ("other", True)
    assert "doubtful" in note
    # Not written to anyone: chatter, nobody needs to look.
    assert _day_one_kind("complaint", UNADDRESSED, 0.1, [], english=True) == (
        "other",
        "no failure and no negative tone: not a complaint",
        False,
    )


@pytest.mark.parametrize(
    ("negative", "failures", "english"),
    [(0.6, [], True), (0.1, ["never arrived"], True), (0.1, [], False)],
)
def test_a_complaint_with_a_failure_a_negative_tone_or_in_another_language_stays(
    negative: float, failures: list[str], english: bool
) -> None:
    assert _day_one_kind("complaint", TO_BRAND, negative, failures, english=english) is None


@pytest.mark.parametrize(
    "text", ["@AcmeCare the parcel is here", "@AcmeCare the engineer came at 3"]
)
def test_a_doubtful_post_goes_to_a_person_in_care(text: str) -> None:
    result = triage_batch([text], ModelSet())[0]
    assert any(line.startswith("doubtful") for line in result.explanation)
    assert result.kind == "other"
    assert result.route_to == "care"
    assert result.needs_response == 0.5
