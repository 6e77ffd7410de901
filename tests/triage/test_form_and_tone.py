"""Day one reads a post's form and tone: whom it is written to, and how negative it is.

Every text here was written for these tests.
"""

from __future__ import annotations

import numpy as np
import pytest

from socialdesk.triage.address import read_address
from socialdesk.triage.classifier import ModelSet, analyse, triage_batch
from socialdesk.triage.linear import fit_linear
from socialdesk.triage.result import TriageResult
from socialdesk.triage.sentiment import failure_cues
from socialdesk.triage.text import prepare


def one(text: str) -> TriageResult:
    return triage_batch([text], ModelSet())[0]


@pytest.mark.parametrize(
    "text",
    [
        "Acme unveils a new tablet line ahead of the holidays $ACME http://t.co/abc",
        "RT @AcmeNews: Acme opens ten new stores this spring http://t.co/xyz",
        "Acme shares slide after the court ruling on its patents http://t.co/q1",
    ],
)
def test_a_shared_headline_is_a_broadcast_that_takes_no_agent(text: str) -> None:
    assert read_address(prepare(text)).broadcast
    result = one(text)
    assert result.kind not in ("complaint", "question", "request", "suggestion")
    assert result.needs_response < 0.5
    assert result.route_to != "care"


@pytest.mark.parametrize(
    "text",
    [
        "@AcmeCare my order never arrived http://t.co/photo",
        "I paid twice for the same order, look http://t.co/receipt",
        "your app logs me out every hour http://t.co/video",
    ],
)
def test_a_post_with_a_link_written_to_the_brand_or_about_me_is_no_broadcast(
    text: str,
) -> None:
    assert not read_address(prepare(text)).broadcast


def test_whom_a_post_is_written_to() -> None:
    addressed = read_address(prepare("@AcmeCare where is my parcel"))
    assert addressed.to_someone and addressed.first_person and not addressed.second_person
    assert read_address(prepare("you lost my bag")).second_person
    assert not read_address(prepare("what a lovely sunny morning")).to_someone


def test_everyday_words_state_a_failure_only_in_a_post_written_to_someone() -> None:
    chatter = "lost my keys again this morning, classic monday"
    assert failure_cues(chatter, addressed=False) == []
    assert set(failure_cues(chatter, addressed=True)) >= {"lost", "again"}
    # Plain failures say so wherever they stand.
    assert failure_cues("the parcel never arrived", addressed=False) == ["never arrived"]


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("the app won't open since the update", "won't open"),
        ("my router can't connect at all", "can't connect"),
        ("the card reader does not work", "does not work"),
    ],
)
def test_negation_over_what_a_product_should_do_is_a_failure(text: str, cue: str) -> None:
    assert cue in failure_cues(text, addressed=False)


def test_positive_words_without_a_negation_state_no_failure() -> None:
    assert failure_cues("the app opens fast and works well", addressed=False) == []


def test_chatter_with_failure_words_is_no_complaint() -> None:
    result = one("lost my keys again this morning, classic monday")
    assert result.kind != "complaint"
    assert result.needs_response < 0.5


@pytest.mark.parametrize(
    "text",
    [
        "@AcmeCare why is my parcel delayed again? nobody tells me anything",
        "@AcmeCare my router won't connect, what do I do?",
        "@AcmeCare can you fix your app? it won't open since the update",
    ],
)
def test_a_question_about_a_failure_to_the_brand_is_a_complaint(text: str) -> None:
    result = one(text)
    assert result.kind == "complaint"
    assert result.sentiment == "negative"
    assert result.route_to == "care"
    assert result.needs_response >= 0.5


def test_a_plain_question_stays_a_question() -> None:
    result = one("@AcmeCare is the store in Leeds open on Sunday?")
    assert result.kind == "question"
    assert result.sentiment == "neutral"


def test_praise_words_around_failures_are_sarcasm_and_a_complaint() -> None:
    result = one("@AcmeCare love how you lost my bag and cancelled my flight, great job")
    assert result.kind == "complaint"
    assert result.route_to == "care"


def test_a_model_calibrated_out_of_fold_is_less_sure_of_what_it_was_trained_on() -> None:
    # Annotators disagree on some posts: the same kind of words under either label. A model
    # fits such a training set almost perfectly, so its own margins say it is always right.
    texts = [
        "my parcel never arrived",
        "the bill is wrong again",
        "thanks so much for the help",
        "great service today",
        "the app crashes on start",
        "love the new design",
        "still waiting for my refund",
        "you were brilliant, thank you",
        "no signal for two days",
        "amazing support as always",
        "ok then, see how it goes",
        "fine, we will wait and see",
        "well that was something",
        "interesting day at the shop",
        "the store was busy today",
        "the queue was long today",
    ]
    labels = ["neg", "neg", "pos", "pos", "neg", "pos", "neg", "pos", "neg", "pos"]
    labels += ["neg", "pos", "pos", "neg", "neg", "pos"]
    batch = analyse(texts).features
    in_sample = fit_linear("sentiment", batch, labels, c=1.0)
    out_of_fold = fit_linear("sentiment", batch, labels, c=1.0, calibration_folds=4)
    cooled, sure = out_of_fold.meta["temperature"], in_sample.meta["temperature"]
    assert isinstance(cooled, float) and isinstance(sure, float)
    assert cooled < sure
    sure_in_sample = in_sample.scores(batch).max(axis=1)
    sure_out_of_fold = out_of_fold.scores(batch).max(axis=1)
    assert np.all(sure_out_of_fold < sure_in_sample)
    # The weights are the same SVM's: only the temperature differs, so the answers agree.
    assert np.array_equal(
        in_sample.scores(batch).argmax(axis=1), out_of_fold.scores(batch).argmax(axis=1)
    )


@pytest.mark.parametrize(
    ("text", "sentiment"),
    [
        ("Acme shares tumble after a weak quarter", "negative"),
        ("Globex stock soars on record orders", "positive"),
    ],
)
def test_market_news_has_a_tone_but_asks_no_agent(text: str, sentiment: str) -> None:
    result = one(text)
    assert result.sentiment == sentiment
    assert result.kind == "other"
    assert result.needs_response < 0.5
