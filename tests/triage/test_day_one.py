"""Day one: a fresh workspace, no labels of its own, triaged by the seed models (fast tier)."""

from __future__ import annotations

import pytest

from socialdesk.triage.classifier import ModelSet, triage_batch
from socialdesk.triage.result import MessageContext, TriageResult
from socialdesk.triage.seed_models import seed_texts
from socialdesk.triage.seeds import parse_seeds, seed_examples, seed_languages
from socialdesk.triage.taxonomies import DEFAULT_TAXONOMIES

TELECOM = ModelSet(taxonomy=DEFAULT_TAXONOMIES["telecom"])


def one(text: str, models: ModelSet = TELECOM) -> TriageResult:
    return triage_batch([text], models)[0]


def test_chatter_about_traffic_is_not_a_complaint_to_the_brand() -> None:
    result = one("who else is stuck in traffic in York")
    assert result.kind == "other"
    assert result.needs_response < 0.5
    assert result.route_to == "none"


@pytest.mark.parametrize(
    "text",
    ["shout out to the agent who sorted my router in 5 minutes", "thnak you, all fixed!"],
)
def test_thanks_for_a_fix_is_praise_for_marketing_not_a_complaint(text: str) -> None:
    result = one(text)
    assert result.kind == "praise"
    assert result.sentiment != "negative"
    assert result.needs_response < 0.5
    assert result.route_to == "marketing"


def test_dating_spam_takes_no_agent() -> None:
    result = one("hot singles in York want to meet you")
    assert result.kind == "spam"
    assert result.needs_response < 0.5
    assert result.route_to == "none"


def test_a_business_moving_its_lines_over_is_a_sales_lead_for_sales() -> None:
    result = one("move my whole office (12 lines) over to you")
    assert result.kind == "sales_lead"
    assert result.route_to == "sales"


@pytest.mark.parametrize("text", ["internet down", "my internet is down again"])
def test_internet_down_is_an_outage_complaint_in_the_telecom_taxonomy(text: str) -> None:
    result = one(text)
    assert result.kind == "complaint"
    assert result.topic == "outage"
    assert result.route_to == "care"
    assert result.needs_response >= 0.5


# Written for this test, not seeds: each language's complaint, thanks and question.
NON_ENGLISH = [
    ("es", "Me cobraron dos veces la factura de este mes, qué vergüenza", "billing"),
    ("fr", "On m'a facturé deux fois ce mois-ci, c'est honteux", "billing"),
    ("de", "Seit gestern kein Internet, eine Frechheit", "outage"),
    ("pt", "Estou sem internet desde ontem, que vergonha", "outage"),
    ("ar", "الإنترنت مقطوع من أمس، خدمة سيئة جدا", "outage"),
]


@pytest.mark.parametrize(("language", "text", "topic"), NON_ENGLISH)
def test_a_non_english_complaint_gets_kind_sentiment_and_topic(
    language: str, text: str, topic: str
) -> None:
    result = one(text)
    assert result.language == language
    assert result.kind == "complaint"
    assert result.sentiment == "negative"
    assert result.topic == topic
    assert result.route_to == "care"
    assert result.needs_response >= 0.5


THANKS = [
    ("es", "Muchísimas gracias, ya está todo arreglado"),
    ("fr", "Merci beaucoup, tout est réparé"),
    ("de", "Vielen Dank, jetzt läuft alles wieder"),
    ("pt", "Muito obrigado, já está tudo resolvido"),
    ("ar", "شكرا جزيلا، خدمة ممتازة"),
]


@pytest.mark.parametrize(("language", "text"), THANKS)
def test_non_english_thanks_are_positive_praise(language: str, text: str) -> None:
    result = one(text)
    assert result.language == language
    assert result.kind == "praise"
    assert result.sentiment == "positive"


def test_arabic_is_not_read_as_neutral() -> None:
    negative, positive = triage_batch(["خدمة سيئة جدا، أسوأ شركة", "شكرا لكم، خدمة رائعة"])
    assert negative.sentiment == "negative"
    assert positive.sentiment == "positive"


def test_the_seeds_cover_every_kind_in_hundreds_and_five_languages_beside_english() -> None:
    seeds = seed_examples()
    english = [s for s in seeds if s.language == "en"]
    assert len(english) >= 800
    for kind in ("complaint", "question", "request", "praise", "other"):
        assert sum(s.kind == kind for s in english) >= 60
    assert {"en", "es", "fr", "de", "pt", "ar"} <= seed_languages()
    for language in ("es", "fr", "de", "pt", "ar"):
        ours = [s for s in seeds if s.language == language]
        assert len(ours) >= 60
        assert {s.kind for s in ours} >= {"complaint", "question", "request", "praise", "other"}


def test_a_share_of_every_kind_of_seed_is_read_as_addressed_to_the_brand() -> None:
    seeds = seed_examples()
    texts = seed_texts(seeds)
    for kind in ("complaint", "other"):
        addressed = [t.startswith("@") for s, t in zip(seeds, texts, strict=True) if s.kind == kind]
        assert 0 < sum(addressed) < len(addressed)


def test_a_malformed_seed_line_names_its_file_and_line() -> None:
    with pytest.raises(ValueError, match=r"x\.txt:2"):
        parse_seeds("# comment\ncomplaint|angry|text\n", "en", "x.txt")
    assert parse_seeds("praise|positive|a | b\n", "en")[0].text == "a | b"


def test_a_private_message_is_meant_for_the_brand_whatever_its_words() -> None:
    public, private = triage_batch(
        ["lol what a day"] * 2, TELECOM, [MessageContext(), MessageContext(private=True)]
    )
    assert public.route_to == "none" and public.needs_response < 0.5
    assert private.route_to == "care" and private.needs_response >= 0.5
