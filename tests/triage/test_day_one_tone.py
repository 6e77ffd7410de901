"""Day-one sentiment on product talk: slang, swearing, wishes said as complaints, news.

Every text here was written for these tests (none comes from a public data set).
"""

from __future__ import annotations

import pytest

from socialdesk.triage.classifier import TONE_WEIGHTS, ModelSet, _tone_weights, triage_batch
from socialdesk.triage.seeds import seed_examples
from socialdesk.triage.sentiment import failure_cues, vader_scores

LABELS = ("negative", "neutral", "positive")


def sentiments(texts: list[str]) -> list[str]:
    return [r.sentiment for r in triage_batch(texts, ModelSet())]


def test_words_vader_reads_as_feelings_are_manners_or_emphasis_in_care() -> None:
    # VADER rates "honestly" +2.0 and "please" +1.3, so "honestly this phone sucks" came out
    # positive and every polite request leaned positive.
    assert vader_scores("honestly this phone sucks")["compound"] < 0
    assert vader_scores("please fix it")["compound"] == 0.0
    # Slang for a product at fault has a rating of its own.
    for text in ("my tablet is bricked", "this cable is junk", "what the frick"):
        assert vader_scores(text)["compound"] < 0, text


def test_a_broadcast_leans_neutral_and_a_post_written_to_someone_does_not() -> None:
    broadcast = _tone_weights(LABELS, "broadcast")
    spoken = _tone_weights(LABELS, "spoken")
    assert broadcast[1] > spoken[1]
    assert spoken[0] >= spoken[2]  # praise words come easily in a post to a brand
    assert set(TONE_WEIGHTS) == {"broadcast", "spoken"}


@pytest.mark.parametrize(
    "text",
    [
        "@AcmePhones honestly this handset sucks",
        "@AcmePhones please fix your charger, it snapped again",
        "what the frick, my tablet is bricked after the update @AcmeTech",
        "@AcmeTech make a laptop battery that survives a train ride",
        "another update? really? my phone is slower every time @AcmePhones",
        "not impressed with the new headset at all, the mic is junk",
        "RT @a: Hey @AcmeCare why is my phone dying on the charger",
    ],
)
def test_rants_wishes_and_slang_about_a_product_are_negative(text: str) -> None:
    assert sentiments([text]) == ["negative"]


@pytest.mark.parametrize(
    "text",
    [
        "Justice officials want Acme to open a locked handset, court filing shows http://t.co/n2",
        "RT @gadgetwire: Acme wins a patent fight over its keyboards http://t.co/n5",
        "Acme to release its smart speaker in March, report says http://t.co/n4",
        "Acme stock: what to watch before Thursday's earnings $ACME http://t.co/n7",
        "@AcmePhones does the new model come in green?",
    ],
)
def test_news_tickers_and_plain_questions_are_neutral(text: str) -> None:
    assert sentiments([text]) == ["neutral"]


@pytest.mark.parametrize(
    "text",
    [
        "not bad at all @AcmeTech, the repair took ten minutes",
        "the Acme store team sorted my laptop in minutes, legends",
    ],
)
def test_praise_in_negated_or_slang_words_is_positive(text: str) -> None:
    assert sentiments([text]) == ["positive"]


def test_the_tone_seeds_cover_each_label_with_hard_cases() -> None:
    tone = [s for s in seed_examples() if "bricked my tablet" in s.text or "not bad" in s.text]
    assert {s.sentiment for s in tone} == {"negative", "positive"}


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("is your website down? I haven't been able to check in", "haven't been able"),
        ("the payment is not going through on the app", "not going through"),
        ("a two hour wait for our bags at the carousel", "hour wait"),
        ("I can't book a seat on the site", "can't book"),
        ("I missed my connection because of the late crew", "missed my connection"),
    ],
)
def test_a_failure_told_as_what_the_customer_could_not_do(text: str, cue: str) -> None:
    assert cue in failure_cues(text, addressed=False)


def test_thanks_state_no_failure() -> None:
    assert failure_cues("thank you, the new seats are lovely", addressed=False) == []
