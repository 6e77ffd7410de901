"""Listening rules: what a rule matches, and the rules that are refused with their reason."""

from __future__ import annotations

from typing import Any

import pytest

from socialdesk.core.errors import InvalidInput
from socialdesk.listening.rules import (
    CompiledRule,
    RuleSpec,
    addressed_to_us,
    compile_rule,
    matching_rules,
    validate,
    x_search_query,
)


def rule(rule_id: int = 1, name: str = "Brand", **fields: Any) -> CompiledRule:
    return compile_rule(rule_id, validate(RuleSpec(name=name, **fields)))


def test_names_and_phrases_match_on_word_boundaries_whatever_the_case() -> None:
    acme = rule(terms=["Acme", "acme fiber"])
    assert acme.matches("Is ACME down for everyone?")
    assert acme.matches("my acme   fiber box blinks red")
    assert not acme.matches("acmeville fair this weekend")


def test_a_trailing_star_matches_word_beginnings_and_slashes_give_a_regex() -> None:
    assert rule(terms=["acme*"]).matches("acmephone broke")
    assert rule(terms=[r"/acme\s?one/"]).matches("AcmeOne is great")


def test_hashtags_and_handles_match_as_tokens() -> None:
    r = rule(hashtags=["AcmeDown"], handles=["@acme_care"])
    assert r.matches("again?! #acmedown")
    assert r.matches("cc @Acme_Care please")
    assert not r.matches("#acmedownload is a different tag")


def test_exclusions_and_languages_narrow_a_rule() -> None:
    r = rule(terms=["acme"], exclusions=["acme corp careers", "wile"], languages=["en"])
    assert r.matches("acme lost my order", "en")
    assert not r.matches("Wile E. Coyote buys acme rockets", "en")
    assert not r.matches("acme a perdu ma commande", "fr")


def test_matching_returns_every_rule_that_matched() -> None:
    rules = [rule(1, name="a", terms=["acme"]), rule(2, name="b", hashtags=["#acmedown"])]
    assert matching_rules(rules, "acme is out #AcmeDown") == [1, 2]
    assert matching_rules(rules, "nothing to see") == []


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({}, "would match everything"),
        ({"terms": [""]}, "would match everything"),
        ({"terms": ["*"]}, "would match everything"),
        ({"terms": ["/.*/"]}, "would match everything"),
        ({"terms": ["/(unclosed/"]}, "not a valid pattern"),
        ({"terms": ["ac*me"]}, "only at the end of a word"),
        ({"hashtags": ["#"]}, "is not a hashtag"),
        ({"handles": ["@not a handle"]}, "is not a handle"),
        ({"terms": ["acme"], "languages": ["english"]}, "two- or three-letter"),
        ({"terms": ["acme"], "exclusions": ["*"]}, "would match everything"),
    ],
)
def test_a_bad_rule_is_refused_with_the_reason(fields: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        validate(RuleSpec(name="bad", **fields))


def test_a_message_to_us_is_not_a_mention() -> None:
    ours = ["@AcmeCare"]
    assert addressed_to_us("@acmecare my router is dead", "public", ours)
    assert addressed_to_us("my router is dead", "private", ours)
    assert not addressed_to_us("acme routers are all dead", "public", ours)


def test_the_x_search_query_ors_the_rules_and_keeps_within_the_limit() -> None:
    rules = [
        validate(RuleSpec(name="a", terms=["acme fiber", "acme*"], exclusions=["careers"])),
        validate(RuleSpec(name="b", hashtags=["AcmeDown"], terms=["/re+gex/"])),
    ]
    query = x_search_query(rules)
    assert query == '("acme fiber" OR acme OR #acmedown) -careers -is:retweet'
    assert len(x_search_query(rules * 50, max_length=60)) <= 60
