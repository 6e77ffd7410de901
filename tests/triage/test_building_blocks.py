"""The pure pieces under the fast tier: lexicon gating, metrics, splits, labels, model files."""

from __future__ import annotations

import numpy as np
import pytest

from socialdesk.core.errors import InvalidInput
from socialdesk.triage import rules, signals
from socialdesk.triage.classifier import analyse
from socialdesk.triage.lexicon import Lexicon
from socialdesk.triage.linear import LinearModel, fit_linear
from socialdesk.triage.metrics import classification_report
from socialdesk.triage.taxonomies import DEFAULT_TAXONOMIES, taxonomy_from_dict
from socialdesk.triage.text import prepare
from socialdesk.triage.training import stratified_split

TEXTS = [
    "I smell gas and my lawyer says we will sue",
    "Switching to another provider, cancel my contract",
    "can't afford the bill after I lost my job",
    "WHY IS THE APP DOWN AGAIN",
    "the re-booking fee was a rip-off, check-in staff were rude",
    "thanks!! you rock, shout out to the crew",
    "how much is the fibre plan in my area? dm me the promo code",
    "my elderly mum's heating stopped working, she uses oxygen at home",
    "it's the third time I've called, still no reply after weeks",
    "f*ck this, useless morons",
]


def _all_lexicons() -> list[Lexicon]:
    lexicons: list[Lexicon] = list(signals.CUES.values())
    lexicons += [lexicon for lexicon, _ in rules.KIND_CUES.values()]
    lexicons += [Lexicon(["Wi-Fi", r"re:\bDOWN\b", "re:[A-Z]+ sign"])]
    for taxonomy in DEFAULT_TAXONOMIES.values():
        lexicons += list(taxonomy._lexicons.values())
    return lexicons


@pytest.mark.parametrize("text", TEXTS)
def test_skipping_texts_that_cannot_match_never_loses_a_cue(text: str) -> None:
    prepared = prepare(text)
    for lexicon in _all_lexicons():
        assert lexicon.findall(prepared.body, prepared.prefixes) == lexicon.findall(
            prepared.body
        ), lexicon.pattern.pattern[:80]


@pytest.mark.parametrize(
    "text",
    [
        *TEXTS,
        "I SMELL GAS and my Lawyer says we will SUE",
        "my grandma's oxygen machine, the Wi-Fi is DOWN again",
        "crème brûlée was COLD, DELAYED flights",
        "İstanbul flight cancelled, KELVIN K sign",
    ],
)
def test_lexicons_find_the_cues_a_case_blind_regex_finds(text: str) -> None:
    # ASCII text is matched lower-cased with a case-sensitive pattern, the rest case-blind.
    for lexicon in _all_lexicons():
        case_blind = list(dict.fromkeys(h.lower() for h in lexicon.pattern.findall(text)))
        assert lexicon.findall(text) == case_blind, lexicon.pattern.pattern[:80]


def test_a_classification_report_counts_like_a_person_would() -> None:
    gold = ["neg", "neg", "neg", "pos", "pos", "neu"]
    predicted = ["neg", "neg", "pos", "pos", "neg", "neg"]
    report = classification_report(gold, predicted)
    assert report["accuracy"] == 0.5
    assert report["per_class"]["neg"] == {
        "precision": 0.5,
        "recall": 0.6667,
        "f1": 0.5714,
        "support": 3,
    }
    assert report["per_class"]["pos"]["f1"] == 0.5
    assert report["per_class"]["neu"]["f1"] == 0.0
    assert report["macro_f1"] == round((0.5714 + 0.5 + 0.0) / 3, 4)
    assert report["macro_recall"] == round((0.6667 + 0.5 + 0.0) / 3, 4)
    assert report["labels"] == ["neg", "neu", "pos"]
    assert report["confusion_matrix"] == [[2, 0, 1], [1, 0, 0], [1, 0, 1]]


def test_a_stratified_split_keeps_every_label_on_both_sides() -> None:
    labels = ["a"] * 10 + ["b"] * 5 + ["c"] * 2
    train, test = stratified_split(labels, 0.8)
    assert sorted(train + test) == list(range(17))
    assert [labels[i] for i in train].count("a") == 8
    assert {labels[i] for i in test} == {"a", "b", "c"}
    with pytest.raises(InvalidInput):
        stratified_split(labels, 1.0)


def test_a_model_survives_its_file_format_without_pickles() -> None:
    texts = ["great thanks", "love it", "awful delay", "terrible service", "so good", "bad app"]
    labels = ["pos", "pos", "neg", "neg", "pos", "neg"]
    batch = analyse(texts).features
    model = fit_linear("sentiment", batch, labels)
    loaded = LinearModel.from_bytes(model.to_bytes())
    assert loaded.classes == ("neg", "pos")
    assert np.allclose(loaded.scores(batch), model.scores(batch), atol=1e-5)
    assert [loaded.classes[i] for i in loaded.scores(batch).argmax(axis=1)] == labels
    with pytest.raises(InvalidInput):
        fit_linear("sentiment", batch, ["pos"] * 6)


def test_a_custom_taxonomy_needs_topics_with_ids() -> None:
    taxonomy = taxonomy_from_dict(
        {"name": "bakery", "topics": [{"id": "bread", "cues": ["loaf", "sourdough*"]}]}
    )
    assert taxonomy.match("the sourdoughs were stale") == {"bread": ["sourdoughs"]}
    with pytest.raises(InvalidInput):
        taxonomy_from_dict({"topics": [{"cues": ["x"]}]})
    with pytest.raises(InvalidInput):
        taxonomy_from_dict({"topics": []})
